# ---------------------------------------------------------------------------- deletion requests
# R training interactions drawn with a seed: what users ask to be forgotten.
rule deletion_requests:
    input:
        train=rules.preprocess.output.train,
    output:
        "results/{dataset}/unlearning/requests.csv",
    log:
        "results/{dataset}/unlearning/requests.log",
    conda:
        "../../envs/recunlearn.yaml"
    params:
        unlearning=lookup(within=config, dpath="unlearning"),
    script:
        "../scripts/deletion_requests.py"


# ---------------------------------------------------------------------------- unlearn (sharded methods)
# Sequential (paper) or batch unlearning: retrain the affected shards and the aggregator; timed; audited.
rule unlearn:
    input:
        train=rules.preprocess.output.train,
        valid=rules.preprocess.output.valid,
        test=rules.preprocess.output.test,
        assignment=rules.partition.output.assignment,
        embeddings=shard_outputs("embeddings"),
        sidecars=shard_outputs("sidecar"),
        models=shard_outputs("model"),
        requests=rules.deletion_requests.output[0],
    output:
        artefacts=directory(
            "results/{dataset}/{model}/{partition}_K{k}/{aggregator}/unlearn_{mode}/artefacts"
        ),
        times="results/{dataset}/{model}/{partition}_K{k}/{aggregator}/unlearn_{mode}/times.csv",
        metrics="results/{dataset}/{model}/{partition}_K{k}/{aggregator}/unlearn_{mode}/metrics.csv",
        served="results/{dataset}/{model}/{partition}_K{k}/{aggregator}/unlearn_{mode}/served.json",
    log:
        "results/{dataset}/{model}/{partition}_K{k}/{aggregator}/unlearn_{mode}/unlearn.log",
    benchmark:
        "results/{dataset}/{model}/{partition}_K{k}/{aggregator}/unlearn_{mode}/benchmark.tsv"
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
        n_timed=lookup(within=config, dpath="unlearning/n_timed"),
    script:
        "../scripts/unlearn.py"


# ---------------------------------------------------------------------------- unlearn (Retrain)
# The baseline: train from scratch without the request(s); timed.
rule unlearn_retrain:
    input:
        train=rules.preprocess.output.train,
        valid=rules.preprocess.output.valid,
        test=rules.preprocess.output.test,
        requests=rules.deletion_requests.output[0],
    output:
        model="results/{dataset}/{model}/retrain/unlearn_{mode}/model.pt",
        sidecar="results/{dataset}/{model}/retrain/unlearn_{mode}/model.json",
        times="results/{dataset}/{model}/retrain/unlearn_{mode}/times.csv",
        metrics="results/{dataset}/{model}/retrain/unlearn_{mode}/metrics.csv",
    log:
        "results/{dataset}/{model}/retrain/unlearn_{mode}/unlearn.log",
    benchmark:
        "results/{dataset}/{model}/retrain/unlearn_{mode}/benchmark.tsv"
    threads: config["training"]["threads"]
    resources:
        gpu=TRAINING_GPUS,
    conda:
        "../../envs/recunlearn.yaml"
    params:
        hyper=lambda wildcards: hyperparameters(config, wildcards.dataset, wildcards.model),
        training=lookup(within=config, dpath="training"),
        evaluation=lookup(within=config, dpath="evaluation"),
        n_timed=lookup(within=config, dpath="unlearning/n_retrain_timed"),
    script:
        "../scripts/unlearn_retrain.py"


# ---------------------------------------------------------------------------- audit
# Proof from the sha256 lineage that no served artefact saw a deleted interaction; fails the run otherwise.
rule audit:
    input:
        served=served_manifests,
        requests=rules.deletion_requests.output[0],
        train=rules.preprocess.output.train,
    output:
        "results/{dataset}/{model}/unlearning/audit.json",
    log:
        "results/{dataset}/{model}/unlearning/audit.log",
    conda:
        "../../envs/recunlearn.yaml"
    script:
        "../scripts/audit.py"
