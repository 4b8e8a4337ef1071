"""Forgetting measured by a membership-inference attack (docs/report/forgetting.md), beside the audit's lineage proof.

Members are the deleted training interactions; non-members are held-out test interactions, drawn for each member
from the same user's test interactions where the user has any (else from the whole test set), so that both sides
come from the same users and only "was it trained on" differs. The attacker sees what the served model exposes: a
pair's score and its rank among the user's items outside the served training set (the training set minus the
deletions, the same exclusion for every model, so the original model is not told what was deleted).

- ``auc``: the threshold attack, Mann-Whitney's AUC of a feature (ties count one half), with a seeded bootstrap
  95% interval (``bootstrap_auc``).
- ``LearnedAttack``: a logistic regression on (the score standardised over the user's candidate items, rank percentile,
  log item popularity, log user activity): scale-free, since a served model's scores are on another scale than the
  original's. It is trained on shadow data that holds no member: other training interactions against validation interactions, scored
  by the original model; then applied to the served model's features of the members and non-members.

- MIO, the Membership Inference Oracle of SCIF's paper as read here (docs/report/forgetting.md says what its paper
  leaves open): the same logistic regression trained with privileged access to the served model itself, on its own
  scores of the shadow data, then asked about each deleted interaction: the share it judges members (and, for
  reference, the share of the non-members it judges members).

Controls: the original model (trained before the deletions) must score above 0.5, or the check has no power on the
data; Retrain (exact) should not. torch and numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .data import Interactions
from .optim import lbfgs

FEATURES = ("score", "rank_percentile", "log_item_popularity", "log_user_activity", "score_z")
# what the learned attack reads: the scale-free features (a served model's scores are on another scale than the
# original's, on which the attack is trained: the score standardised over the user's candidate items instead)
LEARNED = (4, 1, 2, 3)


@dataclass
class Pairs:
    """(user, item) pairs with a membership label (1: a deleted training interaction, 0: a test interaction)."""

    user: np.ndarray
    item: np.ndarray
    member: np.ndarray


def members_and_nonmembers(deleted: Interactions, test: Interactions, seed: int) -> Pairs:
    """Every deleted interaction as a member, and one non-member per member: a test interaction of the same user,
    drawn uniformly with a seeded generator (without replacement while the user's test interactions last), or, for a
    user with none, one drawn from the whole test set."""
    rng = np.random.default_rng(seed)
    indptr, items = test.csr()
    users = np.asarray(deleted.user)
    non_u, non_i = np.empty(len(users), dtype=np.int64), np.empty(len(users), dtype=np.int64)
    order = np.argsort(users, kind="stable")
    start = 0
    while start < len(order):  # one block per user: draw that many of the user's test items
        u = users[order[start]]
        end = start
        while end < len(order) and users[order[end]] == u:
            end += 1
        own = items[indptr[u] : indptr[u + 1]]
        n = end - start
        if len(own):
            pick = np.concatenate([rng.permutation(own)[: min(n, len(own))],
                                   rng.choice(own, size=max(n - len(own), 0))])
            non_u[order[start:end]], non_i[order[start:end]] = u, pick
        else:
            j = rng.integers(len(test.user), size=n)
            non_u[order[start:end]], non_i[order[start:end]] = test.user[j], test.item[j]
        start = end
    return Pairs(np.concatenate([users, non_u]), np.concatenate([np.asarray(deleted.item), non_i]),
                 np.concatenate([np.ones(len(users), dtype=np.int8), np.zeros(len(users), dtype=np.int8)]))


def features(scorer, pairs_user: np.ndarray, pairs_item: np.ndarray, served_train: Interactions,
             popularity: np.ndarray, activity: np.ndarray, batch_users: int = 1024, device="cpu") -> np.ndarray:
    """[n, 5] attack features of the pairs: the score, the rank percentile among the user's items outside
    ``served_train`` (0: ranked first), log(1 + item popularity), log(1 + user activity), and the score
    standardised by the mean and standard deviation of the user's scores of those items; ``scorer`` maps user ids
    to scores of every item (``metrics.embedding_scorer``)."""
    from .metrics import _rows

    out = np.empty((len(pairs_user), len(FEATURES)), dtype=np.float64)
    indptr, items = served_train.csr()
    uniq, row_of = np.unique(pairs_user, return_inverse=True)
    for lo in range(0, len(uniq), batch_users):
        block = uniq[lo : lo + batch_users]
        with torch.no_grad():
            scores = scorer(torch.from_numpy(block).to(device)).detach().to("cpu", torch.float64)
        masked = scores.clone()
        r, c = _rows(indptr, items, block)  # the users' served training items, as evaluate masks them
        masked[r, c] = -torch.inf
        finite = torch.isfinite(masked)
        n_candidates = finite.sum(1).clamp(min=1)
        kept = torch.where(finite, scores, torch.zeros_like(scores))
        mean = kept.sum(1) / n_candidates
        std = (((kept - mean[:, None]) * finite).pow(2).sum(1) / n_candidates).sqrt().clamp(min=1e-12)
        sel = np.flatnonzero((row_of >= lo) & (row_of < lo + len(block)))
        rows = torch.from_numpy(row_of[sel] - lo)
        s = scores[rows, torch.from_numpy(pairs_item[sel])]
        above = (masked[rows] > s[:, None]).sum(1)  # items outside the training set ranked above the pair
        out[sel, 0] = s.numpy()
        out[sel, 1] = (above.double() / n_candidates[rows]).numpy()
        out[sel, 4] = ((s - mean[rows]) / std[rows]).numpy()
    out[:, 2] = np.log1p(popularity[pairs_item])
    out[:, 3] = np.log1p(activity[pairs_user])
    return out


def auc(values: np.ndarray, member: np.ndarray) -> float:
    """P(value of a member > value of a non-member), ties one half (the Mann-Whitney AUC)."""
    values, member = np.asarray(values, dtype=np.float64), np.asarray(member).astype(bool)
    n1, n0 = int(member.sum()), int((~member).sum())
    if n1 == 0 or n0 == 0:
        raise ValueError("AUC needs members and non-members")
    from scipy.stats import rankdata

    ranks = rankdata(values)  # average ranks over ties: Mann-Whitney's U of the members, over n1 n0
    return float((ranks[member].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def bootstrap_auc(values: np.ndarray, member: np.ndarray, seed: int, n_boot: int = 1000) -> tuple[float, float, float]:
    """The AUC and its bootstrap 95% interval: members and non-members resampled apart, with replacement."""
    from scipy.stats import rankdata

    rng = np.random.default_rng(seed)
    values, member = np.asarray(values, dtype=np.float64), np.asarray(member).astype(bool)
    pos, neg = values[member], values[~member]
    n1, n0 = len(pos), len(neg)
    draws = np.empty((n_boot, n1 + n0))
    for b in range(n_boot):  # members first, then non-members, drawn in this order from the seeded stream
        draws[b, :n1], draws[b, n1:] = rng.choice(pos, n1), rng.choice(neg, n0)
    ranks = rankdata(draws, axis=1)  # every resample ranked at once: auc() of each row
    boots = (ranks[:, :n1].sum(axis=1) - n1 * (n1 + 1) / 2.0) / (n1 * n0)
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return auc(values, member), float(lo), float(hi)


class LearnedAttack:
    """Logistic regression on the attack features, standardised on its shadow training data; fitted full batch by
    L-BFGS from zero (deterministic), with an L2 penalty ``l2``."""

    def __init__(self, l2: float = 1e-3):
        self.l2 = l2

    def fit(self, x: np.ndarray, y: np.ndarray) -> LearnedAttack:
        self.mean, self.std = x.mean(0), x.std(0) + 1e-12
        xt = torch.from_numpy((x - self.mean) / self.std)
        yt = torch.from_numpy(np.asarray(y, dtype=np.float64))
        w = torch.zeros(x.shape[1] + 1, dtype=torch.float64, requires_grad=True)

        def closure():
            w.grad = None
            logits = xt @ w[:-1] + w[-1]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, yt) + self.l2 * (w[:-1] ** 2).sum()
            loss.backward()
            return loss

        lbfgs([w], closure, lr=1.0, max_iter=200)  # torch.optim.LBFGS's steps (recunlearn.optim)
        self.w = w.detach()
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        xt = torch.from_numpy((x - self.mean) / self.std)
        return torch.sigmoid(xt @ self.w[:-1] + self.w[-1]).numpy()


def shadow_pairs(train_kept: Interactions, valid: Interactions, n: int, seed: int) -> Pairs:
    """Shadow data for the learned attack, with no member in it: ``n`` training interactions that were *not*
    deleted (``train_kept``) as shadow members, and ``n`` validation interactions as shadow non-members."""
    rng = np.random.default_rng(seed)
    a = rng.choice(len(train_kept.user), size=min(n, len(train_kept.user)), replace=False)
    b = rng.choice(len(valid.user), size=min(n, len(valid.user)), replace=False)
    return Pairs(np.concatenate([train_kept.user[a], valid.user[b]]), np.concatenate([train_kept.item[a],
                                                                                   valid.item[b]]),
                 np.concatenate([np.ones(len(a), np.int8), np.zeros(len(b), np.int8)]))


def check(scorers: dict, train: Interactions, deleted_rows: np.ndarray, valid: Interactions, test: Interactions,
          seed: int, original: str = "original", n_shadow: int = 20000, n_boot: int = 1000) -> list[dict]:
    """The attack against every served model of ``scorers`` ({method: scorer}; ``original`` names the model
    trained before the deletions, whose scores also train the learned attack). One row per method: the threshold
    attack's AUC on the score and on the rank (with bootstrap intervals), and the learned attack's AUC."""
    from .requests import without

    deleted_rows = np.asarray(deleted_rows, dtype=np.int64)
    deleted = Interactions(train.user[deleted_rows], train.item[deleted_rows], train.n_users, train.n_items)
    kept = without(train, deleted_rows)
    pairs = members_and_nonmembers(deleted, test, seed)
    popularity = np.bincount(kept.item, minlength=train.n_items).astype(np.float64)
    activity = np.bincount(kept.user, minlength=train.n_users).astype(np.float64)
    shadow = shadow_pairs(kept, valid, n_shadow, seed + 1)
    learned = list(LEARNED)
    attack = LearnedAttack().fit(features(scorers[original], shadow.user, shadow.item, kept, popularity,
                                          activity)[:, learned], shadow.member)
    rows = []
    for method, scorer in scorers.items():
        x = features(scorer, pairs.user, pairs.item, kept, popularity, activity)
        score_auc = bootstrap_auc(x[:, 0], pairs.member, seed, n_boot)
        rank_auc = bootstrap_auc(-x[:, 1], pairs.member, seed, n_boot)  # a better rank: a smaller percentile
        learned_auc = bootstrap_auc(attack.predict(x[:, learned]), pairs.member, seed, n_boot)
        member = pairs.member.astype(bool)
        oracle = LearnedAttack().fit(features(scorer, shadow.user, shadow.item, kept, popularity,
                                              activity)[:, learned], shadow.member)
        judged = oracle.predict(x[:, learned]) > 0.5
        rows.append({"method": method, "members": int(pairs.member.sum()),
                     "mio_members": float(judged[member].mean()), "mio_nonmembers": float(judged[~member].mean()),
                     **{f"{name}_{part}": value for name, values in (("score_auc", score_auc), ("rank_auc", rank_auc),
                                                                     ("learned_auc", learned_auc))
                        for part, value in zip(("mean", "low", "high"), values)}})
    return rows


# ---------------------------------------------------------------------------- served models, one job per method
def model_scorer(model_name: str, model_path, sidecar_path, train: Interactions, device="cpu"):
    """The scorer of a served base model (Retrain, fine-tune, the original) rebuilt from its files over ``train``."""
    from .metrics import embedding_scorer
    from .unlearn import load_model

    model, _ = load_model(model_name, model_path, sidecar_path, train)
    with torch.no_grad():
        p, q = model.to(device).embeddings()
    return embedding_scorer(p, q)


def aggregator_scorer(aggregator_sidecar, model_name: str, aggregator: str, train: Interactions, device="cpu",
                      shard=None):
    """The scorer of a sharded model rebuilt from its aggregator's sidecar: the sub-models' embeddings it lists
    (each sub-model sidecar names its embeddings file), the aggregator's parameters and config, over ``train`` (the
    training set it was trained on). An aggregator that uses the shards (MembAgg, RefitAgg) is given ``shard``, the
    shard of each row of ``train``, or else the partition file its sidecar names (trained on the whole set)."""
    from .aggregators import AggregatorConfig, build
    from .artefacts import load_state, read_sidecar
    from .metrics import embedding_scorer
    from .models import model_config
    from .registry import AGGREGATORS
    from .sharded import load_assignment, load_submodels

    meta = read_sidecar(aggregator_sidecar)
    subs = [read_sidecar(sm["sidecar"]) for sm in meta["submodels"]]
    sub_p, sub_q = load_submodels([sm["embeddings"]["path"] for sm in subs])
    base = model_config(model_name, subs[0]["config"])
    if shard is None and AGGREGATORS[aggregator].uses_shards:
        shard = load_assignment(meta["partition_file"]["path"])
    agg = build(aggregator, sub_p.to(device), sub_q.to(device), AggregatorConfig(**meta["config"]), train, base.loss,
                shard=shard, **base.loss_options())
    agg.load_state_dict(load_state(meta["artefact"]))
    with torch.no_grad():
        p, q = agg.to(device).eval().embeddings()
    return embedding_scorer(p, q)


def sharded_scorer(manifest_path, train: Interactions, device="cpu"):
    """The scorer of a served sharded model, rebuilt from what its manifest (``served.json``) lists: its aggregator
    over its sub-models, on the training set minus its deleted rows. Also the deleted rows."""
    from .artefacts import read_sidecar
    from .requests import without

    from .sharded import load_assignment

    served = read_sidecar(manifest_path)
    deleted = np.asarray(served["deleted_rows"], dtype=np.int64)
    agg = next(a for a in served["artefacts"] if a["kind"] == "aggregator")["sidecar"]
    shard = np.delete(load_assignment(served["assignment"]), deleted)  # the shards of the rows it was trained on
    return aggregator_scorer(agg, served["model"], served["aggregator"], without(train, deleted), device,
                             shard=shard), deleted


def run_seconds(times_csv) -> tuple[float, int]:
    """The unlearning time of a run's ``times.csv`` (every step; ``nan`` without one) and its number of steps."""
    import pandas as pd

    if not times_csv:
        return float("nan"), 0
    t = pd.read_csv(times_csv)
    column = "total_seconds" if "total_seconds" in t else "retrain_seconds"
    return float(t[column].sum()), len(t)


