"""Adding a base model is its config file under models/hparams/ and its module under models/; adding a partition is
one function plus its registration; adding an aggregator is one file under aggregators/ plus its registration
(docs/guide/extending.md). Proven on a copy of the
repository: the new names reach the wildcards, the schema, the jobs, Table 6.3 and Figs. 6.2 and 6.3 with no other
edit."""

import os
import shutil
import subprocess
import sys

import pandas as pd
import yaml

from conftest import ROOT, TINY_CONFIG

# a base model with the BPR loss: its config (one hyper-parameter of its own, torch-free) and its module
TOY_HPARAMS = '''"""The hyper-parameters of Toy (a test of the registry)."""

from __future__ import annotations

from dataclasses import dataclass

from ...registry import register_model
from . import ModelConfig, hp, like


@register_model("Toy", impl="recunlearn.models.toy:Toy", description="a throwaway model")
@dataclass(frozen=True)
class ToyConfig(ModelConfig):
    lr: float = like(ModelConfig, "lr", 0.1)
    scale: float = hp(1.0, "multiplies the initial embeddings", exclusiveMinimum=0)
'''
TOY_MODEL = '''"""Toy: BPR-MF under another name, its initial embeddings scaled (a test of the registry)."""

from __future__ import annotations

import torch

from .bpr import BPR


class Toy(BPR):
    def __init__(self, n_users, n_items, cfg, train):
        super().__init__(n_users, n_items, cfg, train)
        with torch.no_grad():
            self.user_emb.mul_(cfg.scale)
'''

# a partition algorithm: one function, and one line that registers it
MODULO_FUNCTION = '''

def modulo(train: Interactions, k: int, seed: int, **_):
    """Every user's interactions to shard user mod K (a test of the registry)."""
    return (train.user % k).astype(np.int64), {"rounds": 0, "converged": True, "unit": "user"}
'''
MODULO_REGISTRATION = ('\nregister_partition("modulo", "recunlearn.partition:modulo", paper_name="Modulo", '
                       'unit="users")\n')

# an aggregator: one file, and one line that registers it
FIRST_AGGREGATOR = '''"""FirstAgg: the first sub-model alone (a test of the registry)."""

from __future__ import annotations

from .base import _Aggregator


class FirstAgg(_Aggregator):
    def users(self, idx):
        return self.sub_p[0].index_select(0, idx)

    def items(self, idx):
        return self.sub_q[0].index_select(0, idx)
'''
FIRST_REGISTRATION = ('\nregister_aggregator("first", "recunlearn.aggregators.first:FirstAgg", paper_name="FirstAgg", '
                      'trained=False)\n')


def repository_copy(dest):
    dest.mkdir()
    for name in ("Snakefile", "workflow", "config", "envs", "src"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, dest / name)
    return dest


def snakemake(repo, *args, check=True):
    # the copy's Snakefile puts the copy's src/ first on every job's PYTHONPATH (workflow/rules/common.smk)
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(repo / "src")}
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(repo / "Snakefile"), "--directory",
                           str(repo), "--cores", "2", *args], capture_output=True, text=True, env=env)
    if check and proc.returncode:
        raise AssertionError(f"snakemake failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def test_a_model_file_a_partition_function_and_an_aggregator_file_reach_every_table(tmp_path):
    repo = repository_copy(tmp_path / "repo")
    (repo / "src" / "recunlearn" / "models" / "hparams" / "toy.py").write_text(TOY_HPARAMS)
    (repo / "src" / "recunlearn" / "models" / "toy.py").write_text(TOY_MODEL)
    (repo / "src" / "recunlearn" / "aggregators" / "first.py").write_text(FIRST_AGGREGATOR)
    with open(repo / "src" / "recunlearn" / "partition.py", "a") as fh:
        fh.write(MODULO_FUNCTION)
    with open(repo / "src" / "recunlearn" / "registry.py", "a") as fh:
        fh.write(MODULO_REGISTRATION + FIRST_REGISTRATION)
    config = {**TINY_CONFIG, "models": ["Toy"],
              "hyperparameters": {"Toy": {"max_epochs": 3, "patience": 3, "dim": 8, "scale": 2.0}},
              "sharding": {**TINY_CONFIG["sharding"], "partitions": ["modulo"], "aggregators": ["att", "first"],
                           "shard_jobs": "per_partition"}}
    (repo / "toy.yaml").write_text(yaml.safe_dump(config))

    # the schema: Toy's own key is known, a misspelt one is refused with the model named
    bad = {**config, "hyperparameters": {"Toy": {"scael": 2.0}}}
    (repo / "bad.yaml").write_text(yaml.safe_dump(bad))
    refused = snakemake(repo, "-n", "--configfile", str(repo / "bad.yaml"), check=False)
    assert refused.returncode != 0
    assert "config key 'hyperparameters.Toy.scael': unknown key" in refused.stdout + refused.stderr

    # the wildcards and the jobs: Table 6.3 and Fig. 6.2 built for the new model and the new partition
    snakemake(repo, "results/tables/table_6_3.md", "results/figures/fig_6_2.csv", "results/figures/fig_6_3.csv",
              "--configfile", str(repo / "toy.yaml"))
    sidecar = yaml.safe_load((repo / "results/synthetic/Toy/seed2022/retrain/model.json").read_text())
    assert sidecar["config"]["scale"] == 2.0 and sidecar["config"]["lr"] == 0.1
    table = pd.read_csv(repo / "results" / "tables" / "table_6_3.csv")
    assert set(table["model"]) == {"Toy"}
    assert (repo / "results/synthetic/seed2022/partitions/modulo_K3/assignment.npz").is_file()
    figure = pd.read_csv(repo / "results" / "figures" / "fig_6_2.csv")
    assert set(figure["variant"]) == {"Modulo"} and set(figure["model"]) == {"Toy"}
    aggregators = pd.read_csv(repo / "results" / "figures" / "fig_6_3.csv")
    assert set(aggregators["variant"]) == {"AttAgg", "FirstAgg"} and set(aggregators["model"]) == {"Toy"}
    first = yaml.safe_load((repo / "results/synthetic/Toy/seed2022/inbp_K3/first/aggregator.json").read_text())
    assert first["aggregator"] == "first"


def test_the_registries_are_read_without_torch():
    """The main Snakemake process reads the registries and the generated schema without importing torch (a user's
    --sdm conda setup has no torch outside the jobs' environments)."""
    code = ("import sys; from recunlearn.config import load_schema, "
            "wildcard_constraints; from recunlearn.experiments import partition_options; "
            f"s = load_schema({str(ROOT / 'workflow' / 'schemas' / 'config.schema.yaml')!r}); "
            "w = wildcard_constraints(); "
            "assert 'LightGCN' in w['model'] and 'inbp' in w['partition'], w; "
            "assert 'c0' in s['properties']['hyperparameters']['properties']['WMF']['properties']; "
            "print('torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False"
