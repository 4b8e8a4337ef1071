"""User-level deletion: users chosen at random, among the most or the least active; a request deletes every one of
a user's training interactions and steps one user at a time; after a batch user deletion no served artefact was
trained on any interaction of a deleted user and none of them is evaluated; the audit fails when one is planted back;
the fairness gap against a naive per-user computation."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from recunlearn.data import Interactions, load_interactions
from recunlearn.metrics import active_users, fairness_gap
from recunlearn.run import JobContext, RunSpec, Settings
from recunlearn.sharded import shard_interactions
from recunlearn.requests import n_deleted_users, sample_user_requests, unlearning_steps, without
from recunlearn.audit import audit
from recunlearn.unlearn import unlearn_sharded
from recunlearn.user_unlearning import run_user_check

from conftest import inbp_shards, write_synthetic_splits

FAST = {"max_epochs": 3, "eval_every": 1, "patience": 5, "dim": 8}
CTX = JobContext(seed=4, device="cpu")


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("users")
    return tmp, write_synthetic_splits(tmp, 60, 80, 15)


@pytest.mark.parametrize("selection", ["random", "core", "edge"])
def test_a_request_is_every_training_interaction_of_one_chosen_user(split, selection):
    tmp, data = split
    train = load_interactions(data["train"])
    df = sample_user_requests(data["train"], tmp / f"{selection}.csv", 0.1, selection, seed=3)
    users = df.groupby("request")["user"].unique()
    assert (users.map(len) == 1).all() and len(users) == 6  # one user a request, 10% of 60
    chosen = np.array([u[0] for u in users])
    for u in chosen:
        got = sorted(df.loc[df["user"] == u, "row"])
        assert got == sorted(np.flatnonzero(train.user == u).tolist())
    assert (df["scope"] == "user").all() and (train.user[df["row"]] == df["user"]).all()
    activity = np.bincount(train.user, minlength=train.n_users)
    others = np.setdiff1d(np.flatnonzero(activity > 0), chosen)
    if selection == "core":
        assert activity[chosen].min() >= activity[others].max()
    if selection == "edge":
        assert activity[chosen].max() <= activity[others].min()
    again = sample_user_requests(data["train"], tmp / f"{selection}2.csv", 0.1, selection, seed=3)
    assert again.equals(df)  # seeded


def test_bad_shares_and_selections_are_one_line_errors_naming_the_key(split):
    tmp, data = split
    with pytest.raises(ValueError, match=r"user_unlearning.users = 1.5: expected a share in \(0, 1\)"):
        n_deleted_users(1.5, 60)
    with pytest.raises(ValueError, match="user_unlearning.users = 61: deletes 61 of the 60 users"):
        n_deleted_users(61, 60)
    with pytest.raises(ValueError, match="user_unlearning.selections: 'middle' is not one of random, core, edge"):
        sample_user_requests(data["train"], tmp / "x.csv", 0.1, "middle", seed=0)
    assert not (tmp / "x.csv").exists()


def test_sequential_steps_take_one_user_at_a_time():
    rows, request = np.array([4, 9, 2, 7, 5]), np.array([0, 0, 1, 1, 2])
    assert unlearning_steps("sequential", rows, 2, request) == [[4, 9], [2, 7]]
    assert unlearning_steps("batch", rows, 2, request) == [[4, 9, 2, 7, 5]]


def test_after_a_batch_user_deletion_no_artefact_saw_a_deleted_user_and_none_is_evaluated(split):
    tmp, data = split
    sample_user_requests(data["train"], tmp / "users.csv", 5, "random", seed=1)
    torch.manual_seed(0)
    spec = RunSpec("toy", "BPR", "inbp", 3, "att", "batch")
    assignment, subs = inbp_shards(tmp, data, {"user": torch.randn(60, 4), "item": torch.randn(80, 4)},
                                   spec.with_(aggregator=None, mode=None), CTX, Settings(FAST))
    part = {"assignment": assignment}
    # the model before the deletions: its aggregator over the shards, as the workflow's aggregate job writes it
    from recunlearn.jobs.sharding import run_aggregate

    before = {key: str(tmp / f"agg.{key}") for key in ("model", "sidecar", "history", "metrics")}
    run_aggregate(spec.with_(mode=None), CTX, Settings(FAST, {"max_epochs": 2}), data, subs, before)
    out = {"dir": str(tmp / "u"), "metrics": str(tmp / "m.csv"), "times": str(tmp / "t.csv"),
           "served": str(tmp / "served.json")}
    inputs = {**data, "assignment": part["assignment"], "requests": tmp / "users.csv"}
    unlearn_sharded(spec, CTX, Settings(FAST, {"max_epochs": 2}), inputs, subs, out, n_timed=5)

    train = load_interactions(data["train"])
    gone = pd.read_csv(tmp / "users.csv")["user"].unique()
    served = json.loads(Path(out["served"]).read_text())
    reduced = without(train, np.array(served["deleted_rows"]))
    assert not np.isin(reduced.user, gone).any()
    with np.load(part["assignment"]) as z:
        assign = z["shard"][~np.isin(train.user, gone)]
    for s in range(3):  # every served sub-model's recorded training set is its shard without the deleted users
        meta = json.loads(Path([a for a in served["artefacts"] if a.get("shard") == s][0]["sidecar"]).read_text())
        assert meta["trained_on"]["sha256"] == shard_interactions(reduced, None, s, assign=assign).sha256()
    assert audit([out["served"]], tmp / "users.csv", data["train"], tmp / "audit.json")["passed"]

    row = run_user_check(spec, CTX, {key: inputs[key] for key in ("train", "valid", "test", "requests")},
                         {"kind": "sharded", "aggregator": "att", "aggregator_sidecar": before["sidecar"]},
                         {"kind": "sharded", "method": "RecEraser", "mode": "batch", "selection": "random",
                          "manifest": out["served"], "times": out["times"]}, tmp / "row.csv")
    test = load_interactions(data["test"])
    assert row["users_deleted"] == 5 and row["deleted_users_evaluated"] == 0
    assert row["users_evaluated"] == len(np.setdiff1d(np.unique(test.user), gone))

    # plant a deleted user's interaction back into a served sub-model's lineage: the audit fails
    victim = [a for a in served["artefacts"] if a["kind"] == "sub-model" and a["retrained"]][0]
    meta = json.loads(Path(victim["sidecar"]).read_text())
    shard = victim["shard"]
    meta["trained_on"]["sha256"] = shard_interactions(train, None, shard, assign=np.load(part["assignment"])["shard"]
                                                      ).sha256()
    Path(victim["sidecar"]).write_text(json.dumps(meta))
    with pytest.raises(RuntimeError, match="forgetting audit failed"):
        audit([out["served"]], tmp / "users.csv", data["train"], tmp / "audit.json")


def test_ultrare_after_a_user_deletion_scores_each_remaining_user_with_its_own_group_and_is_exact(tmp_path):
    """UltraRE (the ot partition and its combiner) through a batch user deletion: only the deleted users' groups
    are retrained; the served combiner equals one built from scratch on the reduced data over the served sub-models
    (its groups those of the reduced data, the deleted users in none); its row is evaluated without them."""
    from recunlearn.aggregators.group import user_groups
    from recunlearn.artefacts import load_state
    from recunlearn.jobs.sharding import run_aggregate
    from recunlearn.sharded import load_submodels, train_aggregator

    data = write_synthetic_splits(tmp_path, 60, 80, 15)
    sample_user_requests(data["train"], tmp_path / "users.csv", 4, "core", seed=1)
    torch.manual_seed(0)
    spec = RunSpec("toy", "BPR", "ot", 3, "group", "batch")
    assignment, subs = inbp_shards(tmp_path, data, {"user": torch.randn(60, 4), "item": torch.randn(80, 4)},
                                   spec.with_(aggregator=None, mode=None), CTX, Settings(FAST), partition="ot")
    before = {key: str(tmp_path / f"agg.{key}") for key in ("model", "sidecar", "history", "metrics")}
    run_aggregate(spec.with_(mode=None), CTX, Settings(FAST), {**data, "assignment": assignment}, subs, before)
    assert json.loads(Path(before["sidecar"]).read_text())["partition_file"]["path"] == assignment
    out = {"dir": str(tmp_path / "u"), "metrics": str(tmp_path / "m.csv"), "times": str(tmp_path / "t.csv"),
           "served": str(tmp_path / "served.json")}
    inputs = {**data, "assignment": assignment, "requests": tmp_path / "users.csv"}
    times = unlearn_sharded(spec, CTX, Settings(FAST), inputs, subs, out, n_timed=4)

    train = load_interactions(data["train"])
    gone = pd.read_csv(tmp_path / "users.csv")["user"].unique()
    with np.load(assignment) as z:
        assign = z["shard"].astype(np.int64)
    groups = user_groups(train, assign, 3)
    assert times["shards_retrained"].iloc[0] == len(set(groups[gone].tolist()))  # ot keeps a user in one shard
    served = json.loads(Path(out["served"]).read_text())
    reduced = without(train, np.array(served["deleted_rows"]))
    reduced_assign = np.delete(assign, served["deleted_rows"])
    got = load_state(Path(out["dir"]) / "aggregator.pt")
    want_groups = np.where(np.isin(np.arange(60), gone), -1, groups)
    assert got["home"].tolist() == want_groups.tolist()
    sub_p, sub_q = load_submodels([a["embeddings"] for a in served["artefacts"] if a["kind"] == "sub-model"])
    _, ref, _ = train_aggregator("group", "BPR", FAST, {}, sub_p, sub_q, reduced, load_interactions(data["valid"]),
                                 4, "cpu", "ref", shard=reduced_assign)
    assert all(torch.equal(got[key], ref.state_dict()[key]) for key in got)
    assert audit([out["served"]], tmp_path / "users.csv", data["train"], tmp_path / "audit.json")["passed"]

    row = run_user_check(spec, CTX, {key: inputs[key] for key in ("train", "valid", "test", "requests")},
                         {"kind": "sharded", "aggregator": "group", "aggregator_sidecar": before["sidecar"]},
                         {"kind": "sharded", "method": "UltraRE", "mode": "batch", "selection": "core",
                          "manifest": out["served"], "times": out["times"]}, tmp_path / "row.csv")
    assert row["method"] == "UltraRE" and row["users_deleted"] == 4 and row["deleted_users_evaluated"] == 0


def test_fairness_gap_against_a_naive_per_user_computation():
    rng = np.random.default_rng(0)
    n_users, n_items = 40, 30
    pairs = np.array(sorted({(u, i) for u, i in zip(rng.integers(0, n_users, 400), rng.integers(0, n_items, 400))}))
    u, i = pairs[:, 0], pairs[:, 1]
    is_test = rng.random(len(u)) < 0.25
    train = Interactions(u[~is_test], i[~is_test], n_users, n_items)
    test = Interactions(u[is_test], i[is_test], n_users, n_items)
    scores = torch.from_numpy(rng.standard_normal((n_users, n_items)).astype(np.float32))
    active = active_users(train, 0.1)
    activity = np.bincount(train.user, minlength=n_users)
    assert active.sum() == 4 and activity[active].min() >= activity[~active & (activity > 0)].max()
    got = fairness_gap(lambda users: scores[users], test, [train], active, k=5)

    def naive_ndcg(user):
        s = scores[user].clone()
        s[torch.from_numpy(train.item[train.user == user])] = -np.inf
        top = torch.topk(s, 5).indices.tolist()
        held = set(test.item[test.user == user].tolist())
        dcg = sum(1 / np.log2(r + 2) for r, it in enumerate(top) if it in held)
        return dcg / sum(1 / np.log2(r + 2) for r in range(min(len(held), 5)))

    groups = {name: [naive_ndcg(x) for x in np.unique(test.user) if mask[x]]
              for name, mask in (("active", active), ("inactive", ~active))}
    assert got["NDCG@5 active"] == pytest.approx(np.mean(groups["active"]))
    assert got["NDCG@5 gap"] == pytest.approx(np.mean(groups["active"]) - np.mean(groups["inactive"]))
