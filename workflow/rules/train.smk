# ---------------------------------------------------------------------------- Retrain
# One base model on the whole training set, per seed: the paper's Retrain column (and the unlearning baseline).
rule retrain:
    input:
        train=rules.preprocess.output.train,
        valid=rules.preprocess.output.valid,
        test=rules.preprocess.output.test,
        tuned_hyper=lambda wildcards: listed(tuned_file("retrain", wildcards.dataset, wildcards.model)),
    output:
        model=f"{RETRAIN}/model.pt",
        sidecar=f"{RETRAIN}/model.json",
        history=f"{RETRAIN}/history.csv",
        metrics=f"{RETRAIN}/metrics.csv",
    log:
        f"{RETRAIN}/train.log",
    benchmark:
        f"{RETRAIN}/benchmark.tsv"
    conda:
        "../../envs/recunlearn.yaml"
    threads: config["training"]["threads"]
    resources:
        gpu=TRAINING_GPUS,
    params:
        hyper=lambda wildcards: hyperparameters(config, wildcards.dataset, wildcards.model),
        tuned_hyper=lambda wildcards: tuned_file("retrain", wildcards.dataset, wildcards.model),
        training=TRAINING,
        evaluation=lookup(within=config, dpath="evaluation"),
    script:
        "../scripts/retrain.py"
