"""Deletion requests as people make them: whole users (CURE4Rec's protocol; docs/report/user_unlearning.md).

A user-level request set (``requests.sample_user_requests``: a share of the users, chosen at random, among the most
active or among the least active) is unlearned by the same jobs as Table 6.4's requests: one request per user,
each affected shard retrained once per request and the aggregator once. A deleted user leaves the validation and
the evaluation as well (``requests.deleted_users``). ``run_user_check`` makes one row of
``results/tables/user_unlearning.*`` for a served model: its lineage verdict (the audit's), its unlearning time per
request, the test Recall@20 / NDCG@20 of the remaining users, and the fairness gap between the 5% most active of
the remaining users and the rest (``metrics.fairness_gap``), after unlearning and for the model before it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .data import write_atomic
from .forgetting import aggregator_scorer, model_scorer, run_seconds, sharded_scorer
from .metrics import active_users, evaluate, fairness_gap
from .run import Job
from .requests import deleted_users, drop_users, without
from .audit import audit_served, model_verdict

ACTIVE_SHARE = 0.05  # CURE4Rec's active users: the top 5% by training interactions


def run_user_check(spec, ctx, data: dict, before: dict, served: dict, out_csv) -> dict:
    """One row of the user-deletion table for the served model ``served`` ({kind: model or sharded; method; mode;
    selection; its files; times}) after the user-level requests ``data['requests']``; ``before`` is the same
    method's model before them ({kind; model and sidecar, or aggregator_sidecar}). Raises if the served model's
    lineage shows an artefact trained on an interaction of a deleted user, unless it is an approximate method
    (``served['approximate']``: fine-tune, SCIF, IFRU), which is never exact and is reported as such."""
    job = Job(spec, ctx, data)
    train, valid, test = job.split("train"), job.split("valid"), job.split("test")
    req = pd.read_csv(data["requests"])
    users = deleted_users(data["requests"])
    rows = req["row"].to_numpy(np.int64)
    if served["kind"] == "sharded":
        scorer, deleted = sharded_scorer(served["manifest"], train, job.device)
        _, problems = audit_served(served["manifest"], train)
        exact, why = not problems, problems[0] if problems else "every served artefact trained without them"
    else:
        deleted = rows
        scorer = model_scorer(spec.model, served["model"], served["sidecar"], without(train, rows), job.device)
        exact, why = model_verdict(served["sidecar"], train, rows)
    if not exact and not served.get("approximate"):
        raise RuntimeError(f"{served['method']} ({served['mode']}) after deleting {len(users)} users: {why}")
    gone = np.unique(train.user[deleted])  # the users this served model deleted (sequential: the timed ones)
    reduced = without(train, deleted)
    if before["kind"] == "sharded":
        scorer_before = aggregator_scorer(before["aggregator_sidecar"], spec.model, before["aggregator"], train,
                                          job.device)
    else:
        scorer_before = model_scorer(spec.model, before["model"], before["sidecar"], train, job.device)
    heldout, valid_left = drop_users(test, gone), drop_users(valid, gone)
    # the 5% most active of the remaining users (a core selection deletes the most active of all): the same groups
    # for every method of a selection and mode, which delete the same users
    active = active_users(drop_users(train, gone), ACTIVE_SHARE)
    after = evaluate(scorer, heldout, [reduced, valid_left], [20], ctx.batch_users, job.device)
    gap = fairness_gap(scorer, heldout, [reduced, valid_left], active, 20, ctx.batch_users, job.device)
    ref = evaluate(scorer_before, heldout, [train, valid_left], [20], ctx.batch_users, job.device)
    gap_before = fairness_gap(scorer_before, heldout, [train, valid_left], active, 20, ctx.batch_users, job.device)
    seconds, steps = run_seconds(served["times"])  # a sequential step is one request; a batch's time is shared
    n_requests = steps if served["mode"] == "sequential" else len(gone)
    row = {"dataset": spec.dataset, "model": spec.model, "seed": ctx.seed, "selection": served["selection"],
           "method": served["method"], "aggregator": before.get("aggregator") or "-", "mode": served["mode"],
           "users_deleted": len(gone),
           "interactions_deleted": len(deleted), "users_evaluated": int(len(np.unique(heldout.user))),
           "deleted_users_evaluated": int(np.isin(heldout.user, gone).sum()), "exact": bool(exact),
           "seconds": seconds, "seconds_per_request": seconds / max(n_requests, 1),
           "recall20": after[("Recall", 20)], "ndcg20": after[("NDCG", 20)],
           "recall20_gap": gap["Recall@20 gap"], "ndcg20_gap": gap["NDCG@20 gap"],
           "recall20_before": ref[("Recall", 20)], "ndcg20_before": ref[("NDCG", 20)],
           "recall20_gap_before": gap_before["Recall@20 gap"], "ndcg20_gap_before": gap_before["NDCG@20 gap"]}
    write_atomic(out_csv, pd.DataFrame([row]).to_csv(index=False, float_format="%.6f"))
    return row
