"""A run killed with SIGKILL while shard jobs train resumes to the same metrics, leaving no half-written file."""

import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from conftest import ROOT, run_snakemake

pytestmark = pytest.mark.slow

CONFIG = {
    "datasets": ["synthetic"],
    "registry": {"synthetic": {"format": "synthetic", "synthetic": {
        "n_users": 120, "n_items": 150, "n_communities": 3, "mean_interactions": 20, "min_interactions": 5,
        "max_interactions": 50}}},
    "models": ["BPR"],
    "training": {"device": "cpu", "threads": 1, "gpus": 0},
    "hyperparameters": {"BPR": {"max_epochs": 30, "eval_every": 1, "patience": 30, "dim": 16}},
    "sharding": {"n_shards": 3, "partitions": ["random", "inbp"], "aggregators": ["mean", "att"], "rounds": 5},
    "aggregation": {"max_epochs": 2},
    "unlearning": {"n_requests": 3, "n_timed": 1, "n_retrain_timed": 1, "methods": ["RecEraser"], "k_values": [3]},
}


def half_written(results):
    return [str(p) for p in results.rglob("*") if p.name.endswith((".tmp", ".part"))]


def test_sigkill_during_shard_training_then_resume(workdir, tmp_path_factory):
    conf = workdir / "test.yaml"
    conf.write_text(yaml.safe_dump(CONFIG))
    reference = tmp_path_factory.mktemp("reference")
    for sub in ("config", "workflow"):
        os.symlink(workdir / sub, reference / sub)
    run_snakemake(reference, "--configfile", str(conf))

    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
           "--cores", "2", "--configfile", str(conf)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 240
    shards = workdir / "results" / "synthetic" / "BPR"
    while time.monotonic() < deadline and proc.poll() is None:
        if any(p.name == "train.log" for p in shards.rglob("shard_*/train.log")):
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before any shard job started"
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (workdir / "results" / "metrics.csv").exists()

    # rerun the same command; a killed Snakemake leaves its lock, and Snakemake then asks for --unlock
    again = run_snakemake(workdir, "--configfile", str(conf), check=False)
    if again.returncode != 0:
        assert "--unlock" in again.stdout + again.stderr
        run_snakemake(workdir, "--configfile", str(conf), "--unlock")
    run_snakemake(workdir, "--configfile", str(conf), "--rerun-incomplete")
    assert (workdir / "results" / "metrics.csv").read_bytes() == (reference / "results" / "metrics.csv").read_bytes()
    assert half_written(workdir / "results") == []
