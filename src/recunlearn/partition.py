"""Balanced data partitions (docs/guide/method.md, section 6): random (SISA), ubp, ibp, inbp (RecEraser), bekm (GraphEraser).

Every function returns the shard id of every training interaction (a disjoint cover of the training set) and
a dict of facts (rounds run, whether assignments converged). ``partition`` dispatches by name and adds the
shard statistics. The capped nearest-first greedy assignment is computed by deferred acceptance (every unit
proposes to its nearest shard that has not refused it, each shard keeps its ``cap`` nearest proposers), which
equals the greedy over globally sorted (unit, anchor) pairs and needs only a per-row sort of K distances.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import torch

from .data import Interactions
from .registry import PARTITIONS, lookup, resolve

log = logging.getLogger(__name__)



def capped_assignment(dist, cap: int, overwrite: bool = False) -> np.ndarray:
    """Assign each of n units (rows of ``dist`` [n, K]) to a shard, nearest first, at most ``cap`` per shard.

    Deferred acceptance, vectorised (torch, multi-threaded): every free unit proposes to its nearest shard that
    has not refused it; a shard with room accepts all its proposers, a shard that would overflow keeps its ``cap``
    nearest candidates (held plus new) and refuses the rest, who propose again. The loop runs over proposal
    rounds and overflowing shards, never over units. ``overwrite`` lets it use ``dist`` as scratch space.
    """
    work = torch.as_tensor(dist)
    n, k = work.shape
    if cap * k < n:
        raise ValueError(f"cap {cap} x {k} shards < {n} units: no capped assignment exists")
    if not overwrite:
        work = work.clone()
    shard = torch.full((n,), -1, dtype=torch.int64)
    held_d = torch.zeros(n, dtype=work.dtype)
    size = torch.zeros(k, dtype=torch.int64)
    units = torch.arange(n)
    first = True
    while len(units):
        d, choice = (work if first else work[units]).min(dim=1)
        work[units, choice] = torch.inf  # a refused (or accepted) unit never proposes there again
        new = torch.bincount(choice, minlength=k)
        room = size + new <= cap
        fits = room[choice]
        if first:  # every unit proposes: no gathers needed
            shard = torch.where(fits, choice, -1)
            held_d = torch.where(fits, d, 0)
            first = False
        else:
            shard[units[fits]] = choice[fits]
            held_d[units[fits]] = d[fits]
        size += torch.where(room, new, 0)
        refused = []
        over = ~fits
        units_o, choice_o, d_o = units[over], choice[over], d[over]
        for s in torch.nonzero(~room & (new > 0)).flatten().tolist():  # overflowing shards only
            sel = choice_o == s
            held = torch.nonzero(shard == s).flatten()
            cand = torch.cat([held, units_o[sel]])
            cand_d = torch.cat([held_d[held], d_o[sel]])
            keep = torch.topk(cand_d, cap, largest=False, sorted=False).indices
            mask = torch.zeros(len(cand), dtype=torch.bool)
            mask[keep] = True
            # only the changes are written: new proposers kept, held members bumped
            new_units, new_kept = cand[len(held):], mask[len(held):]
            shard[new_units[new_kept]] = s
            held_d[new_units[new_kept]] = cand_d[len(held):][new_kept]
            out = torch.cat([held[~mask[: len(held)]], new_units[~new_kept]])
            shard[out] = -1
            refused.append(out)
            size[s] = cap
        units = torch.cat(refused) if refused else torch.empty(0, dtype=torch.int64)
    return shard.numpy()


def greedy_assignment(dist: np.ndarray, cap: int) -> np.ndarray:
    """Reference: visit all (unit, shard) pairs from nearest to farthest, assign if the unit is free and the shard
    has room. O(nK log nK); used by tests to check ``capped_assignment``."""
    n, k = dist.shape
    shard = np.full(n, -1, dtype=np.int64)
    size = np.zeros(k, dtype=np.int64)
    flat = np.argsort(dist, axis=None, kind="stable")
    for f in flat:
        u, s = divmod(int(f), k)
        if shard[u] < 0 and size[s] < cap:
            shard[u] = s
            size[s] += 1
    return shard


def _cap(n: int, k: int, slack: float) -> int:
    return math.ceil(slack * n / k)


def _euclid(x: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """[n, K] Euclidean distances (float64, clipped at 0 before the root)."""
    sq = (x * x).sum(1)[:, None] - 2 * x @ anchors.T + (anchors * anchors).sum(1)[None, :]
    return np.sqrt(np.maximum(sq, 0.0))


def _centroids(emb: np.ndarray, member: np.ndarray, shard: np.ndarray, k: int, old: np.ndarray,
               scalar_bug: bool) -> np.ndarray:
    """Mean embedding of each shard's members (``member[j]`` is the row of ``emb`` of unit j; repeated rows count
    as often as they occur). An empty shard keeps its anchor. With ``scalar_bug``, the authors' code's mistake:
    every coordinate of an anchor becomes the mean of all coordinates of all its members."""
    n_rows = len(emb)
    counts = np.bincount(shard * n_rows + member, minlength=k * n_rows).reshape(k, n_rows).astype(np.float64)
    size = counts.sum(1)
    new = old.copy()
    has = size > 0
    new[has] = (counts[has] @ emb) / size[has, None]
    if scalar_bug:
        new[has] = new[has].mean(1, keepdims=True)
    return new


def _unit_partition(emb: np.ndarray, k: int, cap: int, rounds: int, rng: np.random.Generator,
                    scalar_bug: bool = False, stop_on_centroids: bool = False, tol: float = 1e-6):
    """Anchor-based balanced clustering of the rows of ``emb``: K random units as anchors, capped nearest-first
    assignment, anchors to the mean vector; stop when assignments (or centroids) stop changing."""
    anchors = emb[rng.choice(len(emb), size=k, replace=False)].astype(np.float64)
    shard = None
    for r in range(1, rounds + 1):
        new = capped_assignment(_euclid(emb, anchors), cap, overwrite=True)
        new_anchors = _centroids(emb, np.arange(len(emb)), new, k, anchors, scalar_bug)
        moved = float(np.abs(new_anchors - anchors).max())
        same = shard is not None and np.array_equal(new, shard)
        shard, anchors = new, new_anchors
        if (stop_on_centroids and moved <= tol) or (not stop_on_centroids and same):
            return shard, {"rounds": r, "converged": True}
    return shard, {"rounds": rounds, "converged": False}


def random_partition(train: Interactions, k: int, seed: int, **_):
    """SISA: shuffle the training interactions and cut them into K equal parts."""
    rng = np.random.default_rng(seed)
    shard = np.empty(len(train), dtype=np.int64)
    shard[rng.permutation(len(train))] = np.arange(len(train)) * k // len(train)
    return shard, {"rounds": 0, "converged": True}


def _by_node(train: Interactions, node_emb: np.ndarray, node_of: np.ndarray, k: int, seed: int, slack: float,
             rounds: int, scalar_bug: bool, cap_fn=None, stop_on_centroids: bool = False):
    nodes = np.unique(node_of)
    cap = cap_fn(len(nodes), k) if cap_fn else _cap(len(nodes), k, slack)
    node_shard, info = _unit_partition(node_emb[nodes], k, cap, rounds, np.random.default_rng(seed), scalar_bug,
                                       stop_on_centroids)
    lookup = np.full(len(node_emb), -1, dtype=np.int64)
    lookup[nodes] = node_shard
    return lookup[node_of], {**info, "cap": cap, "unit": "node"}


def ubp(train: Interactions, k: int, seed: int, user_emb: np.ndarray, slack: float = 1.2, rounds: int = 50,
        scalar_bug: bool = False, **_):
    """User-based balanced partition: users clustered with cap t = ceil(slack * users / K); a shard holds all
    training interactions of its users."""
    shard, info = _by_node(train, user_emb, train.user, k, seed, slack, rounds, scalar_bug)
    return shard, {**info, "unit": "user"}


def ibp(train: Interactions, k: int, seed: int, item_emb: np.ndarray, slack: float = 1.2, rounds: int = 50,
        scalar_bug: bool = False, **_):
    """Item-based balanced partition: the same over items."""
    shard, info = _by_node(train, item_emb, train.item, k, seed, slack, rounds, scalar_bug)
    return shard, {**info, "unit": "item"}


def bekm(train: Interactions, k: int, seed: int, user_emb: np.ndarray, rounds: int = 20, **_):
    """GraphEraser's balanced embedding k-means over user nodes: cap t = ceil(n/K + 0.005 (n - n/K)), stop when
    the centroids stop moving or after 20 rounds; a shard holds all training interactions of its users."""
    def cap_fn(n, kk):
        return math.ceil(n / kk + 0.005 * (n - n / kk))

    shard, info = _by_node(train, user_emb, train.user, k, seed, 1.0, rounds, False, cap_fn, stop_on_centroids=True)
    return shard, {**info, "unit": "user"}


def ot_assignment(cost: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The assignment of n units to K groups of exactly ``sizes`` units (sum n) of least total ``cost`` [n, K]: the
    optimal transport plan of POT's exact network-simplex solver (``ot.emd``) from n unit masses to K masses
    ``sizes``; with integer masses its optimal vertex is a 0/1 plan, so each unit goes to one group whole."""
    import ot

    plan = ot.emd(np.ones(len(cost)), sizes.astype(np.float64), np.ascontiguousarray(cost, dtype=np.float64))
    group = plan.argmax(1)
    if not np.allclose(plan.max(1), 1.0):  # a fractional plan (should not happen at a vertex): refuse, not round
        raise RuntimeError("optimal transport returned a fractional assignment")
    return group


