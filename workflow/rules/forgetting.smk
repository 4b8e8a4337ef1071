# ---------------------------------------------------------------------------- the forgetting check
# A membership-inference attack on every served model (docs/report/forgetting.md), on the first seed and K = n_shards:
# its own members (forgetting.members of the training interactions) unlearned at once by every method and by
# Retrain, the approximate methods (the fine-tune shortcut, SCIF, IFRU; rule unlearn_approximate), and Table 6.4's
# served models; the original model and Retrain are the
# positive and negative controls.
rule forgetting_members:
    input:
        train=rules.preprocess.output.train,
    output:
        "results/{dataset}/forgetting/members.csv",
    log:
        "results/{dataset}/forgetting/members.log",
    conda:
        "../../envs/recunlearn.yaml"
    params:
        members=lookup(within=config, dpath="forgetting/members"),
        seed=lookup(within=config, dpath="forgetting/seed"),
    script:
        "../scripts/forgetting_members.py"


# The sharded methods and Retrain unlearn the members in batch mode: the same jobs as Table 6.4's, another set.
use rule unlearn as forget_unlearn with:
    input:
        **SHARDED_UNLEARN_INPUTS,
        requests=rules.forgetting_members.output[0],
    output:
        artefacts=directory(f"{FORGET}/artefacts"),
        times=f"{FORGET}/times.csv",
        metrics=f"{FORGET}/metrics.csv",
        served=f"{FORGET}/served.json",
    log:
        f"{FORGET}/unlearn.log",
    benchmark:
        f"{FORGET}/benchmark.tsv"


use rule unlearn_retrain as forget_retrain with:
    input:
        **RETRAIN_UNLEARN_INPUTS,
        requests=rules.forgetting_members.output[0],
    output:
        model=f"{FORGET_RETRAIN}/model.pt",
        sidecar=f"{FORGET_RETRAIN}/model.json",
        times=f"{FORGET_RETRAIN}/times.csv",
        metrics=f"{FORGET_RETRAIN}/metrics.csv",
    log:
        f"{FORGET_RETRAIN}/unlearn.log",
    benchmark:
        f"{FORGET_RETRAIN}/benchmark.tsv"


# One row per served model: the attack's AUCs with their intervals, the lineage verdict, time and quality.
rule forgetting_check:
    input:
        unpack(forgetting_inputs),
    output:
        FORGETTING,
    log:
        FORGETTING.replace(".csv", ".log"),
    conda:
        "../../envs/recunlearn.yaml"
    threads: config["training"]["threads"]
    params:
        served=forgetting_served_params,
        forgetting=lookup(within=config, dpath="forgetting"),
        training={**TRAINING, "gpus": 0},  # scoring a served model: the CPU
        evaluation=lookup(within=config, dpath="evaluation"),
    script:
        "../scripts/forgetting_check.py"


rule forgetting_table:
    input:
        forgetting_rows(),
    output:
        md="results/tables/forgetting.md",
        tex="results/tables/forgetting.tex",
        csv="results/tables/forgetting.csv",
    log:
        "results/tables/forgetting.log",
    conda:
        "../../envs/recunlearn.yaml"
    script:
        "../scripts/forgetting_table.py"


rule forgetting_figure:
    input:
        rules.forgetting_table.output.csv,
    output:
        png=report(
            "results/figures/forgetting.png",
            caption="../report/forgetting.rst",
            category="Forgetting",
        ),
        pdf="results/figures/forgetting.pdf",
    log:
        "results/figures/forgetting.log",
    conda:
        "../../envs/recunlearn.yaml"
    script:
        "../scripts/forgetting_figure.py"
