"""Table 6.4 of the tiny DAG through a real one-node SLURM cluster (tests/slurm/start_cluster.sh, started by .ci/run
as root): every non-local job goes through sbatch, and each job's metrics equal the local run's.

Table 6.4 is targeted rather than the whole DAG: its 18 jobs hold every kind of training job (retrain, pretrain,
partition, train_shard, aggregate, unlearn, unlearn_retrain) and cost under a third of the whole DAG's 61 round trips
through sbatch and the status checks."""

import os
import re
import shutil
import subprocess

import pytest
import yaml

from conftest import ROOT, TINY_CONFIG, assert_job_metrics_equal, run_snakemake

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


def test_table_6_4_through_slurm_equals_local_run(cluster, workdir, tiny_reference):
    conf = workdir / "test.yaml"
    conf.write_text(yaml.safe_dump(TINY_CONFIG))
    proc = run_snakemake(workdir, "results/tables/table_6_4.md", "--workflow-profile",
                         str(ROOT / "tests" / "slurm" / "profile"), "--configfile", str(conf))
    log = proc.stdout + proc.stderr
    remote = re.findall(r"^rule (\w+):", log, flags=re.M)
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", log)
    assert remote and len(submitted) == len(remote) == len(set(submitted))  # every non-local job got an sbatch id
    assert {"train_shard", "aggregate", "unlearn", "unlearn_retrain", "retrain"} <= set(remote)
    assert "localrule table_6_4:" in log  # tables and figures stay local
    assert_job_metrics_equal(workdir / "results", tiny_reference.parent)  # the local run's results/