def run_check(spec, ctx, data: dict, original: dict, served: dict, options: dict, out_csv) -> dict:
    """One row of the forgetting table: the attack against the served model ``served`` ({kind: original, model or
    sharded; method; mode; request_set; its files; times}) on the deletion set ``data['requests']`` (a sharded
    model's own manifest says which rows it deleted), with the learned attack trained on the ``original`` model's
    shadow data; its lineage verdict (``audit.audit_served`` / ``model_verdict``), its unlearning time and its
    test Recall@20 (``options``: seed, n_shadow, n_boot)."""
    import pandas as pd

    from .data import write_atomic
    from .metrics import evaluate
    from .run import Job
    from .requests import without
    from .audit import audit_served, model_verdict

    job = Job(spec, ctx, data)
    train, valid, test = job.split("train"), job.split("valid"), job.split("test")
    deleted = pd.read_csv(data["requests"])["row"].to_numpy(np.int64)
    reduced = without(train, deleted)
    scorers = {"original": model_scorer(spec.model, original["model"], original["sidecar"], train, job.device)}
    aggregator = None
    if served["kind"] == "sharded":
        from .artefacts import read_sidecar

        aggregator = read_sidecar(served["manifest"])["aggregator"]  # which one served it (per model: RecEraser-fast)
        scorer, deleted = sharded_scorer(served["manifest"], train, job.device)
        reduced = without(train, deleted)
        _, problems = audit_served(served["manifest"], train)
        exact, why = not problems, (problems[0] if problems else "every served artefact trained without the deleted "
                                    "interactions (the audit's lineage checks)")
    elif served["kind"] == "model":
        scorer = model_scorer(spec.model, served["model"], served["sidecar"], reduced, job.device)
        exact, why = model_verdict(served["sidecar"], train, deleted)
    else:  # the original model itself: the positive control
        scorer, reduced = scorers["original"], train
        exact, why = model_verdict(original["sidecar"], train, deleted)
    scorers[served["method"]] = scorer
    rows = check(scorers, train, deleted, valid, test, int(options["seed"]), n_shadow=int(options["n_shadow"]),
                 n_boot=int(options["n_boot"]))
    row = next(r for r in rows if r["method"] == served["method"])
    recall = evaluate(scorer, test, [reduced, valid], [20], ctx.batch_users, job.device)[("Recall", 20)]
    row = {"dataset": spec.dataset, "model": spec.model, "seed": ctx.seed, "request_set": served["request_set"],
           **row, "aggregator": aggregator or "-", "mode": served.get("mode") or "-", "exact": bool(exact), "lineage": why,
           "seconds": run_seconds(served.get("times"))[0], "recall20_test": float(recall)}
    write_atomic(out_csv, pd.DataFrame([row]).to_csv(index=False, float_format="%.6f"))
    return row
