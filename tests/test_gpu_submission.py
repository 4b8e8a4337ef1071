"""With a GPU config, the SLURM plugin asks for a GPU for training jobs and for none for CPU-only rules.

The plugin builds the GPU part of each sbatch call from the job's resources (``set_gres_string``); we feed it the
resources Snakemake plans for every job of the paper config, as the plugin's own tests feed it mock jobs.
"""

import re
from types import SimpleNamespace

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

TRAINING = {"retrain", "pretrain", "train_shard", "aggregate", "unlearn", "unlearn_retrain"}


class Resources(dict):
    __getattr__ = dict.get


def planned(plan):
    """(rule, resources) of every job a dry run plans."""
    out = plan.stdout
    jobs = []
    for block in out.split("\nrule ")[1:] + out.split("\nlocalrule ")[1:]:
        rule = block.split(":")[0].strip()
        m = re.search(r"resources: (.*)", block)
        res = Resources()
        for kv in (m.group(1).split(", ") if m else []):
            k, _, v = kv.partition("=")
            res[k] = int(v) if v.isdigit() else v
        jobs.append((rule, res))
    return jobs


def test_training_jobs_ask_slurm_for_a_gpu(paper_plan):
    from snakemake_executor_plugin_slurm.utils import set_gres_string

    seen = set()
    for rule, res in planned(paper_plan):  # paper config: device auto, gpus 1
        flags = set_gres_string(SimpleNamespace(resources=res))
        if rule in TRAINING:
            assert flags.strip() == "--gpus=1", (rule, flags)
        else:
            assert "gpu" not in flags, (rule, flags)
        seen.add(rule)
    assert TRAINING <= seen and "preprocess" in seen
    res = Resources(gpu=1, gpu_model="a100")
    assert set_gres_string(SimpleNamespace(resources=res)).strip() == "--gpus=a100:1"


def test_cpu_config_asks_for_no_gpu(demo_plan):
    from snakemake_executor_plugin_slurm.utils import set_gres_string

    for rule, res in planned(demo_plan):
        assert "gpu" not in set_gres_string(SimpleNamespace(resources=res)), rule


def test_slurm_profile_is_valid_yaml_with_the_plugin():
    import yaml

    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    assert profile["executor"] == "slurm" and "slurm_partition" in profile["default-resources"]
