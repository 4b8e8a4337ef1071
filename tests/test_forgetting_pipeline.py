"""The forgetting check's jobs: the members' count, the fine-tune shortcut (starts from the original, never exact by
lineage), a served sharded model rebuilt from its manifest scores as it did when it was served, sequential
unlearning of every request ends at the batch model, and the table's verdicts."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from recunlearn.artefacts import load_state, read_sidecar
from recunlearn.data import load_interactions
from recunlearn.forgetting import run_check, sharded_scorer
from recunlearn.metrics import evaluate
from recunlearn.retrain import run_retrain
from recunlearn.run import JobContext, RunSpec, Settings
from recunlearn.report.forgetting import forgetting_table, forgetting_verdict
from recunlearn.requests import n_members, sample_members, without
from recunlearn.audit import model_verdict
from recunlearn.unlearn import unlearn_approximate, unlearn_retrain, unlearn_sharded

from conftest import TINY_CONFIG, inbp_shards, write_synthetic_splits

FAST = {"max_epochs": 4, "eval_every": 1, "patience": 5, "dim": 8}
CTX = JobContext(seed=4, device="cpu")
OPTIONS = {"seed": 0, "n_shadow": 500, "n_boot": 50}


def test_members_are_a_fraction_or_a_count_and_a_bad_value_is_named():
    assert n_members(0.02, 1000) == 20 and n_members(25, 1000) == 25
    with pytest.raises(ValueError, match="forgetting.members = 2000: 2000 members, which would leave no training"):
        n_members(2000, 1000)
    with pytest.raises(ValueError, match="forgetting.members = 1000: .*leave no training interaction"):
        n_members(1000, 1000)
    with pytest.raises(ValueError, match=r"forgetting.members = 0.0001: 0.0001 of the 1000 training interactions is "
                                         r"0, fewer than the 20 the check needs"):
        n_members(0.0001, 1000)  # a fraction in (0, 1) that rounds to no member at all
    with pytest.raises(ValueError, match="forgetting.members = 0.01: .* is 10, fewer than the 20"):
        n_members(0.01, 1000)  # one member gave AUC intervals of [1, 1] or [0, 0]: confident and meaningless


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A small synthetic split, its original BPR model, an InBP partition of 3 shards and their sub-models, and
    a deletion set of 30 members."""
    tmp = tmp_path_factory.mktemp("fp")
    data = write_synthetic_splits(tmp, 60, 80, 15)
    retrain_out = {key: str(tmp / f"orig.{key}") for key in ("model", "sidecar", "history", "metrics")}
    run_retrain(RunSpec("toy", "BPR"), CTX, Settings(FAST), data, retrain_out)
    torch.manual_seed(0)
    assignment, subs = inbp_shards(tmp, data, {"user": torch.randn(60, 4), "item": torch.randn(80, 4)},
                                   RunSpec("toy", "BPR", "inbp", 3), CTX, Settings(FAST))
    sample_members(data["train"], tmp / "members.csv", 30, seed=1)
    return tmp, data, assignment, subs, retrain_out


def unlearn(world, mode, aggregator="att"):
    tmp, data, assignment, subs, _ = world
    out = {"dir": str(tmp / f"u_{mode}_{aggregator}"), "metrics": str(tmp / f"m_{mode}_{aggregator}.csv"),
           "times": str(tmp / f"t_{mode}_{aggregator}.csv"), "served": str(tmp / f"s_{mode}_{aggregator}.json")}
    unlearn_sharded(RunSpec("toy", "BPR", "inbp", 3, aggregator, mode), CTX, Settings(FAST, {"max_epochs": 2}),
                    {**data, "assignment": assignment, "requests": tmp / "members.csv"}, subs, out, n_timed=30)
    return out


