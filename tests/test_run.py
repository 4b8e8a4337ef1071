"""A run's identity: built from a rule's wildcards, named as the paper names it, and serialised the same way in
metric rows, sidecars and times.csv."""

import re
from types import SimpleNamespace

import pandas as pd
import pytest

from recunlearn.experiments import check_method_aggregators, methods_for, naming_overrides
from recunlearn.report.render import shown_method
from recunlearn.results import COLUMNS
from recunlearn.run import JobContext, RunSpec, Settings
from recunlearn.report.timing import IDENTITY, read_times


def test_runspec_from_wildcards_names_the_shard_count_n_shards():
    w = SimpleNamespace(dataset="ml-1m", model="BPR", seed="2022", partition="inbp", k="10", aggregator="att",
                        mode="batch")
    spec = RunSpec.from_wildcards(w)
    assert spec == RunSpec("ml-1m", "BPR", "inbp", 10, "att", "batch")
    assert spec.method == "RecEraser" and spec.shards == "inbp_K10"
    assert spec.label() == "ml-1m/BPR/inbp_K10/att unlearn batch"
    assert spec.metric_labels() == {"dataset": "ml-1m", "model": "BPR", "method": "RecEraser (unlearned, batch)",
                                    "partition": "inbp", "aggregator": "att", "n_shards": 10}
    retrain = RunSpec.from_wildcards(SimpleNamespace(dataset="ml-1m", model="WMF", seed="1"))
    assert retrain.method == "Retrain" and retrain.label() == "ml-1m/WMF/retrain"
    assert retrain.metric_labels() == {"dataset": "ml-1m", "model": "WMF", "method": "Retrain"}
    assert RunSpec("d", "BPR", "ibp", 3, "att").method == "ibp+att"
    assert RunSpec("d", "BPR", "bekm", 3, "static").method == "GraphEraser"
    # the metric labels are columns of a metric row; the identity holds the times.csv columns
    assert set(spec.metric_labels()) <= set(COLUMNS)
    assert set(spec.identity()) | {"seed"} == set(IDENTITY)


def test_a_method_beyond_the_paper_takes_the_aggregator_the_config_names_for_the_model():
    """RecEraser-fast is InBP under MembAgg unless the config's method_aggregators names another aggregator for the
    model: a run is named by its job's method_aggregators param, which holds only what of the mapping names it."""
    mapping = {"RecEraser-fast": {"WMF": "refit", "LightGCN": "refit"}}
    assert methods_for("BPR", mapping)["RecEraser-fast"] == ("inbp", "memb")
    assert methods_for("WMF", mapping)["RecEraser-fast"] == ("inbp", "refit")
    assert methods_for("WMF", mapping)["RecEraser"] == ("inbp", "att")  # the paper's methods keep theirs
    # what a job is told: the mapping's entries that name its (partition, aggregator) either way
    assert naming_overrides("WMF", "inbp", ["refit"], mapping) == {"RecEraser-fast": "refit"}
    assert naming_overrides("WMF", "inbp", ["memb"], mapping) == {"RecEraser-fast": "refit"}
    assert naming_overrides("WMF", "inbp", ["att"], mapping) == {}
    assert naming_overrides("BPR", "inbp", ["memb", "refit"], mapping) == {}
    assert naming_overrides("WMF", "random", ["refit"], mapping) == {}

    def job(model, aggregator, given):
        params = SimpleNamespace() if given is None else SimpleNamespace(method_aggregators=given)
        w = SimpleNamespace(dataset="d", model=model, seed="1", partition="inbp", k="3", aggregator=aggregator)
        return SimpleNamespace(wildcards=w, params=params, rule="aggregate")

    refit = naming_overrides("WMF", "inbp", ["refit"], mapping)
    assert RunSpec.from_job(job("WMF", "refit", refit)).method == "RecEraser-fast"
    assert RunSpec.from_job(job("WMF", "memb", refit)).method == "inbp+memb"
    assert RunSpec.from_job(job("BPR", "memb", {})).method == "RecEraser-fast"
    assert RunSpec.from_job(job("BPR", "refit", {})).method == "inbp+refit"
    served = RunSpec.from_job(job("WMF", "refit", refit)).with_(mode="batch")
    assert served.metric_labels()["method"] == "RecEraser-fast (unlearned, batch)"
    assert "method_aggregators" not in served.identity()
    with pytest.raises(ValueError, match="rule aggregate: params.method_aggregators is missing"):
        RunSpec.from_job(job("WMF", "refit", None))


def test_method_aggregators_are_checked_naming_the_key():
    check_method_aggregators({"RecEraser-fast": {"WMF": "refit"}}, ["BPR", "WMF"], ["memb", "refit"])
    for mapping, message in (({"RecEraser": {"WMF": "refit"}}, "'method_aggregators.RecEraser': expected a method "
                                                              "beyond the paper"),
                             ({"RecEraser-fast": {"NGCF": "refit"}}, "'method_aggregators.RecEraser-fast.NGCF': "
                                                                    "unknown model"),
                             ({"RecEraser-fast": {"WMF": "refitt"}}, "'method_aggregators.RecEraser-fast.WMF': "
                                                                    "unknown aggregator 'refitt'")):
        with pytest.raises(ValueError, match=re.escape(message)):
            check_method_aggregators(mapping, ["BPR", "WMF"], ["memb", "refit"])


def test_a_table_shows_the_aggregator_that_served_a_method_beyond_the_paper():
    assert shown_method("RecEraser-fast", "refit") == "RecEraser-fast (RefitAgg)"
    assert shown_method("UltraRE", "group") == "UltraRE (GroupAgg)"
    assert shown_method("RecEraser", "att") == "RecEraser"
    assert shown_method("Retrain", float("nan")) == "Retrain"


def test_job_context_and_settings_from_a_snakemake_job():
    job = SimpleNamespace(wildcards=SimpleNamespace(seed="7"), threads=3,
                          params=SimpleNamespace(training={"device": "cpu"}, hyper={"dim": 8},
                                                 evaluation={"ks": [5, 10], "batch_users": 64}))
    assert JobContext.from_job(job) == JobContext(seed=7, device="cpu", threads=3, cutoffs=(5, 10), batch_users=64)
    assert Settings.from_job(job) == Settings(hyper={"dim": 8})
    job.params = SimpleNamespace(training={"device": "auto"})  # pretraining has no evaluation section
    assert JobContext.from_job(job).cutoffs == (10, 20, 50)


def test_times_without_identity_columns_are_refused(tmp_path):
    path = tmp_path / "results" / "d" / "BPR" / "inbp_K3" / "att" / "unlearn_sequential" / "times.csv"
    path.parent.mkdir(parents=True)
    pd.DataFrame({"step": [0], "total_seconds": [1.0]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"times.csv: not a times.csv of an unlearning job \(expected the identity "
                                         r"columns .*missing: dataset, model, method"):
        read_times([path])
