# The sharding rules' Python, which rules/sharding.smk alone uses (Snakemake's linter keeps functions out of the
# files of rules): what a partition, shard or aggregator job is given, and which aggregations the runs need.


def aggregator_gpus(wildcards):
    """GPUs of an aggregator job: none for one that trains nothing (MeanAgg), which then runs on the CPU."""
    return TRAINING_GPUS if AGGREGATORS[wildcards.aggregator].trained else 0


def aggregator_training(wildcards):
    """``training`` of an aggregator job, with the GPUs it was given (``aggregator_gpus``)."""
    return {**TRAINING, "gpus": aggregator_gpus(wildcards)}


def shard_assignment(wildcards):
    """The partition's assignment for an aggregator registered with ``uses_shards`` (UltraRE's combiner), else
    None: per_shard's aggregate job reads it as a param and depends on it as an input."""
    if not AGGREGATORS[wildcards.aggregator].uses_shards:
        return None
    return at(
        PARTITION,
        "assignment.npz",
        dataset=wildcards.dataset,
        seed=wildcards.seed,
        partition=wildcards.partition,
        k=wildcards.k,
    )


def partition_params(wildcards):
    """Options of a partition algorithm, from config['sharding'] (each algorithm declares its own: experiments.py)."""
    return partition_options(wildcards.partition, config["sharding"])


def aggregations():
    """{(k, partition): [aggregators]}: every aggregation the experiments ask for (the quality runs and the unlearning
    methods at K, RecEraser at every K of Fig. 6.4), in a stable order."""
    wanted = {}
    named = [methods_of(m)[name] for m in MODELS for name in [*UNLEARN_NAMES, *USER_NAMES]]
    for p, a in [*COMBOS, *named]:
        wanted.setdefault((K, p), []).append(a)
    for k in K_VALUES:
        wanted.setdefault((k, "inbp"), []).append("att")
    return {key: list(dict.fromkeys(aggs)) for key, aggs in sorted(wanted.items())}


def tunes_aggregator(model, aggregator, seed, k):
    """The plan of an aggregator job that tunes its aggregator itself (first seed, main K), else {}."""
    plan = tuning_plan(config, "aggregator", model, aggregator)
    return plan if plan and int(seed) == UNLEARN_SEED and int(k) == K else {}


def tuned_aggregation_file(dataset, model, partition, aggregator, seed, k):
    """The tuning artefact an aggregator job that does not tune reads its choice from (first seed, main K)."""
    if not tuning_plan(config, "aggregator", model, aggregator) or tunes_aggregator(model, aggregator, seed, k):
        return None
    return at(
        AGGREGATE,
        "tuning.json",
        dataset=dataset,
        model=model,
        seed=UNLEARN_SEED,
        partition=partition,
        k=K,
        aggregator=aggregator,
    )