def test_fine_tune_starts_from_the_original_and_is_not_exact_by_lineage(world):
    tmp, data, _, _, orig = world
    inputs = {**data, "requests": tmp / "members.csv"}
    ft = {key: str(tmp / f"ft.{key}") for key in ("model", "sidecar", "times", "metrics")}
    unlearn_approximate(RunSpec("toy", "BPR", mode="batch"), CTX, inputs, orig, "finetune", {"epochs": 1}, ft, n_timed=1)
    rt = {key: str(tmp / f"rt.{key}") for key in ("model", "sidecar", "times", "metrics")}
    unlearn_retrain(RunSpec("toy", "BPR", mode="batch"), CTX, Settings(FAST), inputs, rt, n_timed=1)
    train = load_interactions(data["train"])
    rows = pd.read_csv(tmp / "members.csv")["row"].to_numpy()
    meta = read_sidecar(ft["sidecar"])
    assert meta["exact"] is False and meta["epochs_run"] == 1 and meta["trained_on"]["interactions"] == len(train) - 30
    assert meta["initialised_from"]["trained_on_sha256"] == train.sha256()
    exact, why = model_verdict(ft["sidecar"], train, rows)
    assert not exact and "inherits parameters" in why
    assert model_verdict(rt["sidecar"], train, rows) == (True, "trained from scratch on the training set minus "
                                                                "every deleted interaction")
    assert not model_verdict(orig["sidecar"], train, rows)[0]
    # one epoch from the original's parameters: closer to them than to a fresh start
    got, start = load_state(ft["model"]), load_state(orig["model"])
    assert all(got[k].shape == start[k].shape for k in got)
    assert sum((got[k] - start[k]).norm() for k in got) < sum(start[k].norm() for k in got)
    assert pd.read_csv(ft["times"])["total_seconds"].iloc[0] > 0


def test_a_served_sharded_model_rebuilt_from_its_manifest_scores_as_served(world):
    tmp, data, *_ = world
    out = unlearn(world, "batch")
    train, valid = load_interactions(data["train"]), load_interactions(data["valid"])
    scorer, deleted = sharded_scorer(out["served"], train)
    assert sorted(deleted.tolist()) == sorted(pd.read_csv(tmp / "members.csv")["row"].tolist())
    got = evaluate(scorer, valid, [without(train, deleted)], [20])[("Recall", 20)]
    m = pd.read_csv(out["metrics"])
    want = m[(m["split"] == "valid") & (m["metric"] == "Recall") & (m["k"] == 20)]["value"].iloc[0]
    assert got == pytest.approx(want, abs=1e-6)


@pytest.mark.determinism
def test_sequential_unlearning_of_every_request_ends_at_the_batch_model(world):
    """So the check's batch rows stand for sequential unlearning of the same set too (the same files, bit for bit)."""
    seq, batch = unlearn(world, "sequential", "static"), unlearn(world, "batch", "static")
    a, b = json.loads(Path(seq["served"]).read_text()), json.loads(Path(batch["served"]).read_text())
    for x, y in zip(a["artefacts"], b["artefacts"]):
        if x["kind"] == "sub-model":
            assert all(torch.equal(load_state(x["model"])[k], v) for k, v in load_state(y["model"]).items())
    agg_a, agg_b = (load_state(Path(o["dir"]) / "aggregator.pt") for o in (seq, batch))
    assert all(torch.equal(agg_a[k], agg_b[k]) for k in agg_b)


def test_run_check_writes_one_row_with_its_lineage_and_the_controls_differ(world):
    tmp, data, _, _, orig = world
    served = unlearn(world, "batch", "mean")
    inputs = {**data, "requests": tmp / "members.csv"}
    rows = {}
    for name, spec in (("original", {"kind": "original", "method": "original", "mode": None}),
                       ("SISA", {"kind": "sharded", "method": "SISA", "mode": "batch", "manifest": served["served"],
                                 "times": served["times"]})):
        rows[name] = run_check(RunSpec("toy", "BPR"), CTX, inputs, orig, {**spec, "request_set": "members"},
                               OPTIONS, tmp / f"row_{name}.csv")
    assert rows["original"]["exact"] is False and rows["SISA"]["exact"] is True
    assert rows["SISA"]["members"] == 30 and rows["SISA"]["seconds"] > 0 and np.isnan(rows["original"]["seconds"])
    table = forgetting_table([tmp / "row_SISA.csv", tmp / "row_original.csv"], tmp / "forgetting")
    assert list(table["method"]) == ["original", "SISA"]  # the control first
    md = (tmp / "forgetting.md").read_text()
    assert "positive control" in md and (tmp / "forgetting.tex").is_file() and (tmp / "forgetting.csv").is_file()


def test_the_verdict_reads_the_intervals():
    row = {f"{n}_{p}": v for n in ("score_auc", "rank_auc", "learned_auc") for p, v in
           (("mean", 0.5), ("low", 0.45), ("high", 0.55))}
    assert forgetting_verdict({**row, "method": "original"}) == "positive control: NO POWER on this data"
    assert forgetting_verdict({**row, "method": "RecEraser"}) == "not told from non-members"
    assert forgetting_verdict({**row, "method": "fine-tune", "learned_auc_low": 0.52}) == "flagged (learned attack)"
    assert forgetting_verdict({**row, "method": "original", "score_auc_low": 0.6}) == "positive control: has power"


