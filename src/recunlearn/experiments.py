"""Which (partition, aggregator) combinations the experiments need, and what the paper calls them (docs/method.md, section 8).

Table 6.3 compares Retrain with SISA (random + mean), GraphEraser (bekm + static) and RecEraser (inbp + att);
Fig. 6.2 runs RecEraser's aggregator over each partition; Fig. 6.3 runs each aggregator over InBP shards.
"""

from __future__ import annotations

METHODS = {"SISA": ("random", "mean"), "GraphEraser": ("bekm", "static"), "RecEraser": ("inbp", "att")}
PAPER_NAMES = {"random": "Random", "ubp": "UBP", "ibp": "IBP", "inbp": "InBP", "bekm": "BEKM",
               "mean": "MeanAgg", "static": "StaticAgg", "att": "AttAgg"}


# The options each partition algorithm takes (``partition.partition(name, ..., **options)``), and the
# ``sharding`` config key each is read from (docs/method.md, section 6).
PARTITION_OPTIONS = {
    "random": {},
    "ubp": {"slack": "slack", "rounds": "rounds", "scalar_bug": "scalar_centroid_bug"},
    "ibp": {"slack": "slack", "rounds": "rounds", "scalar_bug": "scalar_centroid_bug"},
    "inbp": {"slack": "slack", "rounds": "rounds", "scalar_bug": "scalar_centroid_bug"},
    "bekm": {"rounds": "bekm_rounds"},
}


def partition_options(name: str, sharding: dict) -> dict:
    """The options of partition ``name`` from the ``sharding`` section of the config."""
    if name not in PARTITION_OPTIONS:
        raise ValueError(f"unknown partition '{name}' (expected one of: {', '.join(PARTITION_OPTIONS)})")
    return {option: sharding[key] for option, key in PARTITION_OPTIONS[name].items()}


def method_name(partition: str, aggregator: str) -> str:
    """The paper's name of a combination, or ``<partition>+<aggregator>`` for an ablation."""
    for name, combo in METHODS.items():
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
