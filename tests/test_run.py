"""A run's identity: built from a rule's wildcards, named as the paper names it, and serialised the same way in
metric rows, sidecars and times.csv."""

from types import SimpleNamespace

import pandas as pd
import pytest

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
