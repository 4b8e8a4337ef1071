"""Unlearning: a retrained shard is bit-identical to one trained from scratch without the request, and the
forgetting audit passes on real unlearning and fails on a planted deleted interaction."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from recunlearn.artefacts import load_state
from recunlearn.run import JobContext, RunSpec, Settings
from recunlearn.sharded import shard_interactions, train_submodel
from recunlearn.requests import sample_requests, without
from recunlearn.audit import audit
from recunlearn.unlearn import unlearn_sharded

from conftest import inbp_shards, write_synthetic_splits

FAST = {"max_epochs": 3, "eval_every": 1, "patience": 5, "dim": 8}
SPEC = RunSpec("toy", "BPR", "inbp", 3)
CTX = JobContext(seed=4, device="cpu")


@pytest.fixture
def sharded(tmp_path):
    data = write_synthetic_splits(tmp_path, 40, 60, 12)
    assignment, subs = inbp_shards(tmp_path, data, {"user": torch.randn(40, 4), "item": torch.randn(60, 4)}, SPEC,
                                   CTX, Settings(FAST))
    sample_requests(data["train"], tmp_path / "requests.csv", 5, seed=2)
    return tmp_path, data, assignment, subs


def run_unlearning(tmp_path, data, assignment, subs, mode="batch", kind="att"):
    out = {"dir": str(tmp_path / f"unlearn_{mode}"), "metrics": str(tmp_path / f"m_{mode}.csv"),
           "times": str(tmp_path / f"t_{mode}.csv"), "served": str(tmp_path / f"served_{mode}.json")}
    inputs = {**data, "assignment": assignment, "requests": tmp_path / "requests.csv"}
    times = unlearn_sharded(SPEC.with_(aggregator=kind, mode=mode), CTX, Settings(FAST, {"max_epochs": 2}), inputs,
                            subs, out, n_timed=2)
    return out, times


@pytest.mark.determinism
def test_unlearned_shard_is_bit_identical_to_training_from_scratch(sharded):
    tmp_path, data, assignment, subs = sharded
    out, times = run_unlearning(tmp_path, data, assignment, subs)
    from recunlearn.data import load_interactions
    import pandas as pd

    train, valid = load_interactions(data["train"]), load_interactions(data["valid"])
    rows = pd.read_csv(tmp_path / "requests.csv")["row"].to_numpy()
    with np.load(assignment) as z:
        assign = z["shard"].astype(np.int64)
    affected = sorted(set(assign[rows].tolist()))
    assert times["shards_retrained"].iloc[0] == len(affected)
    for s in affected:
        reduced = shard_interactions(without(train, rows), None, s, assign=np.delete(assign, rows))
        _, ref = train_submodel("BPR", FAST, reduced, valid, 4, "cpu", "reference")
        got = load_state(f"{out['dir']}/shard_{s}.model.pt")
        assert all(torch.equal(got[key], ref.model.state_dict()[key]) for key in got)
    assert audit([out["served"]], tmp_path / "requests.csv", data["train"], tmp_path / "audit.json")["passed"]


@pytest.mark.determinism
@pytest.mark.parametrize("mode,kind", [("batch", "att"), ("sequential", "att"), ("sequential", "static"),
                                       ("sequential", "memb"), ("sequential", "refit"), ("batch", "group")])
def test_unlearned_aggregator_is_bit_identical_to_training_from_scratch(sharded, mode, kind):
    """The served aggregator after unlearning equals one trained from scratch on the reduced training set over the
    served sub-models, with the same seed: nothing of the deleted interactions survives in its parameters."""
    from recunlearn.data import load_interactions
    from recunlearn.sharded import load_submodels, train_aggregator

    tmp_path, data, assignment, subs = sharded
    out, times = run_unlearning(tmp_path, data, assignment, subs, mode=mode, kind=kind)
    served = json.loads(Path(out["served"]).read_text())
    train, valid = load_interactions(data["train"]), load_interactions(data["valid"])
    reduced = without(train, np.array(served["deleted_rows"]))
    sub_p, sub_q = load_submodels([a["embeddings"] for a in served["artefacts"] if a["kind"] == "sub-model"])
    with np.load(assignment) as z:  # each interaction's shard, for the aggregators that use it (MembAgg, GroupAgg)
        assign = z["shard"].astype(np.int64)
    _, ref, res = train_aggregator(kind, "BPR", FAST, {"max_epochs": 2}, sub_p, sub_q, reduced, valid, 4, "cpu", "ref",
                                   shard=np.delete(assign, served["deleted_rows"]))
    got = load_state(Path(out["dir"]) / "aggregator.pt")
    want = ref.state_dict()
    assert set(got) == set(want) and all(torch.equal(got[key], want[key]) for key in got)
    if kind == "group":  # nothing to train: its state is the users' groups of the reduced data
        return
    assert times["aggregator_epochs"].iloc[-1] == res.epochs_run and (times["aggregator_seconds"] > 0).all()
    if kind == "static":  # StaticAgg may keep its uniform start, whatever the data
        return
    # and it is not the aggregator of the data before unlearning: the deletions changed what it learned
    _, before, _ = train_aggregator(kind, "BPR", FAST, {"max_epochs": 2}, sub_p, sub_q, train, valid, 4, "cpu", "b",
                                    shard=assign)
    assert any(not torch.equal(got[key], before.state_dict()[key]) for key in got)


def test_sequential_mode_times_each_request(sharded):
    tmp_path, data, assignment, subs = sharded
    out, times = run_unlearning(tmp_path, data, assignment, subs, mode="sequential", kind="mean")
    assert list(times["deleted_so_far"]) == [1, 2] and (times["shards_retrained"] == 1).all()
    assert (times["aggregator_seconds"] == 0).all()  # SISA's mean is not trained
    report = audit([out["served"]], tmp_path / "requests.csv", data["train"], tmp_path / "audit.json")
    kinds = [c["why"] for c in report["models"][0]["checks"]]
    assert any("untouched shard" in w for w in kinds) or all("minus every deleted" in w for w in kinds)
    assert "pretrained WMF embeddings" in report["caveat"]


def test_audit_fails_on_a_planted_deleted_interaction(sharded):
    tmp_path, data, assignment, subs = sharded
    out, _ = run_unlearning(tmp_path, data, assignment, subs)
    served = json.loads(open(out["served"]).read())
    # plant: serve an affected shard's original sub-model, trained while it still held a deleted interaction
    retrained = next(a for a in served["artefacts"] if a.get("retrained"))
    retrained["sidecar"] = subs[retrained["shard"]]["sidecar"]
    planted = tmp_path / "planted.json"
    planted.write_text(json.dumps(served))
    with pytest.raises(RuntimeError, match="still held 1 deleted interaction|still held [0-9]+ deleted"):
        audit([planted], tmp_path / "requests.csv", data["train"], tmp_path / "audit_bad.json")
    bad = json.loads((tmp_path / "audit_bad.json").read_text())
    assert bad["passed"] is False and bad["failures"]


def test_audit_checks_the_files_the_served_model_loads(sharded):
    """The sidecars can be right while the files are not: the audit hashes every served file against its sidecar."""
    import shutil

    tmp_path, data, assignment, subs = sharded
    out, _ = run_unlearning(tmp_path, data, assignment, subs)
    served = json.loads(Path(out["served"]).read_text())
    report = audit([out["served"]], tmp_path / "requests.csv", data["train"], tmp_path / "audit.json")
    assert report["passed"] and all(c["files_verified"] for c in report["models"][0]["checks"])

    # fault 1: a retrained shard's files replaced by the original shard's, trained on the deleted interaction
    retrained = next(a for a in served["artefacts"] if a.get("retrained"))
    original = subs[retrained["shard"]]
    kept = {key: Path(retrained[key]).read_bytes() for key in ("model", "embeddings")}
    shutil.copyfile(original["model"], retrained["model"])
    shutil.copyfile(original["embeddings"], retrained["embeddings"])
    with pytest.raises(RuntimeError, match=r"shard_\d+\.model\.pt: sha256 [0-9a-f]{64} is not the [0-9a-f]{64} "
                                           r"recorded in .*shard_\d+\.model\.json when it was written"):
        audit([out["served"]], tmp_path / "requests.csv", data["train"], tmp_path / "audit_replaced.json")
    assert json.loads((tmp_path / "audit_replaced.json").read_text())["passed"] is False
    for key, blob in kept.items():
        Path(retrained[key]).write_bytes(blob)
    assert audit([out["served"]], tmp_path / "requests.csv", data["train"], tmp_path / "audit.json")["passed"]

    # fault 2: a served model.pt deleted
    Path(retrained["model"]).unlink()
    with pytest.raises(RuntimeError, match=r"model\.pt: the served sub-model is missing"):
        audit([out["served"]], tmp_path / "requests.csv", data["train"], tmp_path / "audit_missing.json")
    assert json.loads((tmp_path / "audit_missing.json").read_text())["passed"] is False


def test_audit_fails_on_a_sidecar_without_file_hash_and_on_a_missing_aggregator(sharded):
    tmp_path, data, assignment, subs = sharded
    out, _ = run_unlearning(tmp_path, data, assignment, subs, mode="sequential", kind="mean")
    side = tmp_path / "unlearn_sequential" / "aggregator.json"
    info = json.loads(side.read_text())
    old = info.pop("artefact_sha256")
    side.write_text(json.dumps(info))  # as written before sidecars recorded it
    with pytest.raises(RuntimeError, match=r"aggregator\.json: records no sha256 of its aggregator .*rerun the job"):
        audit([out["served"]], tmp_path / "requests.csv", data["train"], tmp_path / "audit.json")
    side.write_text(json.dumps({**info, "artefact_sha256": old}))
    (tmp_path / "unlearn_sequential" / "aggregator.pt").unlink()
    with pytest.raises(RuntimeError, match=r"aggregator\.pt: the served aggregator is missing"):
        audit([out["served"]], tmp_path / "requests.csv", data["train"], tmp_path / "audit.json")


def test_unlearning_steps_of_both_modes_and_an_unknown_one():
    from recunlearn.requests import unlearning_steps

    rows = np.array([7, 3, 9])
    assert unlearning_steps("sequential", rows, 2) == [[7], [3]]
    assert unlearning_steps("batch", rows, 2) == [[7, 3, 9]]
    with pytest.raises(ValueError, match="unknown unlearning mode 'bacth'"):
        unlearning_steps("bacth", rows, 2)


def test_a_retrained_submodel_is_freed_after_its_unlearning_step(sharded, monkeypatch):
    """Sequential unlearning keeps the K sub-models' embeddings, not the retrained models: a weak reference to a
    retrained sub-model's parameter dies once its step is over (the embeddings handed to the aggregator are detached:
    copying a parameter into the stacked embeddings would make them an autograd node that keeps every retrained
    sub-model, and its gradients, alive until the end of the run)."""
    import gc
    import weakref

    import recunlearn.unlearn as unlearn_mod

    refs, real = [], unlearn_mod.train_submodel

    def spy(*args, **kwargs):
        cfg, res = real(*args, **kwargs)
        refs.append(weakref.ref(next(res.model.parameters())))
        return cfg, res

    monkeypatch.setattr(unlearn_mod, "train_submodel", spy)
    seen = []
    real_agg = unlearn_mod.train_aggregator

    def agg_spy(aggregator, model_name, base, agg, sub_p, sub_q, *args, **kwargs):
        gc.collect()
        seen.append([r() is None for r in refs[:-1]])  # every sub-model retrained in an earlier step is gone
        assert not sub_p.requires_grad and sub_p.grad_fn is None
        return real_agg(aggregator, model_name, base, agg, sub_p, sub_q, *args, **kwargs)

    monkeypatch.setattr(unlearn_mod, "train_aggregator", agg_spy)
    tmp_path, data, assignment, subs = sharded
    run_unlearning(tmp_path, data, assignment, subs, mode="sequential", kind="mean")
    gc.collect()
    assert len(refs) == 2 and seen[1] == [True]
    assert all(r() is None for r in refs)
