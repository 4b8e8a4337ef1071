# ---------------------------------------------------------------------------- pretraining
# WMF on the whole training set, one per seed: embeddings used only to partition (docs/guide/method.md, section 5).
rule pretrain:
    input:
        train=rules.preprocess.output.train,
        valid=rules.preprocess.output.valid,
        tuned_hyper=lambda wildcards: listed(tuned_file("retrain", wildcards.dataset, "WMF")),
    output:
        embeddings=f"{PRETRAIN}/embeddings.pt",
        sidecar=f"{PRETRAIN}/embeddings.json",
    log:
        f"{PRETRAIN}/pretrain.log",
    benchmark:
        f"{PRETRAIN}/benchmark.tsv"
    conda:
        "../../envs/recunlearn.yaml"
    threads: config["training"]["threads"]
    resources:
        gpu=TRAINING_GPUS,
    params:
        hyper=lambda wildcards: hyperparameters(config, wildcards.dataset, "WMF"),
        tuned_hyper=lambda wildcards: tuned_file("retrain", wildcards.dataset, "WMF"),
        training=TRAINING,
    script:
        "../scripts/pretrain.py"


# ---------------------------------------------------------------------------- partition
# Shard id of every training interaction: random (SISA), ubp, ibp, inbp (RecEraser), bekm (GraphEraser).
# The seed of the path seeds the random anchors and shuffles.
rule partition:
    input:
        train=rules.preprocess.output.train,
        embeddings=rules.pretrain.output.embeddings,
    output:
        assignment=f"{PARTITION}/assignment.npz",
        stats=f"{PARTITION}/stats.json",
    log:
        f"{PARTITION}/partition.log",
    benchmark:
        f"{PARTITION}/benchmark.tsv"
    conda:
        "../../envs/recunlearn.yaml"
    threads: config["training"]["threads"]
    params:
        options=partition_params,
    script:
        "../scripts/partition.py"


# ---------------------------------------------------------------------------- sub-models and aggregators
# One sub-model per shard, trained only on its shard (Retrain's trainer; hyper-parameters with the
# sharding.submodel_hyperparameters overrides); then MeanAgg (SISA), StaticAgg (GraphEraser) or AttAgg (RecEraser)
# over the K frozen sub-models, with test metrics. sharding.shard_jobs: per_shard runs one job per sub-model and
# one per aggregator; per_partition one job per partition and K for both (the same files and numbers).
if config["sharding"]["shard_jobs"] == "per_shard":

    rule train_shard:
        input:
            train=rules.preprocess.output.train,
            valid=rules.preprocess.output.valid,
            assignment=rules.partition.output.assignment,
            tuned_hyper=lambda wildcards: listed(
                tuned_file("submodel", wildcards.dataset, wildcards.model, wildcards.partition)
            ),
        output:
            **{key: f"{SHARD}/{name}" for key, name in SHARD_FILES.items()},
        log:
            f"{SHARD}/train.log",
        benchmark:
            f"{SHARD}/benchmark.tsv"
        conda:
            "../../envs/recunlearn.yaml"
        threads: config["training"]["threads"]
        resources:
            gpu=TRAINING_GPUS,
        params:
            hyper=lambda wildcards: submodel_hyperparameters(config, wildcards.dataset, wildcards.model),
            tuned_hyper=lambda wildcards: tuned_file(
                "submodel", wildcards.dataset, wildcards.model, wildcards.partition
            ),
            valid_mode=lookup(within=config, dpath="sharding/submodel_validation"),
            training=TRAINING,
        script:
            "../scripts/train_shard.py"

    rule aggregate:
        input:
            train=rules.preprocess.output.train,
            valid=rules.preprocess.output.valid,
            test=rules.preprocess.output.test,
            embeddings=shard_outputs("embeddings"),
            sidecars=shard_outputs("sidecar"),
            tuned_hyper=lambda wildcards: listed(
                tuned_file("submodel", wildcards.dataset, wildcards.model, wildcards.partition)
            ),
            tuned_aggregation=lambda wildcards: listed(tuned_aggregation_file(**wildcards)),
            assignment=lambda wildcards: listed(shard_assignment(wildcards)),
        output:
            **{key: f"{AGGREGATE}/{name}" for key, name in AGGREGATOR_FILES.items()},
            **({"tuning": f"{AGGREGATE}/tuning.json"} if TUNING else {}),
        log:
            f"{AGGREGATE}/aggregate.log",
        benchmark:
            f"{AGGREGATE}/benchmark.tsv"
        conda:
            "../../envs/recunlearn.yaml"
        threads: config["training"]["threads"]
        resources:
            gpu=aggregator_gpus,
        params:
            hyper=lambda wildcards: submodel_hyperparameters(config, wildcards.dataset, wildcards.model),
            tuned_hyper=lambda wildcards: tuned_file(
                "submodel", wildcards.dataset, wildcards.model, wildcards.partition
            ),
            aggregation=lookup(within=config, dpath="aggregation"),
            tuned_aggregation=lambda wildcards: {wildcards.aggregator: tuned_aggregation_file(**wildcards)},
            tuning=lambda wildcards: {
                wildcards.aggregator: tunes_aggregator(
                    wildcards.model, wildcards.aggregator, wildcards.seed, wildcards.k
                )
            },
            training=aggregator_training,
            evaluation=lookup(within=config, dpath="evaluation"),
            assignment=shard_assignment,
            method_aggregators=method_aggregators,
        script:
            "../scripts/aggregate.py"

