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
    threads: config["training"]["threads"]
    resources:
        gpu=TRAINING_GPUS,
    conda:
        "../../envs/recunlearn.yaml"
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
    threads: config["training"]["threads"]
    conda:
        "../../envs/recunlearn.yaml"
    params:
        options=partition_options,
    script:
        "../scripts/partition.py"


# ---------------------------------------------------------------------------- sub-models
# One sub-model per shard, trained only on its shard (Retrain's trainer; hyper-parameters with the
# sharding.submodel_hyperparameters overrides).
if config["sharding"]["shard_jobs"] == "per_shard":

    rule train_shard:
        input:
            train=rules.preprocess.output.train,
            valid=rules.preprocess.output.valid,
            assignment=rules.partition.output.assignment,
        output:  # lists of one, as train_shards_K<k>'s are lists of K: one script serves both
            **{key: [f"{SHARD}/{name}"] for key, name in SHARD_FILES.items()},
        log:
            f"{SHARD}/train.log",
        benchmark:
            f"{SHARD}/benchmark.tsv"
        threads: config["training"]["threads"]
        resources:
            gpu=TRAINING_GPUS,
        conda:
            "../../envs/recunlearn.yaml"
        params:
            shards=lambda wildcards: [int(wildcards.shard)],
            k=lambda wildcards: int(wildcards.k),
            hyper=lambda wildcards: submodel_hyperparameters(config, wildcards.dataset, wildcards.model),
            valid_mode=lookup(within=config, dpath="sharding/submodel_validation"),
            training=lookup(within=config, dpath="training"),
        script:
            "../scripts/train_shard.py"

else:
    # one job trains a partition's K sub-models one after another (the same files, seeds and numbers); one rule
    # per K, since a rule's outputs are fixed patterns
    for _k in SHARD_COUNTS:
        _partition, _sharded = PARTITION.replace("{k}", str(_k)), SHARDED.replace("{k}", str(_k))

        rule:
            name:
                f"train_shards_K{_k}"
            input:
                train=rules.preprocess.output.train,
                valid=rules.preprocess.output.valid,
                assignment=f"{_partition}/assignment.npz",
            output:
                **{
                    key: expand(f"{SHARD}/{name}", k=_k, shard=range(_k), allow_missing=True)
                    for key, name in SHARD_FILES.items()
                },
            log:
                f"{_sharded}/train_shards.log",
            benchmark:
                f"{_sharded}/train_shards.benchmark.tsv"
            threads: config["training"]["threads"]
            resources:
                gpu=TRAINING_GPUS,
            conda:
                "../../envs/recunlearn.yaml"
            params:
                shards=list(range(_k)),
                k=_k,
                hyper=lambda wildcards: submodel_hyperparameters(config, wildcards.dataset, wildcards.model),
                valid_mode=lookup(within=config, dpath="sharding/submodel_validation"),
                training=lookup(within=config, dpath="training"),
            script:
                "../scripts/train_shard.py"


# ---------------------------------------------------------------------------- aggregation
# MeanAgg (SISA), StaticAgg (GraphEraser) or AttAgg (RecEraser) over the K frozen sub-models; test metrics.
rule aggregate:
    input:
        train=rules.preprocess.output.train,
        valid=rules.preprocess.output.valid,
        test=rules.preprocess.output.test,
        embeddings=shard_outputs("embeddings"),
        sidecars=shard_outputs("sidecar"),
    output:
        model=f"{AGGREGATE}/aggregator.pt",
        sidecar=f"{AGGREGATE}/aggregator.json",
        history=f"{AGGREGATE}/history.csv",
        metrics=f"{AGGREGATE}/metrics.csv",
    log:
        f"{AGGREGATE}/aggregate.log",
    benchmark:
        f"{AGGREGATE}/benchmark.tsv"
    threads: config["training"]["threads"]
    resources:
        gpu=TRAINING_GPUS,
    conda:
        "../../envs/recunlearn.yaml"
    params:
        hyper=lambda wildcards: submodel_hyperparameters(config, wildcards.dataset, wildcards.model),
        aggregation=lookup(within=config, dpath="aggregation"),
        training=lookup(within=config, dpath="training"),
        evaluation=lookup(within=config, dpath="evaluation"),
    script:
        "../scripts/aggregate.py"
