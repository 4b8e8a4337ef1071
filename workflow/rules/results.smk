localrules:
    gather_metrics,
    table_6_2,


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