def test_the_workflow_builds_the_forgetting_table_and_figure(tiny_reference):
    """The tiny DAG (.test/config/config.yaml) runs the check: its members deleted by Retrain, RecEraser,
    RecEraser-fast and the approximate methods (the fine-tune shortcut, SCIF, IFRU), the original model as the
    positive control, MIO beside the attacks; the figure is drawn."""
    results = tiny_reference.parent
    table = pd.read_csv(results / "tables" / "forgetting.csv")
    assert list(table["method"]) == ["original", "Retrain", "RecEraser", "RecEraser-fast", "fine-tune", "SCIF", "IFRU"]
    assert table.set_index("method")["exact"].to_dict() == {"original": False, "Retrain": True, "RecEraser": True,
                                                             "RecEraser-fast": True, "fine-tune": False,
                                                             "SCIF": False, "IFRU": False}
    assert table["mio_members"].between(0, 1).all() and table["mio_nonmembers"].between(0, 1).all()
    members = TINY_CONFIG["forgetting"]["members"]
    assert (table["members"] == n_members(members, len(load_interactions(results / "synthetic" / "data" /
                                                                          "train.npz")))).all()
    assert (results / "figures" / "forgetting.png").stat().st_size > 10_000


def test_the_approximate_methods_have_a_row_wherever_the_exact_ones_have_one(tiny_reference):
    """SCIF, IFRU and fine-tune (the config's approximate.methods): Table 6.4's every-method and batch sections, the
    user-deletion table (marked not exact) and the frontier."""
    tables = tiny_reference.parent / "tables"
    t64 = (tables / "table_6_4.md").read_text()
    for name in ("fine-tune", "SCIF", "IFRU"):
        assert len(re.findall(rf"^\|[^|\n]*\|[^|\n]*\|\s*{name}\s*\|", t64, flags=re.M)) == 2, name
    users = pd.read_csv(tables / "user_unlearning.csv")
    approximate = users[users["method"].isin(["fine-tune", "SCIF", "IFRU"])]
    assert set(approximate["method"]) == {"fine-tune", "SCIF", "IFRU"} and not approximate["exact"].any()
    assert users.loc[users["method"] == "Retrain", "exact"].all()
    assert {"fine-tune", "SCIF", "IFRU"} <= set(pd.read_csv(tables / "frontier.csv")["method"])


def test_receraser_fast_is_a_method_of_every_table_where_the_config_lists_it(tiny_reference):
    """RecEraser-fast (beyond the paper), listed in the tiny DAG's unlearning and user_unlearning methods, under the
    aggregator its config names for BPR (RefitAgg; MembAgg by default): a column of Table 6.3 without a paper value,
    rows of Table 6.4 in both modes, forgetting and user-deletion rows, each saying which aggregator served it."""
    assert TINY_CONFIG["method_aggregators"] == {"RecEraser-fast": {"BPR": "refit"}}
    tables = tiny_reference.parent / "tables"
    t63 = pd.read_csv(tables / "table_6_3.csv")
    fast = t63[t63["method"] == "RecEraser-fast"]
    assert not fast.empty and fast["paper"].isna().all() and fast["ours"].notna().all()
    assert "| RecEraser-fast (RefitAgg) |" in (tables / "table_6_3.md").read_text()
    # one row in Table 6.4's every-method (sequential) section and one in its batch section
    assert len(re.findall(r"^\|[^|\n]*\|[^|\n]*\|\s*RecEraser-fast \(RefitAgg\)\s*\|",
                          (tables / "table_6_4.md").read_text(), flags=re.M)) == 2
    forgetting = pd.read_csv(tables / "forgetting.csv").set_index("method")
    assert forgetting.loc["RecEraser-fast", "aggregator"] == "refit" and forgetting.loc["RecEraser", "aggregator"] == "att"
    users = pd.read_csv(tables / "user_unlearning.csv")
    assert set(users.loc[users["method"] == "RecEraser-fast", "aggregator"]) == {"refit"}
    assert "RecEraser-fast (RefitAgg)" in (tables / "user_unlearning.md").read_text()
    # the paths: the served model is InBP's refit aggregator, whose metric rows are named RecEraser-fast
    metrics = pd.read_csv(tiny_reference)
    named = metrics[metrics["method"] == "RecEraser-fast"]
    assert not named.empty and set(named["aggregator"]) == {"refit"}