else:
    # one rule per partition and K, since a rule's outputs are fixed patterns: its K shards, then its aggregators
    for (_k, _partition), _aggregators in aggregations().items():
        _sharded = SHARDED.replace("{k}", str(_k)).replace("{partition}", _partition)
        _partition_dir = PARTITION.replace("{k}", str(_k)).replace("{partition}", _partition)

        rule:
            name:
                f"train_{_partition}_K{_k}"
            input:
                train=rules.preprocess.output.train,
                valid=rules.preprocess.output.valid,
                test=rules.preprocess.output.test,
                assignment=f"{_partition_dir}/assignment.npz",
                tuned_hyper=lambda wildcards, p=_partition: listed(
                    tuned_file("submodel", wildcards.dataset, wildcards.model, p)
                ),
                tuned_aggregation=lambda wildcards, p=_partition, k=_k, aggs=_aggregators: [
                    f
                    for a in aggs
                    for f in listed(
                        tuned_aggregation_file(wildcards.dataset, wildcards.model, p, a, wildcards.seed, k)
                    )
                ],
            output:
                **{key: [f"{_sharded}/shard_{i}/{name}" for i in range(_k)] for key, name in SHARD_FILES.items()},
                **{
                    f"aggregator_{key}": [f"{_sharded}/{a}/{name}" for a in _aggregators]
                    for key, name in AGGREGATOR_FILES.items()
                },
                **({"aggregator_tuning": [f"{_sharded}/{a}/tuning.json" for a in _aggregators]} if TUNING else {}),
            log:
                f"{_sharded}/train.log",
            benchmark:
                f"{_sharded}/train.benchmark.tsv"
            conda:
                "../../envs/recunlearn.yaml"
            threads: config["training"]["threads"]
            resources:
                gpu=TRAINING_GPUS,
            params:
                partition=_partition,
                k=_k,
                aggregators=_aggregators,
                hyper=lambda wildcards: submodel_hyperparameters(config, wildcards.dataset, wildcards.model),
                tuned_hyper=lambda wildcards, p=_partition: tuned_file(
                    "submodel", wildcards.dataset, wildcards.model, p
                ),
                valid_mode=lookup(within=config, dpath="sharding/submodel_validation"),
                aggregation=lookup(within=config, dpath="aggregation"),
                tuned_aggregation=lambda wildcards, p=_partition, k=_k, aggs=_aggregators: {
                    a: tuned_aggregation_file(wildcards.dataset, wildcards.model, p, a, wildcards.seed, k)
                    for a in aggs
                },
                tuning=lambda wildcards, k=_k, aggs=_aggregators: {
                    a: tunes_aggregator(wildcards.model, a, wildcards.seed, k) for a in aggs
                },
                training=TRAINING,
                evaluation=lookup(within=config, dpath="evaluation"),
                method_aggregators=lambda wildcards, p=_partition, aggs=_aggregators: naming_overrides(
                    wildcards.model, p, aggs, METHOD_AGGREGATORS
                ),
            script:
                "../scripts/train_partition.py"
