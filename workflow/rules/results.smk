localrules:
    gather_metrics,
    table_6_2,
    table_6_3,
    figure,
    scorecard,


# ---------------------------------------------------------------------------- metrics
# Every evaluation's rows, in long form, in one file: all tables are views of it.
rule gather_metrics:
    input:
        metric_files(),
    output:
        "results/metrics.csv",
    log:
        "results/logs/gather_metrics.log",
    conda:
        "../../envs/recunlearn.yaml"
    script:
        "../scripts/gather_metrics.py"


# ---------------------------------------------------------------------------- Table 6.2
# Dataset statistics, ours beside the paper's.
rule table_6_2:
    input:
        stats=expand("results/{dataset}/data/stats.json", dataset=DATASETS),
        paper="workflow/paper/table_6_2.csv",
    output:
        multiext("results/tables/table_6_2", ".md", ".tex", ".csv"),
    log:
        "results/tables/table_6_2.log",
    conda:
        "../../envs/recunlearn.yaml"
    script:
        "../scripts/table_6_2.py"


# ---------------------------------------------------------------------------- Table 6.3
# Recall/NDCG@{10,20,50}: Retrain, SISA, GraphEraser, RecEraser per dataset and base model, beside the paper.
rule table_6_3:
    input:
        metrics=table_6_3_inputs(),
        paper="workflow/paper/table_6_3.csv",
    output:
        multiext("results/tables/table_6_3", ".md", ".tex", ".csv"),
    log:
        "results/tables/table_6_3.log",
    conda:
        "../../envs/recunlearn.yaml"
    params:
        n_shards=K,
    script:
        "../scripts/table_6_3.py"


# ---------------------------------------------------------------------------- Figures 6.2 and 6.3
# Grouped bars of test Recall@20: partitions under AttAgg (6.2), aggregators over InBP (6.3).
rule figure:
    input:
        metrics=figure_inputs,
        paper="workflow/paper/figures_text.csv",
    output:
        multiext("results/figures/{figure}", ".png", ".pdf"),
    log:
        "results/figures/{figure}.log",
    wildcard_constraints:
        figure="fig_6_2|fig_6_3",
    conda:
        "../../envs/recunlearn.yaml"
    params:
        variants=figure_variants,
        n_shards=K,
    script:
        "../scripts/figure.py"


# ---------------------------------------------------------------------------- scorecard
# Each claim of the paper marked holds / fails per dataset and model; deviations from the paper's cells.
rule scorecard:
    input:
        metrics=rules.gather_metrics.output[0],
        paper="workflow/paper/table_6_3.csv",
    output:
        "results/tables/scorecard.md",
    log:
        "results/tables/scorecard.log",
    conda:
        "../../envs/recunlearn.yaml"
    params:
        n_shards=K,
    script:
        "../scripts/scorecard.py"