def ot_partition(train: Interactions, k: int, seed: int, user_emb: np.ndarray, rounds: int = 20, **_):
    """UltraRE's partition (NeurIPS 2023): users in K exactly balanced groups (sizes differ by at most one) by
    optimal transport between the pretrained user embeddings and K centroids, iterated as k-means is: assign by
    transport on squared distances, move each centroid to its group's mean, until no user moves or ``rounds``.
    Centroids start at K random users. A shard holds all training interactions of its users."""
    rng = np.random.default_rng(seed)
    users = np.unique(train.user)
    emb = user_emb[users].astype(np.float64)
    n = len(users)
    sizes = np.full(k, n // k) + (np.arange(k) < n % k)
    centroids = emb[rng.choice(n, size=k, replace=False)]
    group, converged, r = None, False, 0
    for r in range(1, rounds + 1):
        cost = ((emb[:, None, :] - centroids[None, :, :]) ** 2).sum(-1)
        new = ot_assignment(cost, sizes)
        converged = group is not None and np.array_equal(new, group)
        group = new
        centroids = np.stack([emb[group == g].mean(0) for g in range(k)])
        if converged:
            break
    lookup = np.full(len(user_emb), -1, dtype=np.int64)
    lookup[users] = group
    return lookup[train.user], {"rounds": r, "converged": converged, "unit": "user",
                                "group_sizes": np.bincount(group, minlength=k).tolist()}


def inbp(train: Interactions, k: int, seed: int, user_emb: np.ndarray, item_emb: np.ndarray, slack: float = 1.2,
         rounds: int = 50, scalar_bug: bool = False, **_):
    """Interaction-based balanced partition (RecEraser): anchors are K random training interactions (p, q);
    distance(a, y_uv) = |p_a - p_u| * |q_a - q_v|; capped nearest-first assignment of interactions with
    t = ceil(slack * |Y| / K); anchors move to (mean p of the shard's users, mean q of its items)."""
    rng = np.random.default_rng(seed)
    p = user_emb.astype(np.float64)
    q = item_emb.astype(np.float64)
    cap = _cap(len(train), k, slack)
    pick = rng.choice(len(train), size=k, replace=False)
    anchor_p, anchor_q = p[train.user[pick]], q[train.item[pick]]
    users, items = torch.from_numpy(train.user), torch.from_numpy(train.item)
    dist = torch.empty(len(train), k, dtype=torch.float32)  # reused every round: no 4 x |Y| x K bytes of page faults
    chunk = 1 << 20
    shard = None
    for r in range(1, rounds + 1):
        # per-node distances first: K x (M + N) instead of K x |Y| norms
        du = torch.from_numpy(_euclid(p, anchor_p).astype(np.float32))
        dv = torch.from_numpy(_euclid(q, anchor_q).astype(np.float32))
        torch.index_select(du, 0, users, out=dist)
        for lo in range(0, len(train), chunk):
            dist[lo : lo + chunk] *= dv.index_select(0, items[lo : lo + chunk])
        new = capped_assignment(dist, cap, overwrite=True)
        anchor_p = _centroids(p, train.user, new, k, anchor_p, scalar_bug)
        anchor_q = _centroids(q, train.item, new, k, anchor_q, scalar_bug)
        converged = shard is not None and np.array_equal(new, shard)
        shard = new
        if converged:
            break
    return shard, {"rounds": r, "converged": converged, "cap": cap, "unit": "interaction"}


def shard_stats(train: Interactions, shard: np.ndarray, k: int) -> dict:
    sizes = np.bincount(shard, minlength=k)

    def distinct(ids, n):  # distinct ids per shard, O(|Y|)
        present = np.bincount(shard * n + ids, minlength=k * n).reshape(k, n) > 0
        return present.sum(1).tolist()

    return {
        "interactions": sizes.tolist(),
        "users": distinct(train.user, train.n_users),
        "items": distinct(train.item, train.n_items),
        "balance": float(sizes.max() / sizes.mean()),
    }


def check_fillable(name: str, train: Interactions, k: int) -> None:
    """Raise ValueError in one line naming K, the partition and the count when K shards cannot all be filled (each
    partition deals out its registered ``unit`` to the K shards: a shard needs at least one)."""
    unit = lookup(PARTITIONS, "partition", name).unit
    count = {"interactions": len(train), "users": len(np.unique(train.user)), "items": len(np.unique(train.item))}[unit]
    if not 1 <= k <= count:
        raise ValueError(f"partition '{name}' with K = {k} shards: the training set has {count} {unit} and '{name}' "
                         f"puts each in one shard, so K must be between 1 and {count} (lower sharding.n_shards or "
                         f"unlearning.k_values)")


def partition(name: str, train: Interactions, k: int, seed: int, user_emb=None, item_emb=None, **options):
    """Shard id of every training interaction under algorithm ``name``, with statistics."""
    function = resolve(lookup(PARTITIONS, "partition", name).impl)
    check_fillable(name, train, k)
    t0 = time.perf_counter()
    shard, info = function(train, k, seed, user_emb=user_emb, item_emb=item_emb, **options)
    seconds = time.perf_counter() - t0
    sizes = np.bincount(shard, minlength=k)
    if (sizes == 0).any():
        # an empty shard has no sub-model to train (and nothing to unlearn): refused rather than served as noise
        raise ValueError(f"partition '{name}' with K = {k}: shard {int(np.flatnonzero(sizes == 0)[0])} is empty "
                         f"(shard sizes {sizes.tolist()}); every shard needs a training interaction: lower K")
    stats = {"algorithm": name, "n_shards": k, "seed": seed, **info, "seconds": seconds,
             **shard_stats(train, shard, k)}
    log.info("%s K=%d: %d rounds%s, %.2f s, shard sizes %s (balance %.2f)", name, k, info["rounds"],
             "" if info["converged"] else " (not converged)", seconds, stats["interactions"], stats["balance"])
    return shard, stats
