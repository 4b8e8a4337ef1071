# ---------------------------------------------------------------------------- pretraining
# WMF on the whole training set, one per seed: embeddings used only to partition (docs/method.md, section 5).
rule pretrain:
    input:
        train=rules.preprocess.output.train,
        valid=rules.preprocess.output.valid,
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
        training=lookup(within=config, dpath="training"),
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
            valid_mode=lookup(within=config, dpath="sharding/submodel_validation"),
            training=lookup(within=config, dpath="training"),
        script:
            "../scripts/train_shard.py"

    rule aggregate:
        input:
            train=rules.preprocess.output.train,
            valid=rules.preprocess.output.valid,
            test=rules.preprocess.output.test,
            embeddings=shard_outputs("embeddings"),
            sidecars=shard_outputs("sidecar"),
        output:
            **{key: f"{AGGREGATE}/{name}" for key, name in AGGREGATOR_FILES.items()},
        log:
            f"{AGGREGATE}/aggregate.log",
        benchmark:
            f"{AGGREGATE}/benchmark.tsv"
        conda:
            "../../envs/recunlearn.yaml"
        threads: config["training"]["threads"]
        resources:
            gpu=TRAINING_GPUS,
        params:
            hyper=lambda wildcards: submodel_hyperparameters(config, wildcards.dataset, wildcards.model),
            aggregation=lookup(within=config, dpath="aggregation"),
            training=lookup(within=config, dpath="training"),
            evaluation=lookup(within=config, dpath="evaluation"),
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
            output:
                **{key: [f"{_sharded}/shard_{i}/{name}" for i in range(_k)] for key, name in SHARD_FILES.items()},
                **{
                    f"aggregator_{key}": [f"{_sharded}/{a}/{name}" for a in _aggregators]
                    for key, name in AGGREGATOR_FILES.items()
                },
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
                valid_mode=lookup(within=config, dpath="sharding/submodel_validation"),
                aggregation=lookup(within=config, dpath="aggregation"),
                training=lookup(within=config, dpath="training"),
                evaluation=lookup(within=config, dpath="evaluation"),
            script:
                "../scripts/train_partition.py"
