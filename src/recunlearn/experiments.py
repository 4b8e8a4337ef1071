"""Which (partition, aggregator) combinations the experiments need, and what the paper calls them (docs/guide/method.md, section 8).

Table 6.3 compares Retrain with SISA (random + mean), GraphEraser (bekm + static) and RecEraser (inbp + att);
Fig. 6.2 runs RecEraser's aggregator over each partition; Fig. 6.3 runs each aggregator over InBP shards.
"""

from __future__ import annotations

from .registry import PARTITIONS, lookup

METHODS = {"SISA": ("random", "mean"), "GraphEraser": ("bekm", "static"), "RecEraser": ("inbp", "att")}
# methods beyond the paper, run where a config lists them (unlearning.methods, user_unlearning.methods): UltraRE (Li
# et al., NeurIPS 2023), its optimal-transport user groups and its combiner; RecEraser-fast, RecEraser's InBP shards
# under an exact aggregator whose request costs about SISA's: MembAgg by default, and per model what the config's
# ``method_aggregators`` names (RefitAgg for WMF and LightGCN in the shipped configs; docs/report/frontier.md)
BEYOND_PAPER = {"UltraRE": ("ot", "group"), "RecEraser-fast": ("inbp", "memb")}
ALL_METHODS = {**METHODS, **BEYOND_PAPER}


def check_method_aggregators(method_aggregators: dict, models, aggregators) -> None:
    """The config's ``method_aggregators`` ({method: {model: aggregator}}): a method beyond the paper (the paper's
    are fixed), a registered model and aggregator; a problem raises ValueError naming the key."""
    for method, per_model in method_aggregators.items():
        if method not in BEYOND_PAPER:
            raise ValueError(f"config key 'method_aggregators.{method}': expected a method beyond the paper ("
                             f"{', '.join(BEYOND_PAPER)}); the paper's methods keep their aggregators")
        for model, aggregator in per_model.items():
            where = f"method_aggregators.{method}.{model}"
            if model not in models:
                raise ValueError(f"config key '{where}': unknown model (expected one of: {', '.join(models)})")
            if aggregator not in aggregators:
                raise ValueError(f"config key '{where}': unknown aggregator '{aggregator}' (expected one of: "
                                 f"{', '.join(aggregators)})")


def methods_for(model: str | None, method_aggregators: dict | None = None) -> dict[str, tuple[str, str]]:
    """{method: (partition, aggregator)} for base model ``model``: ``ALL_METHODS`` with the config's
    ``method_aggregators`` ({method: {model: aggregator}}) over it."""
    over = method_aggregators or {}
    return {name: (partition, over.get(name, {}).get(model, aggregator))
            for name, (partition, aggregator) in ALL_METHODS.items()}


def partition_options(name: str, sharding: dict) -> dict:
    """The options of partition ``name`` from the ``sharding`` section of the config (each partition declares
    which config key each of its options is read from: ``registry.register_partition``)."""
    options = lookup(PARTITIONS, "partition", name).options
    return {option: sharding[key] for option, key in options.items()}


def naming_overrides(model: str, partition: str, aggregators, method_aggregators: dict) -> dict[str, str]:
    """{method: aggregator}: the part of the config's ``method_aggregators`` that names a run of ``model`` with
    ``partition`` under one of ``aggregators`` (a job's ``method_aggregators`` param: a change elsewhere in the
    mapping re-runs nothing of it)."""
    out = {}
    for name, per_model in method_aggregators.items():
        if model in per_model and ALL_METHODS[name][0] == partition and (
                ALL_METHODS[name][1] in aggregators or per_model[model] in aggregators):
            out[name] = per_model[model]
    return out


def method_name(partition: str, aggregator: str, methods: dict | None = None) -> str:
    """The name of a combination among ``methods`` (default ``ALL_METHODS``; a model's: ``methods_for``), or
    ``<partition>+<aggregator>`` for an ablation."""
    for name, combo in (ALL_METHODS if methods is None else methods).items():
        if combo == (partition, aggregator):
            return name
    return f"{partition}+{aggregator}"


def combinations(fig_partitions, fig_aggregators) -> list[tuple[str, str]]:
    """Every (partition, aggregator) to train: the three methods, Fig. 6.2 (partitions with att) and Fig. 6.3
    (aggregators over inbp), without repeats, in a stable order."""
    combos = list(METHODS.values())
    combos += [(p, "att") for p in fig_partitions]
    combos += [("inbp", a) for a in fig_aggregators]
    seen, out = set(), []
    for c in combos:
        if c not in seen:
            seen.add(c)
            out.append(c)
    return out
