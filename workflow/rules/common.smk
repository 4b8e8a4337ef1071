# Python of the workflow: config validation, the dataset registry, input functions. No rules here.
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

from recunlearn.config import ConfigError, hyperparameters, validate_config
from recunlearn.datasets import resolve_registry, source_filename
from recunlearn.experiments import METHODS, combinations

try:
    validate_config(config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml")
except ConfigError as exc:
    raise WorkflowError(f"invalid configuration: {exc}") from None

REGISTRY = resolve_registry(config["registry"])
DATASETS = list(config["datasets"])
MODELS = list(config["models"])
# GPUs a training job asks for (the `gpu` resource a cluster profile turns into a request); 0 on CPU
TRAINING_GPUS = 0 if config["training"]["device"] == "cpu" else config["training"]["gpus"]
K = config["sharding"]["n_shards"]
# (partition, aggregator) pairs: SISA, GraphEraser, RecEraser, and the ablations of Figs. 6.2 and 6.3
METHOD_COMBOS = list(METHODS.values())
COMBOS = combinations(config["sharding"]["partitions"], config["sharding"]["aggregators"])


wildcard_constraints:
    dataset="|".join(re.escape(name) for name in REGISTRY),
    filename=r"[^/]+",
    model="BPR|WMF|LightGCN",
    partition="random|ubp|ibp|inbp|bekm",
    aggregator="mean|static|att",
    k=r"\d+",
    shard=r"\d+",
    mode="sequential|batch",


def dataset_spec(dataset):
    return REGISTRY[dataset]


def source_of(dataset, filename):
    """The registry source of resources/<dataset>/<filename>."""
    for source in dataset_spec(dataset)["sources"]:
        if source_filename(source) == filename:
            return source
    raise WorkflowError(f"dataset '{dataset}' has no source stored as '{filename}'")


def raw_files(wildcards):
    """Raw inputs of a dataset: its downloaded sources, or the generator's output."""
    spec = dataset_spec(wildcards.dataset)
    if spec["format"] == "synthetic":
        return [f"results/{wildcards.dataset}/raw/interactions.tsv"]
    return [f"resources/{wildcards.dataset}/{source_filename(s)}" for s in spec["sources"]]


def raw_members(wildcards):
    """The zip member to read of each raw input (None: the file itself)."""
    spec = dataset_spec(wildcards.dataset)
    if spec["format"] == "synthetic":
        return [None]
    return [s.get("member") for s in spec["sources"]]


def partition_options(wildcards):
    """Options of a partition algorithm, from config['sharding']."""
    s = config["sharding"]
    if wildcards.partition == "random":
        return {}
    if wildcards.partition == "bekm":
        return {"rounds": s["bekm_rounds"]}
    return {"slack": s["slack"], "rounds": s["rounds"], "scalar_bug": s["scalar_centroid_bug"]}


def shard_outputs(key):
    """Input function: one output of every shard job of an aggregation."""

    def paths(wildcards):
        return [
            rules.train_shard.output[key].format(shard=i, **wildcards)
            for i in range(int(wildcards.k))
        ]

    return paths


def sharded_metric_files(datasets=None, models=None, k=None):
    k = K if k is None else k
    return [
        f"results/{d}/{m}/{p}_K{k}/{a}/metrics.csv"
        for d in (datasets or DATASETS)
        for m in (models or MODELS)
        for p, a in COMBOS
    ]


UNLEARN_METHODS = [(name, *METHODS[name]) for name in config["unlearning"]["methods"]]
K_VALUES = list(config["unlearning"]["k_values"])


def unlearn_file(dataset, model, partition, aggregator, k, mode, name):
    return f"results/{dataset}/{model}/{partition}_K{k}/{aggregator}/unlearn_{mode}/{name}"


def served_manifests(wildcards):
    """The served (unlearned) models of a dataset and model that the audit checks: every method, both modes."""
    return [
        unlearn_file(wildcards.dataset, wildcards.model, p, a, K, mode, "served.json")
        for _, p, a in UNLEARN_METHODS
        for mode in ("sequential", "batch")
    ]


def timing_files(datasets=None, models=None):
    """times.csv and benchmark.tsv of every timing job: Table 6.4 and Fig. 6.4."""
    out = []
    for d in datasets or DATASETS:
        for m in MODELS:
            for mode in ("sequential", "batch"):
                out.append(f"results/{d}/{m}/retrain/unlearn_{mode}/times.csv")
                out += [unlearn_file(d, m, p, a, K, mode, "times.csv") for _, p, a in UNLEARN_METHODS]
            out += [unlearn_file(d, m, "inbp", "att", k, "sequential", "times.csv") for k in K_VALUES]
    return sorted(set(out))


def unlearning_metric_files():
    out = []
    for d in DATASETS:
        for m in MODELS:
            for mode in ("sequential", "batch"):
                out.append(f"results/{d}/{m}/retrain/unlearn_{mode}/metrics.csv")
                out += [unlearn_file(d, m, p, a, K, mode, "metrics.csv") for _, p, a in UNLEARN_METHODS]
            out += [unlearn_file(d, m, "inbp", "att", k, "sequential", "metrics.csv") for k in K_VALUES]
            out += [f"results/{d}/{m}/inbp_K{k}/att/metrics.csv" for k in K_VALUES]
            out += [f"results/{d}/{m}/{p}_K{K}/{a}/metrics.csv" for _, p, a in UNLEARN_METHODS]
            out.append(f"results/{d}/{m}/retrain/metrics.csv")
    return sorted(set(out))


def metric_files():
    """Every per-evaluation metrics file the config asks for (gathered into results/metrics.csv)."""
    files = (
        [f"results/{d}/mostpop/metrics.csv" for d in DATASETS]
        + [f"results/{d}/{m}/retrain/metrics.csv" for d in DATASETS for m in MODELS]
        + sharded_metric_files()
    )
    return files + [f for f in unlearning_metric_files() if f not in files]


def table_6_3_inputs():
    """Retrain and the three named methods, per dataset and model: all that Table 6.3 needs."""
    return [f"results/{d}/{m}/retrain/metrics.csv" for d in DATASETS for m in MODELS] + [
        f"results/{d}/{m}/{p}_K{K}/{a}/metrics.csv"
        for d in DATASETS
        for m in MODELS
        for p, a in METHOD_COMBOS
    ]


def figure_variants(wildcards):
    s = config["sharding"]
    return s["partitions"] if wildcards.figure == "fig_6_2" else s["aggregators"]


def figure_inputs(wildcards):
    combos = (
        [(p, "att") for p in figure_variants(wildcards)]
        if wildcards.figure == "fig_6_2"
        else [("inbp", a) for a in figure_variants(wildcards)]
    )
    return [f"results/{d}/{m}/{p}_K{K}/{a}/metrics.csv" for d in DATASETS for m in MODELS for p, a in combos]


def all_targets():
    return [
        "results/metrics.csv",
        *multiext("results/tables/table_6_2", ".md", ".tex", ".csv"),
        *multiext("results/tables/table_6_3", ".md", ".tex", ".csv"),
        *multiext("results/figures/fig_6_2", ".png", ".pdf"),
        *multiext("results/figures/fig_6_3", ".png", ".pdf"),
        "results/tables/scorecard.md",
        *multiext("results/tables/table_6_4", ".md", ".tex", ".csv"),
        *multiext("results/figures/fig_6_4", ".png", ".pdf"),
        *[f"results/{d}/{m}/unlearning/audit.json" for d in DATASETS for m in MODELS],
    ]
