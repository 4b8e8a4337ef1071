# Python of the workflow: config validation, the dataset registry, input functions. No rules here.
import os
import re
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version

min_version("9.0")

# The workflow imports the checked-out library; rule scripts find it through the symlink
# workflow/scripts/recunlearn -> ../../src/recunlearn (Snakemake puts a script's folder on sys.path), so
# jobs run under --sdm conda, whose env holds only the dependencies, need no install of the package.
sys.path.insert(0, str(Path(workflow.basedir) / "src"))
# Snakemake appends the scripts folder to the END of a job's sys.path, so an installed recunlearn (say, an editable
# install of another clone) would win over that link: put this checkout's src first on every job's PYTHONPATH, so a
# job always runs the code of the workflow it belongs to (job processes, local or on a cluster, inherit it).
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        [str(Path(workflow.basedir) / "src")] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
)

# the paper's published numbers (CSV), read beside this workflow whatever the working directory
PAPER = str(Path(workflow.basedir) / "workflow" / "paper")

from recunlearn.config import ConfigError, hyperparameters, submodel_hyperparameters, validate_config
from recunlearn.config import wildcard_constraints
from recunlearn.datasets import local_path, resolve_registry, source_filename, split_mode
from recunlearn.experiments import ALL_METHODS, METHODS, combinations, methods_for, naming_overrides
from recunlearn.experiments import partition_options
from recunlearn.registry import AGGREGATORS, APPROXIMATE
from recunlearn.search_space import tuning_plan

