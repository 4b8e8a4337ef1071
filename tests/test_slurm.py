"""The tiny DAG through a real one-node SLURM cluster (tests/slurm/start_cluster.sh, started by .ci/run as root):
every non-local job goes through sbatch, and the metrics equal a local run's."""

import os
import re
import shutil
import subprocess

import pytest
import yaml

from conftest import ROOT, TINY_CONFIG, run_snakemake

pytestmark = pytest.mark.slow


def cluster_idle() -> bool:
    if not shutil.which("sinfo"):
        return False
    out = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True)
    return out.returncode == 0 and "idle" in out.stdout


@pytest.fixture
def cluster():
    if not cluster_idle():
        if os.environ.get("RECUNLEARN_SLURM") == "1":
            pytest.fail("RECUNLEARN_SLURM=1 but no idle SLURM node (sinfo)")
        pytest.skip("no SLURM cluster here: .ci/run starts one as root (tests/slurm/start_cluster.sh)")


def test_tiny_dag_through_slurm_equals_local_run(cluster, workdir, tiny_reference):
    conf = workdir / "test.yaml"
    conf.write_text(yaml.safe_dump(TINY_CONFIG))
    proc = run_snakemake(workdir, "--workflow-profile", str(ROOT / "tests" / "slurm" / "profile"),
                         "--configfile", str(conf))
    log = proc.stdout + proc.stderr
    remote = re.findall(r"^rule (\w+):", log, flags=re.M)
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", log)
    assert remote and len(submitted) == len(remote) == len(set(submitted))  # every non-local job got an sbatch id
    assert {"train_shard", "aggregate", "unlearn", "retrain"} <= set(remote)
    assert "localrule table_6_3:" in log  # tables and figures stay local
    assert (workdir / "results" / "metrics.csv").read_bytes() == tiny_reference.read_bytes()
