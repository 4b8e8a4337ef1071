# ---------------------------------------------------------------------------- user-level deletion
# Requests that delete a whole user (CURE4Rec's protocol, docs/report/user_unlearning.md), on the first seed and
# K = n_shards: a request set per selection (random, core, edge), unlearned by the same jobs as Table 6.4's
# requests, then one row per method and mode: time per request, the remaining users' quality, the fairness gap.
rule user_requests:
    input:
        train=rules.preprocess.output.train,
    output:
        USER_REQUESTS,
    log:
        USER_REQUESTS.replace(".csv", ".log"),
    conda:
        "../../envs/recunlearn.yaml"
    params:
        users=lookup(within=config, dpath="user_unlearning/users"),
        seed=lookup(within=config, dpath="user_unlearning/seed"),
    script:
        "../scripts/user_requests.py"


use rule unlearn as unlearn_users with:
    input:
        **SHARDED_UNLEARN_INPUTS,
        requests=USER_REQUESTS,
    output:
        artefacts=directory(f"{USERS}/artefacts"),
        times=f"{USERS}/times.csv",
        metrics=f"{USERS}/metrics.csv",
        served=f"{USERS}/served.json",
    log:
        f"{USERS}/unlearn.log",
    benchmark:
        f"{USERS}/benchmark.tsv"
    params:
        **UNLEARN_PARAMS,
        n_timed=lookup(within=config, dpath="user_unlearning/n_timed"),


use rule unlearn_retrain as unlearn_users_retrain with:
    input:
        **RETRAIN_UNLEARN_INPUTS,
        requests=USER_REQUESTS,
    output:
        model=f"{USERS_RETRAIN}/model.pt",
        sidecar=f"{USERS_RETRAIN}/model.json",
        times=f"{USERS_RETRAIN}/times.csv",
        metrics=f"{USERS_RETRAIN}/metrics.csv",
    log:
        f"{USERS_RETRAIN}/unlearn.log",
    benchmark:
        f"{USERS_RETRAIN}/benchmark.tsv"
    params:
        **RETRAIN_UNLEARN_PARAMS,
        n_timed=lookup(within=config, dpath="user_unlearning/n_timed"),


rule user_unlearning_row:
    input:
        unpack(user_row_inputs),
    output:
        USER_ROW,
    log:
        USER_ROW.replace(".csv", ".log"),
    conda:
        "../../envs/recunlearn.yaml"
    threads: config["training"]["threads"]
    params:
        rows=user_row_params,
        training={**TRAINING, "gpus": 0},  # scoring served models: the CPU
        evaluation=lookup(within=config, dpath="evaluation"),
    script:
        "../scripts/user_unlearning_row.py"


rule user_unlearning_table:
    input:
        user_rows(),
    output:
        md="results/tables/user_unlearning.md",
        tex="results/tables/user_unlearning.tex",
        csv="results/tables/user_unlearning.csv",
    log:
        "results/tables/user_unlearning.log",
    conda:
        "../../envs/recunlearn.yaml"
    script:
        "../scripts/user_unlearning_table.py"


rule user_unlearning_figure:
    input:
        rules.user_unlearning_table.output.csv,
    output:
        png=report(
            "results/figures/user_unlearning.png",
            caption="../report/user_unlearning.rst",
            category="User-level deletion",
        ),
        pdf="results/figures/user_unlearning.pdf",
    log:
        "results/figures/user_unlearning.log",
    conda:
        "../../envs/recunlearn.yaml"
    script:
        "../scripts/user_unlearning_figure.py"
