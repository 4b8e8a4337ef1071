"""With a GPU config, the SLURM plugin asks for a GPU for training jobs and for none for CPU-only rules.

The plugin builds the GPU part of each sbatch call from the job's resources (``set_gres_string``); we feed it the
resources Snakemake plans for every job of the paper config, as the plugin's own tests feed it mock jobs.
"""

import re
from types import SimpleNamespace

import pytest

from recunlearn.registry import AGGREGATORS

from conftest import ROOT

pytestmark = pytest.mark.slow

TRAINING = {"retrain", "pretrain", "train_shard", "aggregate", "unlearn", "unlearn_retrain", "forget_unlearn", "forget_retrain",
            "unlearn_approximate", "unlearn_users", "unlearn_users_retrain"}


class Resources(dict):
    __getattr__ = dict.get


def planned(plan, with_wildcards=False):
    """(rule, resources[, wildcards]) of every job a dry run plans."""
    out = plan.stdout
    jobs = []
    for block in out.split("\nrule ")[1:] + out.split("\nlocalrule ")[1:]:
        rule = block.split(":")[0].strip()
        m = re.search(r"resources: (.*)", block)
        res = Resources()
        for kv in (m.group(1).split(", ") if m else []):
            k, _, v = kv.partition("=")
            res[k] = int(v) if v.isdigit() else v
        w = re.search(r"wildcards: (.*)", block)
        wildcards = dict(kv.partition("=")[::2] for kv in w.group(1).split(", ")) if w else {}
        jobs.append((rule, res, wildcards) if with_wildcards else (rule, res))
    return jobs


def test_training_jobs_ask_slurm_for_a_gpu(paper_plan):
    from snakemake_executor_plugin_slurm.utils import set_gres_string

    seen, mean = set(), 0
    for rule, res, wildcards in planned(paper_plan, with_wildcards=True):  # paper config: device auto, gpus 1
        flags = set_gres_string(SimpleNamespace(resources=res))
        # MeanAgg and UltraRE's combiner train nothing: no GPU
        if rule == "aggregate" and not AGGREGATORS[wildcards.get("aggregator")].trained:
            assert "gpu" not in flags, (rule, wildcards, flags)
            mean += 1
        elif rule in TRAINING or re.fullmatch(r"train_[a-z]+_K[0-9]+", rule):
            assert flags.strip() == "--gpus=1", (rule, flags)
        else:
            assert "gpu" not in flags, (rule, flags)
        seen.add(rule)
    assert TRAINING <= seen and "preprocess" in seen and mean
    res = Resources(gpu=1, gpu_model="a100")
    assert set_gres_string(SimpleNamespace(resources=res)).strip() == "--gpus=a100:1"


def test_per_partition_jobs_ask_for_a_gpu_and_the_profile_names_their_rules(tmp_path):
    """The demo's per_partition jobs (train_<partition>_K<k>, which train sub-models and aggregators) ask SLURM for a
    GPU when the device is not cpu, and the SLURM profile's example names those rules, not only train_shard."""
    from snakemake_executor_plugin_slurm.utils import set_gres_string

    from conftest import prepare_workdir, run_snakemake

    overlay = tmp_path / "gpu.yaml"
    overlay.write_text("training: {device: auto, gpus: 1}\n")
    plan = run_snakemake(prepare_workdir(tmp_path / "w"), "-n", "--configfile", str(ROOT / "config" / "demo.yaml"),
                         str(overlay))
    jobs = planned(plan)
    per_partition = [res for rule, res in jobs if re.fullmatch(r"train_[a-z]+_K[0-9]+", rule)]
    assert per_partition and all(set_gres_string(SimpleNamespace(resources=r)).strip() == "--gpus=1"
                                 for r in per_partition)
    assert all("gpu" not in set_gres_string(SimpleNamespace(resources=r)) for rule, r in jobs if rule == "preprocess")
    assert "train_<partition>_K<k>" in (ROOT / "profiles" / "slurm" / "config.yaml").read_text()


def test_cpu_config_asks_for_no_gpu(demo_plan):
    from snakemake_executor_plugin_slurm.utils import set_gres_string

    for rule, res in planned(demo_plan):
        assert "gpu" not in set_gres_string(SimpleNamespace(resources=res)), rule


def test_slurm_profile_is_valid_yaml_with_the_plugin():
    import yaml

    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    assert profile["executor"] == "slurm" and "slurm_partition" in profile["default-resources"]
