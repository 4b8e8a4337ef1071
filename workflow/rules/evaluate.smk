# ---------------------------------------------------------------------------- MostPop
# The popularity reference: full-ranking Recall/NDCG@K on validation and test.
rule mostpop:
    input:
        train=rules.preprocess.output.train,
        valid=rules.preprocess.output.valid,
        test=rules.preprocess.output.test,
    output:
        metrics=f"{MOSTPOP}/metrics.csv",
    log:
        f"{MOSTPOP}/mostpop.log",
    conda:
        "../../envs/recunlearn.yaml"
    params:
        evaluation=lookup(within=config, dpath="evaluation"),
    script:
        "../scripts/mostpop.py"
