# ---------------------------------------------------------------------------- pretraining
# WMF on the whole training set: embeddings used only to partition (spec section 5).
rule pretrain:
    input:
        train=rules.preprocess.output.train,
        valid=rules.preprocess.output.valid,
    output:
        embeddings="results/{dataset}/pretrain/embeddings.pt",
        sidecar="results/{dataset}/pretrain/embeddings.json",
    log:
        "results/{dataset}/pretrain/pretrain.log",
    benchmark:
        "results/{dataset}/pretrain/benchmark.tsv"
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
rule partition:
    input:
        train=rules.preprocess.output.train,
        embeddings=rules.pretrain.output.embeddings,
    output:
        assignment="results/{dataset}/partitions/{partition}_K{k}/assignment.npz",
        stats="results/{dataset}/partitions/{partition}_K{k}/stats.json",
    log:
        "results/{dataset}/partitions/{partition}_K{k}/partition.log",
    benchmark:
        "results/{dataset}/partitions/{partition}_K{k}/benchmark.tsv"
    threads: config["training"]["threads"]
    conda:
        "../../envs/recunlearn.yaml"
    params:
        options=partition_options,
        seed=lookup(within=config, dpath="sharding/seed"),
    script:
        "../scripts/partition.py"


# ---------------------------------------------------------------------------- sub-models
# One sub-model per shard, trained only on its shard (same trainer and hyper-parameters as Retrain).
rule train_shard:
    input:
        train=rules.preprocess.output.train,
        valid=rules.preprocess.output.valid,
        assignment=rules.partition.output.assignment,
    output:
        model="results/{dataset}/{model}/{partition}_K{k}/shard_{shard}/model.pt",
        embeddings="results/{dataset}/{model}/{partition}_K{k}/shard_{shard}/embeddings.pt",
        sidecar="results/{dataset}/{model}/{partition}_K{k}/shard_{shard}/model.json",
        history="results/{dataset}/{model}/{partition}_K{k}/shard_{shard}/history.csv",
    log:
        "results/{dataset}/{model}/{partition}_K{k}/shard_{shard}/train.log",
    benchmark:
        "results/{dataset}/{model}/{partition}_K{k}/shard_{shard}/benchmark.tsv"
    threads: config["training"]["threads"]
    resources:
        gpu=TRAINING_GPUS,
    conda:
        "../../envs/recunlearn.yaml"
    params:
        hyper=lambda wildcards: hyperparameters(config, wildcards.dataset, wildcards.model),
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
        model="results/{dataset}/{model}/{partition}_K{k}/{aggregator}/aggregator.pt",
        sidecar="results/{dataset}/{model}/{partition}_K{k}/{aggregator}/aggregator.json",
        history="results/{dataset}/{model}/{partition}_K{k}/{aggregator}/history.csv",
        metrics="results/{dataset}/{model}/{partition}_K{k}/{aggregator}/metrics.csv",
    log:
        "results/{dataset}/{model}/{partition}_K{k}/{aggregator}/aggregate.log",
    benchmark:
        "results/{dataset}/{model}/{partition}_K{k}/{aggregator}/benchmark.tsv"
    threads: config["training"]["threads"]
    resources:
        gpu=TRAINING_GPUS,
    conda:
        "../../envs/recunlearn.yaml"
    params:
        hyper=lambda wildcards: hyperparameters(config, wildcards.dataset, wildcards.model),
        aggregation=lookup(within=config, dpath="aggregation"),
        training=lookup(within=config, dpath="training"),
        evaluation=lookup(within=config, dpath="evaluation"),
    script:
        "../scripts/aggregate.py"
