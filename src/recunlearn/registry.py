"""The one list of base models, partition algorithms, aggregators and approximate unlearning methods
(docs/guide/method.md, sections 4, 6, 7 and 10).

The Snakemake wildcard constraints, the config schema's enums and per-model hyper-parameters, the experiment
combinations, the tables and figures all read these registries, so a new entry needs no other edit:

- a base model: its config dataclass under ``models/hparams/``, decorated with ``register_model``, and its
  ``nn.Module`` under ``models/`` (docs/guide/extending.md). Its fields' defaults are the defaults; the schema is
  generated from them.
- a partition algorithm: one function in ``partition.py`` plus a ``register_partition`` line below.
- an aggregator: one file under ``aggregators/`` plus a ``register_aggregator`` line below.
- an approximate unlearning method (one that starts from the trained model): one file under ``approximate/`` plus a
  ``register_approximate`` line below.

This module is torch-free, as the main Snakemake process imports it: an entry names its implementation as
``"module:attribute"``, imported only by the job that runs it. Importing ``recunlearn.models`` registers every
model (it imports the torch-free ``models/hparams/`` modules).
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ModelEntry:
    name: str
    config: type  # the frozen dataclass of its hyper-parameters: its field defaults are the defaults
    impl: str  # "module:Class" of the nn.Module (models/base.py's contract)
    description: str = ""


@dataclass(frozen=True)
class PartitionEntry:
    name: str
    impl: str  # "module:function", called as f(train, k, seed, user_emb=..., item_emb=..., **options)
    paper_name: str
    unit: str  # what it puts whole into one shard: interactions, users or items (bounds K)
    options: dict = field(default_factory=dict)  # {keyword of the function: key of the config's sharding section}


@dataclass(frozen=True)
class AggregatorEntry:
    name: str
    impl: str  # "module:Class" of the aggregator (a file under aggregators/)
    paper_name: str
    trained: bool = True  # False: no parameters to learn (MeanAgg), served as built
    # what the validation tuner (recunlearn.tuning) searches of the config's aggregation section, as a model's
    # search_space: {key: {low, high, log} or {choices}}
    search_space: dict = field(default_factory=dict)
    # True: it is also given each training interaction's shard (``shard=``), e.g. to know each user's own group
    uses_shards: bool = False
    # True: its parameters are fitted by its own ``solve(seed)`` (one full-batch fit), not by the epoch loop
    solver: bool = False


@dataclass(frozen=True)
class ApproximateEntry:
    name: str
    impl: str  # "module:function", called as f(model, full, deleted, valid, seed, device, **options) (approximate/)
    label: str  # its name in the tables
    # its settings: {keyword of the function: {"default": value, "minimum"/"enum": ..., "description": ...}}, read
    # from the config's approximate.<name> section
    options: dict = field(default_factory=dict)
    description: str = ""


MODELS: dict[str, ModelEntry] = {}
PARTITIONS: dict[str, PartitionEntry] = {}
AGGREGATORS: dict[str, AggregatorEntry] = {}
APPROXIMATE: dict[str, ApproximateEntry] = {}

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")  # a name is a path component and a wildcard value: no _ / . or -


def _check_name(kind: str, name: str, registry: dict) -> None:
    if not NAME.match(name):
        raise ValueError(f"{kind} name '{name}': expected letters and digits, starting with a letter")
    if name in registry:
        raise ValueError(f"{kind} '{name}' is registered twice")


def register_model(name: str, *, impl: str, description: str = ""):
    """Class decorator for a base model's config dataclass: registers the model ``name`` built by ``impl``."""

    def decorate(config_cls):
        _check_name("model", name, MODELS)
        MODELS[name] = ModelEntry(name, config_cls, impl, description)
        return config_cls

    return decorate


def register_partition(name: str, impl: str, *, paper_name: str, unit: str, options: dict | None = None) -> None:
    _check_name("partition", name, PARTITIONS)
    if unit not in ("interactions", "users", "items"):
        raise ValueError(f"partition '{name}': unit '{unit}', expected interactions, users or items")
    PARTITIONS[name] = PartitionEntry(name, impl, paper_name, unit, dict(options or {}))


def register_aggregator(name: str, impl: str, *, paper_name: str, trained: bool = True,
                        search_space: dict | None = None, uses_shards: bool = False, solver: bool = False) -> None:
    _check_name("aggregator", name, AGGREGATORS)
    AGGREGATORS[name] = AggregatorEntry(name, impl, paper_name, trained, dict(search_space or {}), uses_shards,
                                        solver)


def register_approximate(name: str, impl: str, *, label: str, options: dict | None = None,
                         description: str = "") -> None:
    _check_name("approximate method", name, APPROXIMATE)
    APPROXIMATE[name] = ApproximateEntry(name, impl, label, dict(options or {}), description)


def resolve(impl: str):
    """The object ``"module:attribute"`` names (imports the module)."""
    module, _, attr = impl.partition(":")
    return getattr(importlib.import_module(module), attr)