try:
    validate_config(config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml")
except ConfigError as exc:
    raise WorkflowError(f"invalid configuration: {exc}") from None

REGISTRY = resolve_registry(config["registry"])
DATASETS = list(config["datasets"])
MODELS = list(config["models"])
# GPUs a training job asks for (the `gpu` resource a cluster profile turns into a request); 0 on CPU
TRAINING_GPUS = 0 if config["training"]["device"] == "cpu" else config["training"]["gpus"]
# the part of `training` a job's output depends on, its `training` param: the device (and the GPUs that decide what
# `auto` takes). Not the seeds (a job's seed is in its path, so adding a seed plans only that seed's jobs) nor the
# threads (they change the bits only within the tolerance of docs/guide/reproducibility.md, so changing them re-runs nothing)
TRAINING = {"device": config["training"]["device"], "gpus": config["training"]["gpus"]}


K = config["sharding"]["n_shards"]
# Seeds of the quality experiments (Table 6.3, Figs. 6.2 and 6.3, the scorecard): each runs once per seed on the
# one split of split.seed. Unlearning (Table 6.4, Fig. 6.4, the audit) runs on the first seed only.
SEEDS = list(config["training"]["seeds"])
UNLEARN_SEED = SEEDS[0]
# Unlearning modes: the paper's sequential requests, and all R at once (beyond the paper) unless turned off
MODES = ["sequential"] + (["batch"] if config["unlearning"]["batch_mode"] else [])
# (partition, aggregator) pairs: SISA, GraphEraser, RecEraser, and the ablations of Figs. 6.2 and 6.3
METHOD_COMBOS = list(METHODS.values())
COMBOS = combinations(config["sharding"]["partitions"], config["sharding"]["aggregators"])
# the registered models, partitions and aggregators (recunlearn/registry.py): the values their wildcards take
REGISTERED = wildcard_constraints()


wildcard_constraints:
    dataset="|".join(re.escape(name) for name in REGISTRY),
    filename=r"[^/]+",
    model=REGISTERED["model"],
    partition=REGISTERED["partition"],
    aggregator=REGISTERED["aggregator"],
    k=r"\d+",
    shard=r"\d+",
    mode="sequential|batch",
    request_set="members|requests",
    selection="random|core|edge",
    served=r"original|[A-Za-z][A-Za-z-]*\.(sequential|batch)",
    approx="|".join(APPROXIMATE),
    deletions="members|requests|random|core|edge",
    seed=r"\d+",


# ---------------------------------------------------------------------------- the layout of results/
# The one place the paths of seeded runs are spelt: the rules' outputs and the input functions below use these.
# Whatever depends on the training seed lives under seed<seed>/, right after its owner: the dataset (pretraining,
# partitions) or the base model (Retrain, sub-models, aggregators, unlearning, the audit). The split, MostPop and
# the deletion requests depend on no training seed and stay directly under results/<dataset>/.
PRETRAIN = "results/{dataset}/seed{seed}/pretrain"
PARTITION = "results/{dataset}/seed{seed}/partitions/{partition}_K{k}"
RETRAIN = "results/{dataset}/{model}/seed{seed}/retrain"
SHARDED = "results/{dataset}/{model}/seed{seed}/{partition}_K{k}"
SHARD = f"{SHARDED}/shard_{{shard}}"
AGGREGATE = f"{SHARDED}/{{aggregator}}"
UNLEARN = f"{AGGREGATE}/unlearn_{{mode}}"
UNLEARN_RETRAIN = f"{RETRAIN}/unlearn_{{mode}}"
AUDIT = "results/{dataset}/{model}/seed{seed}/unlearning"
# the forgetting check (docs/report/forgetting.md): its members' batch unlearning, the fine-tune shortcut, one row a method
FORGET = f"{AGGREGATE}/forget_{{mode}}"
FORGET_RETRAIN = f"{RETRAIN}/forget_{{mode}}"
FORGETTING = "results/{dataset}/{model}/seed{seed}/forgetting/{request_set}/{served}.csv"
# user-level deletion (docs/report/user_unlearning.md): a request set per selection, its unlearning, one row a method and mode
USER_REQUESTS = "results/{dataset}/user_unlearning/{selection}.csv"
USERS = f"{AGGREGATE}/users_{{selection}}_{{mode}}"
USERS_RETRAIN = f"{RETRAIN}/users_{{selection}}_{{mode}}"
USER_ROW = "results/{dataset}/{model}/seed{seed}/user_unlearning/{selection}/{served}.csv"
# approximate unlearning (docs/guide/method.md, section 10): from Retrain's model, per method, deletion set and mode
APPROX = f"{RETRAIN}/{{approx}}_{{deletions}}_{{mode}}"
MOSTPOP = "results/{dataset}/mostpop"
TUNE = "results/{dataset}/{model}/seed{seed}/tuning"


def at(template, name, **wildcards):
    """A file of one run: ``at(RETRAIN, "metrics.csv", dataset="ml-1m", model="WMF", seed=2022)``."""
    return f"{template}/{name}".format(**wildcards)


def dataset_spec(dataset):
    return REGISTRY[dataset]


SHARD_FILES = {"model": "model.pt", "embeddings": "embeddings.pt", "sidecar": "model.json", "history": "history.csv"}


def shard_outputs(key):
    """Input function: one output of every shard of an aggregation."""

    def paths(wildcards):
        return [f"{SHARD}/{SHARD_FILES[key]}".format(shard=i, **wildcards) for i in range(int(wildcards.k))]

    return paths


# the aggregator a method beyond the paper uses for a model, where the config names one (RecEraser-fast: RefitAgg for
# WMF and LightGCN in the shipped configs); the methods of one model are methods_of(model)
METHOD_AGGREGATORS = config["method_aggregators"]
UNLEARN_NAMES = list(config["unlearning"]["methods"])
# user-level deletion's methods, which may include UltraRE (beyond the paper), when it is on
USER_NAMES = list(config["user_unlearning"]["methods"]) if config["user_unlearning"]["enabled"] else []


def methods_of(model):
    """{method: (partition, aggregator)} of base model ``model``."""
    return methods_for(model, METHOD_AGGREGATORS)


def unlearn_methods(model):
    """[(method, partition, aggregator)] of ``unlearning.methods`` for base model ``model``."""
    return [(name, *methods_of(model)[name]) for name in UNLEARN_NAMES]


def method_aggregators(wildcards):
    """The ``method_aggregators`` param of a job that names a sharded run: what of the config's mapping names it."""
    return naming_overrides(wildcards.model, wildcards.partition, [wildcards.aggregator], METHOD_AGGREGATORS)


K_VALUES = list(config["unlearning"]["k_values"])
# the approximate methods the config runs, by their names in the tables (fine-tune, SCIF, IFRU) -> registered names
APPROX_NAMES = {APPROXIMATE[name].label: name for name in config["approximate"]["methods"]}
AGGREGATOR_FILES = {
    "model": "aggregator.pt",
    "sidecar": "aggregator.json",
    "history": "history.csv",
    "metrics": "metrics.csv",
}


# ---------------------------------------------------------------------------- the validation tuner
# tuning.enabled: Retrain's settings are tuned once per dataset and model, the sub-models' once per partition, each
# trained aggregator once per partition, all on the first seed and the main K (n_shards); every other seed and K
# reads those choices (recunlearn/tuning.py, docs/guide/tuning.md).
TUNING = config["tuning"]["enabled"]


def tuned_file(target, dataset, model, partition=None):
    """The tuning artefact whose choice a run of ``target`` (retrain or submodel) trains with; None untuned."""
    if not tuning_plan(config, target, model):
        return None
    if target == "retrain":
        return at(TUNE, "retrain.json", dataset=dataset, model=model, seed=UNLEARN_SEED)
    return at(TUNE, f"submodel_{partition}_K{K}.json", dataset=dataset, model=model, seed=UNLEARN_SEED)


def listed(path):
    """An optional input: [path], or [] for None."""
    return [] if path is None else [path]


def unlearn_file(dataset, model, partition, aggregator, k, mode, name, seed=UNLEARN_SEED):
    return at(
        UNLEARN,
        name,
        dataset=dataset,
        model=model,
        seed=seed,
        partition=partition,
        k=k,
        aggregator=aggregator,
        mode=mode,
    )


def all_targets():
    return [
        "results/metrics.csv",
        *multiext("results/tables/table_6_2", ".md", ".tex", ".csv"),
        *multiext("results/tables/table_6_3", ".md", ".tex", ".csv"),
        *multiext("results/figures/fig_6_2", ".png", ".pdf", ".csv"),
        *multiext("results/figures/fig_6_3", ".png", ".pdf", ".csv"),
        "results/tables/scorecard.md",
        *multiext("results/tables/table_6_4", ".md", ".tex", ".csv"),
        *multiext("results/figures/fig_6_4", ".png", ".pdf", ".csv"),
        *multiext("results/tables/frontier", ".md", ".tex", ".csv"),
        *multiext("results/figures/frontier", ".png", ".pdf"),
        "results/report/replication.md",
        *[at(AUDIT, "audit.json", dataset=d, model=m, seed=UNLEARN_SEED) for d in DATASETS for m in MODELS],
        *(
            [
                *multiext("results/tables/forgetting", ".md", ".tex", ".csv"),
                *multiext("results/figures/forgetting", ".png", ".pdf"),
            ]
            if FORGETTING_ON
            else []
        ),
        *(
            [
                *multiext("results/tables/user_unlearning", ".md", ".tex", ".csv"),
                *multiext("results/figures/user_unlearning", ".png", ".pdf"),
            ]
            if USERS_ON
            else []
        ),
    ]


def done_banner():
    """The end-of-run line: where the outputs are when the whole default target was built, else what was built."""
    dag = getattr(workflow, "dag", None)
    target_rules = sorted(r.name for r in getattr(dag, "targetrules", ()))
    target_files = sorted(str(f) for f in getattr(dag, "targetfiles", ()))
    if "all" in target_rules:
        return "recunlearn: done; tables in results/tables/, figures in results/figures/, all metrics in results/metrics.csv"
    built = ", ".join(target_files + [f"rule {r}" for r in target_rules]) or "the requested targets"
    return f"recunlearn: done; built {built}"
