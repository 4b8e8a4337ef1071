"""The embedded synthetic dataset: a seeded generative model, no download.

Model (every parameter in config, ``registry.<name>.synthetic``):
- users and items each belong to one of C planted communities (items round-robin, users uniformly at random);
- within each community item popularity follows Zipf: the r-th item has weight r^-a (a = popularity_exponent),
  so the whole catalogue has a power-law popularity curve;
- a user's activity n_u is log-normal with mean ``mean_interactions``, clipped to [min, max];
- Binomial(n_u, in_community) of its items are drawn, without replacement and by popularity, from its own
  community, the rest from the other communities (Gumbel top-k sampling, vectorised over users).
So the data has real block structure: a partition that keeps communities together keeps the signal a
recommender needs, while a random one scatters it.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass

import numpy as np

from .data import atomic_path, write_atomic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyntheticConfig:
    n_users: int = 1000
    n_items: int = 1500
    n_communities: int = 8
    mean_interactions: float = 80.0
    min_interactions: int = 20
    max_interactions: int = 300
    in_community: float = 0.8
    popularity_exponent: float = 0.8
    seed: int = 7


def _top_n_per_row(keys: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) of the n[row] largest keys of every row."""
    order = np.argsort(-keys, axis=1, kind="stable")
    take = np.arange(keys.shape[1])[None, :] < n[:, None]
    rows = np.broadcast_to(np.arange(keys.shape[0])[:, None], keys.shape)[take]
    return rows, order[take]


def generate(cfg: SyntheticConfig, chunk_users: int = 2048) -> dict[str, np.ndarray]:
    """Interactions of the synthetic dataset: ``user``, ``item`` (int64) plus the planted communities."""
    rng = np.random.default_rng(cfg.seed)
    n_users, n_items, c = cfg.n_users, cfg.n_items, cfg.n_communities
    item_comm = np.arange(n_items) % c
    rng.shuffle(item_comm)
    user_comm = rng.integers(0, c, size=n_users)
    # Zipf popularity within each community (rank by order of appearance)
    rank = np.empty(n_items, dtype=np.int64)
    for k in range(c):  # loop over communities, not interactions
        members = np.flatnonzero(item_comm == k)
        rank[members] = rng.permutation(len(members)) + 1
    log_pop = -cfg.popularity_exponent * np.log(rank)

    sigma = 0.6
    mu = np.log(cfg.mean_interactions) - sigma**2 / 2
    hi = min(cfg.max_interactions, n_items)
    lo = min(cfg.min_interactions, hi)
    n_u = np.clip(np.round(rng.lognormal(mu, sigma, n_users)), lo, hi).astype(np.int64)
    n_in = rng.binomial(n_u, cfg.in_community)
    own_size = np.bincount(item_comm, minlength=c)[user_comm]
    n_in = np.minimum(n_in, own_size)
    n_out = np.minimum(n_u - n_in, n_items - own_size)

    users, items = [], []
    for start in range(0, n_users, chunk_users):  # chunks bound memory to chunk_users x n_items
        sl = slice(start, min(start + chunk_users, n_users))
        same = user_comm[sl, None] == item_comm[None, :]
        gumbel = rng.gumbel(size=same.shape)
        keys = log_pop[None, :] + gumbel
        for mask, counts in ((same, n_in[sl]), (~same, n_out[sl])):
            rows, cols = _top_n_per_row(np.where(mask, keys, -np.inf), counts)
            users.append(rows + start)
            items.append(cols)
    user = np.concatenate(users).astype(np.int64)
    item = np.concatenate(items).astype(np.int64)
    order = np.lexsort((item, user))
    return {"user": user[order], "item": item[order], "user_community": user_comm, "item_community": item_comm}


def write_synthetic(params: dict, tsv_path, communities_path) -> dict:
    """Generate the dataset from ``params`` (the registry's ``synthetic`` block) and write it atomically:
    a ``user<TAB>item`` file read back by the ordinary csv reader, and the planted communities (.npz)."""
    cfg = SyntheticConfig(**params)
    out = generate(cfg)
    lines = io.StringIO()
    lines.write("user\titem\n")
    np.savetxt(lines, np.column_stack([out["user"], out["item"]]), fmt="%d", delimiter="\t")
    write_atomic(tsv_path, lines.getvalue())
    tmp = atomic_path(communities_path)
    with open(tmp, "wb") as fh:
        np.savez(fh, user_community=out["user_community"], item_community=out["item_community"])
    os.replace(tmp, communities_path)
    log.info(
        "synthetic: %d users x %d items, %d interactions, %d communities (seed %d)",
        cfg.n_users, cfg.n_items, len(out["user"]), cfg.n_communities, cfg.seed)
    return {"interactions": len(out["user"])}
