# ---------------------------------------------------------------------------- the validation tuner
# tuning.enabled: settings chosen per dataset and model on the validation split only (recunlearn/tuning.py): Optuna's
# seeded TPE search over each model's declared space, the config's own settings tried first. Retrain's choice trains
# Retrain, the unlearning Retrain and (WMF) the pretraining; a partition's sub-model choice trains its K sub-models,
# at every K and seed. The aggregators are tuned in the job that trains them (sharding.smk).
rule tune_retrain:
    input:
        train=rules.preprocess.output.train,
        valid=rules.preprocess.output.valid,
    output:
        tuning=f"{TUNE}/retrain.json",
        trials=f"{TUNE}/retrain_trials.csv",
    log:
        f"{TUNE}/retrain.log",
    benchmark:
        f"{TUNE}/retrain.benchmark.tsv"
    conda:
        "../../envs/recunlearn.yaml"
    threads: config["training"]["threads"]
    resources:
        gpu=TRAINING_GPUS,
    params:
        hyper=lambda wildcards: hyperparameters(config, wildcards.dataset, wildcards.model),
        tuning=lambda wildcards: tuning_plan(config, "retrain", wildcards.model),
        training=TRAINING,
    script:
        "../scripts/tune.py"


rule tune_submodel:
    input:
        train=rules.preprocess.output.train,
        valid=rules.preprocess.output.valid,
        assignment=rules.partition.output.assignment,
    output:
        tuning=f"{TUNE}/submodel_{{partition}}_K{{k}}.json",
        trials=f"{TUNE}/submodel_{{partition}}_K{{k}}_trials.csv",
    log:
        f"{TUNE}/submodel_{{partition}}_K{{k}}.log",
    benchmark:
        f"{TUNE}/submodel_{{partition}}_K{{k}}.benchmark.tsv"
    conda:
        "../../envs/recunlearn.yaml"
    threads: config["training"]["threads"]
    resources:
        gpu=TRAINING_GPUS,
    params:
        hyper=lambda wildcards: submodel_hyperparameters(config, wildcards.dataset, wildcards.model),
        tuning=lambda wildcards: tuning_plan(config, "submodel", wildcards.model),
        valid_mode=lookup(within=config, dpath="sharding/submodel_validation"),
        training=TRAINING,
    script:
        "../scripts/tune.py"
