# ---------------------------------------------------------------------------- Retrain
# One base model on the whole training set: the paper's Retrain column (and the unlearning baseline).
rule retrain:
    input:
        train=rules.preprocess.output.train,
        valid=rules.preprocess.output.valid,
        test=rules.preprocess.output.test,
    output:
        model="results/{dataset}/{model}/retrain/model.pt",
        sidecar="results/{dataset}/{model}/retrain/model.json",
        history="results/{dataset}/{model}/retrain/history.csv",
        metrics="results/{dataset}/{model}/retrain/metrics.csv",
    log:
        "results/{dataset}/{model}/retrain/train.log",
    benchmark:
        "results/{dataset}/{model}/retrain/benchmark.tsv"
    threads: config["training"]["threads"]
    resources:
        gpu=TRAINING_GPUS,
    conda:
        "../../envs/recunlearn.yaml"
    params:
        hyper=lambda wildcards: hyperparameters(config, wildcards.dataset, wildcards.model),
        training=lookup(within=config, dpath="training"),
        evaluation=lookup(within=config, dpath="evaluation"),
    script:
        "../scripts/retrain.py"
