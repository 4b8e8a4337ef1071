"""The forgetting table (beyond the paper; docs/report/forgetting.md): one row per served model and request set, both
attacks' AUC with its interval, and a verdict read from the intervals."""

from __future__ import annotations

import pandas as pd

from .render import model_order, shown_methods, write_table

FORGETTING_ORDER = ["original", "Retrain", "SISA", "GraphEraser", "RecEraser", "RecEraser-fast", "fine-tune", "SCIF",
                    "IFRU"]
REQUEST_SETS = {"members": "the check's members (batch)", "requests": "Table 6.4's requests"}


def _interval(row, name: str) -> str:
    return f"{row[name + '_mean']:.3f} [{row[name + '_low']:.3f}, {row[name + '_high']:.3f}]"


def forgetting_verdict(row) -> str:
    """What a row's intervals say: the original model must be told from non-members (the check's power); any
    other model is flagged when one attack's 95% interval lies above 0.5."""
    above = [name for name in ("score_auc", "rank_auc", "learned_auc") if row[f"{name}_low"] > 0.5]
    if row["method"] == "original":
        return "positive control: has power" if above else "positive control: NO POWER on this data"
    if above:
        return "flagged (" + ", ".join(a.replace("_auc", "") for a in above) + " attack)"
    return "not told from non-members"


def forgetting_table(row_files, stem) -> pd.DataFrame:
    """``results/tables/forgetting.{md,csv,tex}``: the membership-inference check of every served model, one row
    per method and mode per dataset, model and deletion set, the controls first; the CSV keeps every number."""
    rows = pd.concat([pd.read_csv(f) for f in row_files], ignore_index=True)
    order = {m: i for i, m in enumerate(FORGETTING_ORDER)}
    rows["_o"] = rows["method"].map(lambda m: order.get(m, len(order)))
    rows["_s"] = rows["request_set"].map(lambda s: list(REQUEST_SETS).index(s) if s in REQUEST_SETS else 9)
    models = {m: i for i, m in enumerate(model_order(rows["model"].unique()))}
    rows["_b"] = rows["model"].map(models)
    rows = rows.sort_values(["dataset", "_b", "_s", "_o", "mode"]).drop(columns=["_o", "_s", "_b"])
    rows = rows.reset_index(drop=True)
    rows["verdict"] = [forgetting_verdict(r) for _, r in rows.iterrows()]
    shown = pd.DataFrame({
        "dataset": rows["dataset"], "model": rows["model"],
        "deletions": rows["request_set"].map(lambda s: REQUEST_SETS.get(s, s)),
        "method": shown_methods(rows),
        "mode": rows["mode"], "members": rows["members"],
        "exact (lineage)": rows["exact"].map(lambda e: "yes" if e else "no"),
        "score AUC [95%]": [_interval(r, "score_auc") for _, r in rows.iterrows()],
        "rank AUC [95%]": [_interval(r, "rank_auc") for _, r in rows.iterrows()],
        "learned AUC [95%]": [_interval(r, "learned_auc") for _, r in rows.iterrows()],
        "verdict": rows["verdict"],
        "MIO members / non-members": [f"{r['mio_members']:.3f} / {r['mio_nonmembers']:.3f}" if "mio_members" in r
                                      and pd.notna(r["mio_members"]) else "-" for _, r in rows.iterrows()],
        "unlearning (s)": rows["seconds"].map(lambda s: "-" if pd.isna(s) else f"{s:.1f}"),
        "test Recall@20": rows["recall20_test"].map(lambda v: f"{v:.4f}"),
    })
    notes = [
        "members: deleted training interactions; non-members: test interactions of the same users (the model never "
        "trained on them); AUC 0.5: the attacker cannot tell them apart. Intervals: bootstrap 95%.",
        "score / rank: a threshold on the served model's score of the pair / its rank among the user's items outside "
        "the training set; learned: a logistic regression on (score, rank percentile, item popularity, user "
        "activity) trained on shadow data scored by the original model, with no member in it.",
        "the original model (trained with the members) is the positive control: its interval must lie above 0.5 or "
        "the check has no power here; Retrain (trained without them) is the negative control.",
        "exact (lineage): the audit's verdict from the sha256 lineage (fine-tune inherits parameters that saw the "
        "deletions, as do SCIF and IFRU, so none is ever exact, whatever its AUC). A row is flagged when any one of its three intervals "
        "lies above 0.5 (three looks: a 5% false alarm each).",
        "MIO: the Membership Inference Oracle (SCIF's paper, as read in docs/report/forgetting.md), the learned "
        "attack trained on the served model's own scores of the shadow data: the share of the deleted interactions "
        "(and of the non-members) it judges members; read it against Retrain's row, not against zero.",
        "unlearning (s): every step of the run, on the device of its times.csv; '-': not an unlearning run.",
    ]
    write_table(shown, stem, "Forgetting measured by a membership-inference attack (docs/report/forgetting.md)", notes,
                csv=rows.to_csv(index=False, float_format="%.6f"))
    return rows
