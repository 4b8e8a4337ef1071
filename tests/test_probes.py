"""Probes of the newer config blocks (tuning, forgetting, user_unlearning, unlearning.methods), the given split and
the sizes a config can ask for: each gives a one-line error naming the key or file and what was expected, or the
right result (docs/guide/bad_inputs.md). The overlays are the probes' own, over the tiny config or the demo's."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

from conftest import ROOT, TINY_CONFIG, run_snakemake, write_synthetic_splits
from recunlearn.config import MIN_MEMBERS, ConfigError, load_yaml, validate_config
from recunlearn.data import Interactions, load_interactions, preprocess_given
from recunlearn.requests import n_deleted_users, n_members, sample_requests
from recunlearn.sharded import train_submodel
from recunlearn.artefacts import chosen

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def with_overlay(overlay: dict, base: dict | None = None) -> dict:
    """``overlay`` merged key by key over the base config (as Snakemake merges a --configfile)."""
    def merge(a, b):
        for key, value in b.items():
            a[key] = merge(dict(a.get(key) or {}), value) if isinstance(value, dict) else value
        return a

    return merge(copy.deepcopy(base if base is not None else load_yaml(ROOT / "config" / "demo.yaml")), overlay)


def refused(overlay: dict, match: str, base: dict | None = None) -> None:
    with pytest.raises(ConfigError, match=match):
        validate_config(with_overlay(overlay, base), SCHEMA)


# ---------------------------------------------------------------------------- 1, 7. the check's members
@pytest.mark.parametrize("members", [1, 19])
def test_too_few_forgetting_members_are_refused_before_any_job(members):
    refused({"forgetting": {"enabled": True, "members": members}},
            rf"config key 'forgetting.members': {members} members, fewer than the {MIN_MEMBERS}")


def test_a_fraction_of_members_that_rounds_below_the_minimum_says_so():
    with pytest.raises(ValueError, match=r"forgetting.members = 0.0001: 0.0001 of the 80000 training interactions "
                                         r"is 8, fewer than the 20 the check needs .* a fraction of at least 0.00025"):
        n_members(0.0001, 80_000)


# ---------------------------------------------------------------------------- 2. nothing reported goes unaudited
def test_no_unlearning_method_is_refused_and_an_empty_audit_fails(tmp_path):
    refused({"unlearning": {"methods": []}}, "config key 'unlearning.methods': \\[\\] should be non-empty")
    from recunlearn.audit import audit

    with pytest.raises(ValueError, match="no served model to audit"):
        audit([], tmp_path / "requests.csv", tmp_path / "train.npz", tmp_path / "audit.json")
    assert not (tmp_path / "audit.json").exists()


def test_the_audit_covers_every_unlearned_model_fig_6_4_reports(workdir):
    cfg = {**TINY_CONFIG, "unlearning": {**TINY_CONFIG["unlearning"], "methods": ["SISA"], "k_values": [2, 3]}}
    (workdir / "probe.yaml").write_text(yaml.safe_dump(cfg))
    plan = run_snakemake(workdir, "--configfile", str(workdir / "probe.yaml"), "-n",
                         "results/synthetic/BPR/seed2022/unlearning/audit.json").stdout
    audit = plan[plan.index("rule audit:"):].split("\n\n")[0]
    inputs = audit.split("input:", 1)[1].split("\n")[0]
    assert "random_K3/mean/unlearn_sequential/served.json" in inputs  # SISA, the listed method
    for k in (2, 3):  # RecEraser at every K of Fig. 6.4, which Table 6.4 and Fig. 6.4 report
        assert f"inbp_K{k}/att/unlearn_sequential/served.json" in inputs


# ---------------------------------------------------------------------------- 3. the given split
def test_a_given_test_file_equal_to_the_train_file_is_refused_and_nothing_is_written(tmp_path):
    user = np.array([f"u{u}" for u in range(10) for _ in range(5)])
    item = np.array([f"i{(u + j) % 7}" for u in range(10) for j in range(5)])
    with pytest.raises(ValueError, match="mine: split mode 'given': the train split would be empty: all 50 distinct "
                                         "pairs of the train file are in the test file too"):
        preprocess_given((user, item), (user.copy(), item.copy()), tmp_path / "out", name="mine")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------- 4. deletions that leave nothing
def test_deletions_that_leave_nothing_to_train_on_are_named(tmp_path):
    splits = write_synthetic_splits(tmp_path, 30, 40, 10)
    train = load_interactions(splits["train"])
    with pytest.raises(ValueError, match=f"unlearning.n_requests = {len(train)}: equals the {len(train)} training"):
        sample_requests(splits["train"], tmp_path / "r.csv", len(train), 0)
    with pytest.raises(ValueError, match="user_unlearning.users = 30: deletes 30 of the 30 users"):
        n_deleted_users(30, 30)
    assert n_deleted_users(29, 30) == 29
    with pytest.raises(ValueError, match="would leave no training interaction"):
        n_members(1.0 * len(train), len(train))
    empty = Interactions(np.empty(0, np.int64), np.empty(0, np.int64), train.n_users, train.n_items)
    with pytest.raises(ValueError, match="toy/BPR/inbp_K3 shard 2: no training interaction to train on"):
        train_submodel("BPR", {"max_epochs": 1}, empty, train, 0, "cpu", "toy/BPR/inbp_K3 shard 2")


# ---------------------------------------------------------------------------- 5, 8. sizes the config asks for
@pytest.mark.parametrize("key", ["partitions", "aggregators"])
def test_no_partition_or_aggregator_is_refused(key):
    refused({"sharding": {key: []}}, f"config key 'sharding.{key}': \\[\\] should be non-empty")


@pytest.mark.parametrize("overlay,key", [({"sharding": {"n_shards": 100_000}}, "sharding.n_shards"),
                                         ({"unlearning": {"k_values": [5, 100_000]}}, "unlearning.k_values.1")])
def test_a_number_of_shards_beyond_1000_is_refused_at_once(overlay, key):
    refused(overlay, f"config key '{key}': 100000 is greater than the maximum of 1000")


# ---------------------------------------------------------------------------- 6. a damaged tuning choice
def test_a_truncated_tuning_choice_names_its_file(tmp_path):
    path = tmp_path / "retrain.json"
    path.write_text('{"kind": "tuning", "chosen": {"lr": 0.0')
    with pytest.raises(ValueError, match=f"{path}: not valid JSON .*delete it and run again"):
        chosen(path)


# ---------------------------------------------------------------------------- the smaller points
def test_a_tuner_range_without_the_configs_own_value_is_refused():
    refused({"tuning": {"enabled": True, "search_space": {"retrain": {"BPR": {"lr": {"low": 0.1, "high": 0.5}}}}}},
            r"'tuning.search_space.retrain.BPR.lr': the config's own lr \(0.001 on synthetic\), which the first "
            r"trial tries, is outside the range \[0.1, 0.5\]")


@pytest.mark.parametrize("aggregator", ["mean", "group"])
def test_a_search_space_of_an_aggregator_that_trains_nothing_is_refused(aggregator):
    refused({"tuning": {"search_space": {"aggregator": {aggregator: {"lr": {"low": 0.01, "high": 0.1}}}}}},
            f"'tuning.search_space.aggregator.{aggregator}': .* trains nothing, so it has nothing to tune")


def test_fig_6_3_names_the_group_aggregator_as_itself():
    from recunlearn.registry import paper_name

    assert paper_name("group") == "GroupAgg" and paper_name("ot") == "OT"
