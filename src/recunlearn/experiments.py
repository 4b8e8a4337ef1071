"""Which (partition, aggregator) combinations the experiments need, and what the paper calls them (docs/method.md, section 8).

Table 6.3 compares Retrain with SISA (random + mean), GraphEraser (bekm + static) and RecEraser (inbp + att);
Fig. 6.2 runs RecEraser's aggregator over each partition; Fig. 6.3 runs each aggregator over InBP shards.
"""

from __future__ import annotations

from .registry import PARTITIONS, lookup

METHODS = {"SISA": ("random", "mean"), "GraphEraser": ("bekm", "static"), "RecEraser": ("inbp", "att")}
# methods beyond the paper, run where a config lists them (unlearning.methods, user_unlearning.methods): UltraRE (Li
# et al., NeurIPS 2023), its optimal-transport user groups and its combiner; RecEraser-fast, RecEraser's InBP shards
# under the exact aggregator whose request costs about SISA's (MembAgg; docs/frontier.md)
BEYOND_PAPER = {"UltraRE": ("ot", "group"), "RecEraser-fast": ("inbp", "memb")}
ALL_METHODS = {**METHODS, **BEYOND_PAPER}


def partition_options(name: str, sharding: dict) -> dict:
    """The options of partition ``name`` from the ``sharding`` section of the config (each partition declares
    which config key each of its options is read from: ``registry.register_partition``)."""
    options = lookup(PARTITIONS, "partition", name).options
    return {option: sharding[key] for option, key in options.items()}


def method_name(partition: str, aggregator: str) -> str:
    """The paper's name of a combination, or ``<partition>+<aggregator>`` for an ablation."""
    for name, combo in ALL_METHODS.items():
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