def lookup(registry: dict, kind: str, name: str):
    """``registry[name]``, or a one-line error naming what is registered."""
    if name not in registry:
        raise ValueError(f"unknown {kind} '{name}' (expected one of: {', '.join(registry)})")
    return registry[name]


def paper_name(name: str) -> str:
    """The paper's name of a partition or aggregator (InBP, AttAgg), else the name itself."""
    entry = PARTITIONS.get(name) or AGGREGATORS.get(name)
    return entry.paper_name if entry else name


register_partition("random", "recunlearn.partition:random_partition", paper_name="Random", unit="interactions")
register_partition("ubp", "recunlearn.partition:ubp", paper_name="UBP", unit="users",
                   options={"slack": "slack", "rounds": "rounds", "scalar_bug": "scalar_centroid_bug"})
register_partition("ibp", "recunlearn.partition:ibp", paper_name="IBP", unit="items",
                   options={"slack": "slack", "rounds": "rounds", "scalar_bug": "scalar_centroid_bug"})
register_partition("inbp", "recunlearn.partition:inbp", paper_name="InBP", unit="interactions",
                   options={"slack": "slack", "rounds": "rounds", "scalar_bug": "scalar_centroid_bug"})
register_partition("bekm", "recunlearn.partition:bekm", paper_name="BEKM", unit="users",
                   options={"rounds": "bekm_rounds"})
register_partition("ot", "recunlearn.partition:ot_partition", paper_name="OT", unit="users")  # UltraRE's

register_aggregator("mean", "recunlearn.aggregators.mean:MeanAgg", paper_name="MeanAgg", trained=False)
register_aggregator("static", "recunlearn.aggregators.static:StaticAgg", paper_name="StaticAgg",
                    search_space={"lr": {"low": 1.0e-3, "high": 0.5, "log": True}})
register_aggregator("att", "recunlearn.aggregators.attention:AttAgg", paper_name="AttAgg",
                    search_space={"lr": {"low": 5.0e-3, "high": 0.1, "log": True},
                                  "reg_weight": {"choices": [0.0, 1.0e-6, 1.0e-5, 1.0e-4, 1.0e-3]},
                                  "keep_prob": {"low": 0.5, "high": 1.0}})
# UltraRE's combiner (beyond the paper; docs/report/user_unlearning.md): each user's own group's embedding against every
# group model's items, averaged
register_aggregator("group", "recunlearn.aggregators.group:GroupAgg", paper_name="GroupAgg", trained=False, uses_shards=True)
# beyond the paper (docs/report/aggregator_designs.md): standardised sub-model scores weighted by shard membership, K + 3
# numbers fitted full-batch, for an unlearning request that costs about one sub-model's retraining
register_aggregator("memb", "recunlearn.aggregators.membership:MembAgg", paper_name="MembAgg", uses_shards=True, solver=True,
                    search_space={"reg_weight": {"choices": [0.0, 1.0e-5, 1.0e-4, 1.0e-2]},  # 1e-5: the config's
                                  "triples": {"choices": [5000, 20000, 80000]}})
# beyond the paper (docs/report/frontier.md): MembAgg over each sub-model's user vectors re-fitted to the user's whole
# profile by WMF's least-squares user step
register_aggregator("refit", "recunlearn.aggregators.membership:RefitAgg", paper_name="RefitAgg", uses_shards=True, solver=True,
                    search_space={"refit_reg": {"choices": [0.5, 1.0, 2.0, 4.0, 8.0]},  # 2: the config's
                                  "reg_weight": {"choices": [0.0, 1.0e-5, 1.0e-4, 1.0e-2]}})

# Approximate unlearning (docs/guide/method.md, section 10): methods that start from the trained model and keep
# parameters that saw the deleted interactions (not exact; the audit says so)
_DAMPING = {"default": 1.0, "minimum": 0, "description": "lambda added to the Hessian's diagonal (in the units of the "
            "model's summed objective)"}
_CG = {"default": 100, "minimum": 1, "description": "conjugate-gradient iterations at most (SciPy's cg)"}
register_approximate("finetune", "recunlearn.approximate.finetune:unlearn", label="fine-tune",
                     options={"epochs": {"default": 5, "minimum": 1, "description": "epochs of training, from the "
                                         "original model, on the training set minus the deletions"}},
                     description="a few more epochs without the deletions")
register_approximate("scif", "recunlearn.approximate.scif:unlearn", label="SCIF",
                     options={"damping": _DAMPING, "cg_iterations": _CG},
                     description="Li et al.'s selective and collaborative influence function: the deleted "
                                 "interactions' users and items, their direct influence")
register_approximate("ifru", "recunlearn.approximate.ifru:unlearn", label="IFRU",
                     options={"damping": _DAMPING, "cg_iterations": _CG,
                              "k_hops": {"default": 1, "minimum": 0, "description": "hops of the importance score "
                                         "from the deleted interactions' users and items"},
                              "keep_share": {"default": 0.6, "exclusiveMinimum": 0, "maximum": 1,
                                             "description": "share of the scored rows updated, the most important"}},
                     description="Zhang et al.'s influence function with the spillover through the graph and "
                                 "importance-based pruning")
