"""The user-deletion table (beyond the paper; docs/report/user_unlearning.md): per selection, method and mode, the time
per request, the remaining users' quality and the fairness gap."""

from __future__ import annotations

import pandas as pd

from .render import model_order, shown_methods, write_table

USER_METHODS = ["Retrain", "SISA", "GraphEraser", "RecEraser", "RecEraser-fast", "UltraRE", "fine-tune", "SCIF", "IFRU"]


def user_unlearning_table(row_files, stem) -> pd.DataFrame:
    """``results/tables/user_unlearning.{md,csv,tex}``: per dataset, model, selection (random / core / edge) and
    method, the unlearning time per request and its speed-up over Retrain (same selection and mode), the
    remaining users' test Recall@20 / NDCG@20, and the fairness gap (the 5% most active remaining users minus the rest) before
    and after unlearning."""
    rows = pd.concat([pd.read_csv(f) for f in row_files], ignore_index=True)
    order = {m: i for i, m in enumerate(USER_METHODS)}
    sel = {s: i for i, s in enumerate(["random", "core", "edge"])}
    models = {m: i for i, m in enumerate(model_order(rows["model"].unique()))}
    rows = rows.assign(_m=rows["method"].map(lambda m: order.get(m, len(order))),
                       _s=rows["selection"].map(lambda s: sel.get(s, 9)), _b=rows["model"].map(models))
    rows = rows.sort_values(["dataset", "_b", "_s", "mode", "_m"]).drop(columns=["_m", "_s", "_b"])
    rows = rows.reset_index(drop=True)
    retrain = rows[rows["method"] == "Retrain"].set_index(["dataset", "model", "selection", "mode"])["seconds_per_request"]

    def speedup(r) -> str:
        key = (r["dataset"], r["model"], r["selection"], r["mode"])
        if r["method"] == "Retrain" or key not in retrain.index or not r["seconds_per_request"]:
            return "-"
        return f"{retrain.loc[key] / r['seconds_per_request']:.1f}x"

    rows["speedup"] = [speedup(r) for _, r in rows.iterrows()]
    shown = pd.DataFrame({
        "dataset": rows["dataset"], "model": rows["model"], "selection": rows["selection"],
        "method": shown_methods(rows),
        "mode": rows["mode"], "exact": rows["exact"].map(lambda e: "yes" if e else "no"),
        "users deleted": rows["users_deleted"], "users evaluated": rows["users_evaluated"],
        "s / request": rows["seconds_per_request"].map(lambda s: f"{s:.2f}"), "speed-up": rows["speedup"],
        "Recall@20": rows["recall20"].map(lambda v: f"{v:.4f}"), "NDCG@20": rows["ndcg20"].map(lambda v: f"{v:.4f}"),
        "NDCG@20 gap (before → after)": [f"{a:+.4f} → {b:+.4f}" for a, b in zip(rows["ndcg20_gap_before"],
                                                                            rows["ndcg20_gap"])],
        "Recall@20 gap (before → after)": [f"{a:+.4f} → {b:+.4f}" for a, b in zip(rows["recall20_gap_before"],
                                                                              rows["recall20_gap"])],
    })
    notes = [
        "a request deletes every training interaction of one user (CURE4Rec's protocol): random users, the most "
        "active (core) or the least active (edge); a deleted user is neither validated on nor evaluated.",
        "Recall@20 / NDCG@20: test, over the remaining users; Retrain (trained from scratch without the deleted "
        "users) is the quality reference.",
        "s / request: a sequential request's time, or a batch's time over its requests; speed-up: Retrain's over the "
        "method's, same selection and mode.",
        "gap: the mean over the 5% most active remaining users (by training interactions) minus the mean over the rest "
        "(CURE4Rec's fairness gap), for the model before the deletions and after, on the same remaining users.",
        "exact: every exact method's lineage was checked as the audit checks it (no served artefact was trained on an "
        "interaction of a deleted user); the approximate methods (fine-tune, SCIF, IFRU) start from the model trained "
        "with them and are never exact.",
    ]
    write_table(shown, stem, "User-level deletion: utility, time and fairness (docs/report/user_unlearning.md)", notes,
                csv=rows.to_csv(index=False, float_format="%.6f"))
    return rows
