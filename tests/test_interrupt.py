"""A run killed with SIGKILL while shard jobs train resumes to the same metrics, leaving no half-written file.

The run is Table 6.4 of the tiny DAG: its jobs include every kind of training job, shard jobs among them."""

import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from conftest import ROOT, TINY_CONFIG, assert_job_metrics_equal, run_snakemake

pytestmark = pytest.mark.slow
TARGET = "results/tables/table_6_4.md"

def half_written(results):
    return [str(p) for p in results.rglob("*") if p.name.endswith((".tmp", ".part"))]


def test_sigkill_during_shard_training_then_resume(workdir, tiny_reference):
    conf = workdir / "test.yaml"
    conf.write_text(yaml.safe_dump(TINY_CONFIG))

    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
           "--cores", "2", TARGET, "--configfile", str(conf)]
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
    assert not (workdir / "results" / "tables" / "table_6_4.csv").exists()

    # rerun the same command; a killed Snakemake leaves its lock and the outputs of the jobs it was running, and
    # Snakemake then asks for --unlock or --rerun-incomplete (whichever it checks first)
    again = run_snakemake(workdir, TARGET, "--configfile", str(conf), check=False)
    if again.returncode != 0:
        said = again.stdout + again.stderr
        assert "--unlock" in said or "--rerun-incomplete" in said, said[-2000:]
        run_snakemake(workdir, TARGET, "--configfile", str(conf), "--unlock")
    run_snakemake(workdir, TARGET, "--configfile", str(conf), "--rerun-incomplete")
    assert (workdir / "results" / "tables" / "table_6_4.csv").exists()
    assert_job_metrics_equal(workdir / "results", tiny_reference.parent)
    assert half_written(workdir / "results") == []
