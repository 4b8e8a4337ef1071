"""The replication report and the frontier: verdicts computed by the stated rules from the run's own tables, and
built by the workflow (the tiny DAG)."""

import re

import pandas as pd

from recunlearn.report.frontier import on_frontier
from recunlearn.report.replication import (CLAIM_NAMES, HOLDS_IN_PART, NOT_TESTABLE, close_to_retrain, shards_claim,
                                           speedup_claim)
from recunlearn.stats import FAILS, HOLDS, HOLDS_UNTESTED, NOT_SIGNIFICANT

from conftest import ROOT

PAPER_6_3 = pd.read_csv(ROOT / "workflow" / "paper" / "table_6_3.csv")
PAPER_6_4 = pd.read_csv(ROOT / "workflow" / "paper" / "table_6_4.csv")
VERDICTS = {HOLDS, HOLDS_UNTESTED, NOT_SIGNIFICANT, FAILS, HOLDS_IN_PART, NOT_TESTABLE}


def test_the_frontier_keeps_the_points_nothing_beats():
    recall = pd.Series([0.30, 0.25, 0.20, 0.25, 0.31])
    seconds = pd.Series([10.0, 1.0, 0.5, 2.0, 20.0])
    # (0.25, 2.0) is beaten by (0.25, 1.0): as accurate, faster
    assert on_frontier(recall, seconds) == [True, True, True, False, True]


def test_close_to_retrain_uses_the_papers_own_share_as_its_bar():
    rows = []
    for model, retrain, receraser, p_retrain, p_receraser in (("BPR", 0.30, 0.27, 0.2389, 0.2254),
                                                              ("WMF", 0.30, 0.24, 0.2507, 0.2254)):
        for method, ours, paper in (("Retrain", retrain, p_retrain), ("RecEraser", receraser, p_receraser)):
            rows.append({"dataset": "ml-1m", "model": model, "method": method, "metric": "Recall", "k": 20,
                         "ours": ours, "paper": paper})
    rows.append({"dataset": "mine", "model": "BPR", "method": "Retrain", "metric": "Recall", "k": 20, "ours": 0.3,
                 "paper": float("nan")})
    got = {(r["dataset"], r["model"]): r for r in close_to_retrain(pd.DataFrame(rows), PAPER_6_3)}
    # BPR: 0.90 of Retrain against the paper's 0.94 - 0.05; WMF: 0.80 against the paper's 0.90 - 0.05
    assert got[("ml-1m", "BPR")]["verdict"] == HOLDS and abs(got[("ml-1m", "BPR")]["share"] - 0.9) < 1e-12
    assert got[("ml-1m", "WMF")]["verdict"] == FAILS
    assert "the paper's 0.90 - 0.05 = 0.85" in got[("ml-1m", "WMF")]["evidence"]
    assert got[("mine", "BPR")]["verdict"] == NOT_TESTABLE  # no RecEraser in the run


def test_the_speedup_and_shards_claims():
    t64 = pd.DataFrame([
        {"dataset": "ml-1m-receraser", "model": "BPR", "retrain_min": 1.0, "receraser_total_min": 0.05,
         "speedup": 20.0, "device": "cpu"},
        {"dataset": "ml-1m-receraser", "model": "WMF", "retrain_min": 1.0, "receraser_total_min": 0.5,
         "speedup": 2.0, "device": "cpu"},
        {"dataset": "mine", "model": "BPR", "retrain_min": 1.0, "receraser_total_min": 2.0, "speedup": 0.5,
         "device": "cpu"},
        {"dataset": "mine", "model": "WMF", "retrain_min": 1.0, "receraser_total_min": 0.5, "speedup": float("nan"),
         "device": "cpu, cuda"}])
    got = {(r["dataset"], r["model"]): r for r in speedup_claim(t64, PAPER_6_4, {"ml-1m-receraser": "ml-1m"})}
    assert got[("ml-1m-receraser", "BPR")]["verdict"] == HOLDS  # 20x against the paper's ml-1m BPR 15x
    assert "the paper's 15.0x" in got[("ml-1m-receraser", "BPR")]["evidence"]
    assert got[("ml-1m-receraser", "WMF")]["verdict"] == HOLDS_IN_PART
    assert got[("mine", "BPR")]["verdict"] == FAILS and got[("mine", "WMF")]["verdict"] == NOT_TESTABLE
    points = pd.DataFrame([
        {"dataset": "d", "model": "BPR", "n_shards": k, "recall20": r, "seconds_per_request": s, "device": "cpu"}
        for k, r, s in ((5, 0.30, 4.0), (10, 0.28, 2.0), (20, 0.25, 1.0))]
        + [{"dataset": "d", "model": "WMF", "n_shards": k, "recall20": r, "seconds_per_request": s, "device": "cpu"}
           for k, r, s in ((5, 0.30, 1.0), (20, 0.31, 2.0))]
        + [{"dataset": "d", "model": "LightGCN", "n_shards": 10, "recall20": 0.3, "seconds_per_request": 1.0,
            "device": "cpu"}])
    got = {r["model"]: r["verdict"] for r in shards_claim(points)}
    assert got == {"BPR": HOLDS, "WMF": FAILS, "LightGCN": NOT_TESTABLE}


def test_the_workflow_builds_the_report_from_its_own_tables(tiny_reference):
    """The tiny DAG builds the frontier and the replication report: every claim has a verdict for every dataset and
    model, and a number of the report is the cell of the table it came from."""
    results = tiny_reference.parent
    text = (results / "report" / "replication.md").read_text()
    summary = text.split("## Summary\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    header = [c.strip() for c in summary[0].strip("|").split("|")]
    assert header == ["claim", "synthetic BPR"]
    rows = {cells[0]: cells[1:] for cells in ([c.strip() for c in line.strip("|").split("|")] for line in summary[2:])}
    assert list(rows) == list(CLAIM_NAMES.values())
    assert all(v in VERDICTS for verdicts in rows.values() for v in verdicts), rows
    assert rows[CLAIM_NAMES["shards"]] == [NOT_TESTABLE]  # the tiny DAG has one K
    t63 = pd.read_csv(results / "tables" / "table_6_3.csv")
    r20 = t63[(t63["metric"] == "Recall") & (t63["k"] == 20)].set_index("method")["ours"]
    found = re.search(r"RecEraser (\d\.\d{4}) / Retrain (\d\.\d{4}) = (\d\.\d\d) of Retrain", text)
    assert found, text
    assert float(found[1]) == round(r20["RecEraser"], 4) and float(found[2]) == round(r20["Retrain"], 4)
    frontier = pd.read_csv(results / "tables" / "frontier.csv")
    assert set(frontier.loc[frontier["exact"], "method"]) == {"Retrain", "RecEraser", "RecEraser-fast"}
    assert not frontier.loc[~frontier["exact"], "on_frontier"].any()  # the approximate methods: beside it
    assert frontier.set_index("method").loc["RecEraser-fast", "aggregator"] == "refit"
    assert "RecEraser-fast (RefitAgg)" in (results / "tables" / "frontier.md").read_text()
    assert (results / "figures" / "frontier.png").stat().st_size > 10_000
    assert "## Forgetting" in text and "## User deletion" in text
