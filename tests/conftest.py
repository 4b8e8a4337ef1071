import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run Snakemake on the repository's Snakefile with ``workdir`` as working directory."""
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
           "--cores", "2", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A scratch working directory holding what the Snakefile reads relative to the working directory."""
    return prepare_workdir(tmp_path)


# A tiny configuration of the whole DAG (one model, K = 3, one timed request): for the interruption and SLURM tests.
TINY_CONFIG = {
    "datasets": ["synthetic"],
    "registry": {"synthetic": {"format": "synthetic", "synthetic": {
        "n_users": 120, "n_items": 150, "n_communities": 3, "mean_interactions": 20, "min_interactions": 5,
        "max_interactions": 50}}},
    "models": ["BPR"],
    "training": {"device": "cpu", "threads": 1, "gpus": 0, "seeds": [2022]},
    "hyperparameters": {"BPR": {"max_epochs": 30, "eval_every": 1, "patience": 30, "dim": 16}},
    "sharding": {"n_shards": 3, "partitions": ["random", "inbp"], "aggregators": ["mean", "att"], "rounds": 5},
    "aggregation": {"max_epochs": 2},
    "unlearning": {"n_requests": 3, "n_timed": 1, "n_retrain_timed": 1, "methods": ["RecEraser"], "k_values": [3]},
}



def prepare_workdir(path: Path) -> Path:
    shutil.copytree(ROOT / "config", path / "config")
    shutil.copytree(ROOT / "workflow" / "paper", path / "workflow" / "paper")
    return path


@pytest.fixture(scope="session")
def tiny_reference(tmp_path_factory) -> Path:
    """results/metrics.csv of an uninterrupted local run of TINY_CONFIG (computed once per session)."""
    import yaml

    ref = prepare_workdir(tmp_path_factory.mktemp("reference"))
    (ref / "test.yaml").write_text(yaml.safe_dump(TINY_CONFIG))
    run_snakemake(ref, "--configfile", str(ref / "test.yaml"))
    return ref / "results" / "metrics.csv"
