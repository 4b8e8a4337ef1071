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
        n_requests=lookup(within=config, dpath="unlearning/n_requests"),
        seed=lookup(within=config, dpath="unlearning/seed"),
    script:
        "../scripts/deletion_requests.py"


# ---------------------------------------------------------------------------- unlearn (sharded methods)
# Sequential (paper) or batch unlearning: retrain the affected shards and the aggregator; timed; audited.
# What a sharded unlearning job reads besides its deletion set: the forgetting check's and the user-level deletion's
# jobs (use rule unlearn ... with:) read the same.
SHARDED_UNLEARN_INPUTS = dict(
    train=rules.preprocess.output.train,
    valid=rules.preprocess.output.valid,
    test=rules.preprocess.output.test,
    assignment=rules.partition.output.assignment,
    embeddings=shard_outputs("embeddings"),
    sidecars=shard_outputs("sidecar"),
    models=shard_outputs("model"),
    tuned_hyper=lambda wildcards: listed(
        tuned_file("submodel", wildcards.dataset, wildcards.model, wildcards.partition)
    ),
    tuned_aggregation=lambda wildcards: [f"{AGGREGATE}/tuning.json".format(**wildcards)] if TUNING else [],
)


# What a sharded unlearning job is told besides how many requests it times.
UNLEARN_PARAMS = dict(
    hyper=lambda wildcards: submodel_hyperparameters(config, wildcards.dataset, wildcards.model),
    tuned_hyper=lambda wildcards: tuned_file("submodel", wildcards.dataset, wildcards.model, wildcards.partition),
    valid_mode=lookup(within=config, dpath="sharding/submodel_validation"),
    aggregation=lookup(within=config, dpath="aggregation"),
    # the choice the served aggregator was trained with (its tuning.json, tuned there or read from the first seed)
    tuned_aggregation=lambda wildcards: (
        {wildcards.aggregator: f"{AGGREGATE}/tuning.json".format(**wildcards)} if TUNING else {}
    ),
    training=TRAINING,
    evaluation=lookup(within=config, dpath="evaluation"),
    method_aggregators=method_aggregators,
)


rule unlearn:
    input:
        **SHARDED_UNLEARN_INPUTS,
        requests=rules.deletion_requests.output[0],
    output:
        artefacts=directory(f"{UNLEARN}/artefacts"),
        times=f"{UNLEARN}/times.csv",
        metrics=f"{UNLEARN}/metrics.csv",
        served=f"{UNLEARN}/served.json",
    log:
        f"{UNLEARN}/unlearn.log",
    benchmark:
        f"{UNLEARN}/benchmark.tsv"
    conda:
        "../../envs/recunlearn.yaml"
    threads: config["training"]["threads"]
    resources:
        gpu=TRAINING_GPUS,
    params:
        **UNLEARN_PARAMS,
        n_timed=lookup(within=config, dpath="unlearning/n_timed"),
    script:
        "../scripts/unlearn.py"


# ---------------------------------------------------------------------------- unlearn (Retrain)
# The baseline: train from scratch without the request(s); timed.
RETRAIN_UNLEARN_INPUTS = dict(
    train=rules.preprocess.output.train,
    valid=rules.preprocess.output.valid,
    test=rules.preprocess.output.test,
    tuned_hyper=lambda wildcards: listed(tuned_file("retrain", wildcards.dataset, wildcards.model)),
)


RETRAIN_UNLEARN_PARAMS = dict(
    hyper=lambda wildcards: hyperparameters(config, wildcards.dataset, wildcards.model),
    tuned_hyper=lambda wildcards: tuned_file("retrain", wildcards.dataset, wildcards.model),
    training=TRAINING,
    evaluation=lookup(within=config, dpath="evaluation"),
)


rule unlearn_retrain:
    input:
        **RETRAIN_UNLEARN_INPUTS,
        requests=rules.deletion_requests.output[0],
    output:
        model=f"{UNLEARN_RETRAIN}/model.pt",
        sidecar=f"{UNLEARN_RETRAIN}/model.json",
        times=f"{UNLEARN_RETRAIN}/times.csv",
        metrics=f"{UNLEARN_RETRAIN}/metrics.csv",
    log:
        f"{UNLEARN_RETRAIN}/unlearn.log",
    benchmark:
        f"{UNLEARN_RETRAIN}/benchmark.tsv"
    conda:
        "../../envs/recunlearn.yaml"
    threads: config["training"]["threads"]
    resources:
        gpu=TRAINING_GPUS,
    params:
        **RETRAIN_UNLEARN_PARAMS,
        n_timed=lookup(within=config, dpath="unlearning/n_retrain_timed"),
    script:
        "../scripts/unlearn_retrain.py"


# ---------------------------------------------------------------------------- approximate unlearning
# Methods that start from Retrain's trained model (fine-tune, SCIF, IFRU; docs/guide/method.md, section 10), on any
# deletion set: the forgetting check's members, Table 6.4's requests, a user selection; sequential or batch.
rule unlearn_approximate:
    input:
        train=rules.preprocess.output.train,
        valid=rules.preprocess.output.valid,
        test=rules.preprocess.output.test,
        requests=approximate_requests,
        original_model=rules.retrain.output.model,
        original_sidecar=rules.retrain.output.sidecar,
    output:
        model=f"{APPROX}/model.pt",
        sidecar=f"{APPROX}/model.json",
        times=f"{APPROX}/times.csv",
        metrics=f"{APPROX}/metrics.csv",
    log:
        f"{APPROX}/unlearn.log",
    benchmark:
        f"{APPROX}/benchmark.tsv"
    conda:
        "../../envs/recunlearn.yaml"
    threads: config["training"]["threads"]
    resources:
        gpu=TRAINING_GPUS,
    params:
        options=lambda wildcards: config["approximate"].get(wildcards.approx, {}),
        n_timed=approximate_n_timed,
        training=TRAINING,
        evaluation=lookup(within=config, dpath="evaluation"),
    script:
        "../scripts/unlearn_approximate.py"


# ---------------------------------------------------------------------------- audit
# Proof from the sha256 lineage that no served artefact saw a deleted interaction; fails the run otherwise.
# Run on the first seed (all_targets), as the unlearning experiments.
rule audit:
    input:
        served=served_manifests,
        requests=rules.deletion_requests.output[0],
        train=rules.preprocess.output.train,
    output:
        f"{AUDIT}/audit.json",
    log:
        f"{AUDIT}/audit.log",
    conda:
        "../../envs/recunlearn.yaml"
    script:
        "../scripts/audit.py"
