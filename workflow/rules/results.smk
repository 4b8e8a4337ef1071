localrules:
    gather_metrics,
    table_6_2,
    table_6_3,
    figure,
    scorecard,
    table_6_4,
    fig_6_4,


# ---------------------------------------------------------------------------- metrics
# Every evaluation's rows, in long form, in one file, each with the seed of its run: all tables are views of it.
rule gather_metrics:
    input:
        list(metric_files()),
    output:
        "results/metrics.csv",
    log:
        "results/logs/gather_metrics.log",
    conda:
        "../../envs/recunlearn.yaml"
    params:
        seeds=metric_files(),
    script:
        "../scripts/gather_metrics.py"


# ---------------------------------------------------------------------------- Table 6.2
# Dataset statistics, ours beside the paper's, with each dataset's split protocol (docs/report/protocol.md).
rule table_6_2:
    input:
        stats=expand("results/{dataset}/data/stats.json", dataset=DATASETS),
        paper=f"{PAPER}/table_6_2.csv",
    output:
        md="results/tables/table_6_2.md",
        tex="results/tables/table_6_2.tex",
        csv=report(
            "results/tables/table_6_2.csv",
            caption="../report/table_6_2.rst",
            category="Table 6.2 (data)",
        ),
    log:
        "results/tables/table_6_2.log",
    conda:
        "../../envs/recunlearn.yaml"
    params:
        paper_names=paper_datasets(),
    script:
        "../scripts/table_6_2.py"


# ---------------------------------------------------------------------------- Table 6.3
# Recall/NDCG@{10,20,50}: Retrain, SISA, GraphEraser, RecEraser per dataset and base model, beside the paper;
# mean ± std over the seeds, RecEraser's paired test against the better baseline; the split protocol of each row.
rule table_6_3:
    input:
        metrics=list(table_6_3_runs()),
        stats=expand("results/{dataset}/data/stats.json", dataset=DATASETS),
        paper=f"{PAPER}/table_6_3.csv",
        tuning=table_6_3_tuning(),
    output:
        md="results/tables/table_6_3.md",
        tex="results/tables/table_6_3.tex",
        csv=report(
            "results/tables/table_6_3.csv",
            caption="../report/table_6_3.rst",
            category="Table 6.3 (quality)",
        ),
    log:
        "results/tables/table_6_3.log",
    conda:
        "../../envs/recunlearn.yaml"
    params:
        n_shards=K,
        seeds=table_6_3_runs(),
        paper_names=paper_datasets(),
    script:
        "../scripts/table_6_3.py"


# ---------------------------------------------------------------------------- Figures 6.2 and 6.3
# Grouped bars of test Recall@20 (mean over seeds, std error bars): partitions under AttAgg (6.2), aggregators over
# InBP (6.3); the plotted data as CSV.
rule figure:
    input:
        metrics=figure_inputs,
        paper=f"{PAPER}/figures_text.csv",
        table=f"{PAPER}/table_6_3.csv",
    output:
        png=report(
            "results/figures/{figure}.png",
            caption="../report/fig_6_2_6_3.rst",
            category="Figures 6.2 and 6.3 (ablations)",
        ),
        pdf="results/figures/{figure}.pdf",
        csv="results/figures/{figure}.csv",
    log:
        "results/figures/{figure}.log",
    wildcard_constraints:
        figure="fig_6_2|fig_6_3",
    conda:
        "../../envs/recunlearn.yaml"
    params:
        variants=figure_variants,
        n_shards=K,
        seeds=figure_runs,
        paper_names=paper_datasets(),
    script:
        "../scripts/figure.py"


# ---------------------------------------------------------------------------- scorecard
# Each claim of the paper marked per dataset and model, tested against the seed-to-seed spread (one-sided paired
# t-test over seeds, p < 0.05); deviations from the paper's cells.
rule scorecard:
    input:
        metrics=rules.gather_metrics.output[0],
        paper=f"{PAPER}/table_6_3.csv",
        paper_6_4=f"{PAPER}/table_6_4.csv",
        times=timing_files(),
    output:
        report(
            "results/tables/scorecard.md",
            caption="../report/scorecard.rst",
            category="Scorecard",
        ),
    log:
        "results/tables/scorecard.log",
    conda:
        "../../envs/recunlearn.yaml"
    params:
        n_shards=K,
        paper_names=paper_datasets(),
    script:
        "../scripts/scorecard.py"


# ---------------------------------------------------------------------------- Table 6.4
# Unlearning time: Retrain vs sub-model + aggregator retraining, speed-up, batch mode; the paper's beside.
rule table_6_4:
    input:
        times=timing_files(),
        metrics=unlearning_metric_files(),
        paper=f"{PAPER}/table_6_4.csv",
    output:
        md="results/tables/table_6_4.md",
        tex="results/tables/table_6_4.tex",
        csv=report(
            "results/tables/table_6_4.csv",
            caption="../report/table_6_4.rst",
            category="Table 6.4 (unlearning time)",
        ),
    log:
        "results/tables/table_6_4.log",
    conda:
        "../../envs/recunlearn.yaml"
    params:
        n_shards=K,
    script:
        "../scripts/table_6_4.py"


# ---------------------------------------------------------------------------- Figure 6.4
# Number of shards K against test Recall@20 and mean unlearning time (RecEraser).
rule fig_6_4:
    input:
        times=timing_files(),
        metrics=unlearning_metric_files(),
    output:
        png=report(
            "results/figures/fig_6_4.png",
            caption="../report/fig_6_4.rst",
            category="Figure 6.4 (shards)",
        ),
        pdf="results/figures/fig_6_4.pdf",
        csv="results/figures/fig_6_4.csv",
    log:
        "results/figures/fig_6_4.log",
    conda:
        "../../envs/recunlearn.yaml"
    script:
        "../scripts/fig_6_4.py"


# ---------------------------------------------------------------------------- the frontier (beyond the paper)
# Every timed method's test Recall@20 (Table 6.3's) against its seconds per sequential request (Table 6.4's).
rule frontier:
    input:
        metrics=rules.gather_metrics.output[0],
        times=timing_files(),
    output:
        md="results/tables/frontier.md",
        tex="results/tables/frontier.tex",
        csv="results/tables/frontier.csv",
        png=report(
            "results/figures/frontier.png",
            caption="../report/frontier.rst",
            category="Frontier (beyond the paper)",
        ),
        pdf="results/figures/frontier.pdf",
    log:
        "results/tables/frontier.log",
    conda:
        "../../envs/recunlearn.yaml"
    params:
        n_shards=K,
    script:
        "../scripts/frontier.py"


# ---------------------------------------------------------------------------- the replication report
# Each claim of the paper judged on this run's own tables (recunlearn/report/replication.py), then the frontier,
# forgetting and user deletion.
rule replication_report:
    input:
        **({"forgetting": "results/tables/forgetting.csv"} if config["forgetting"]["enabled"] else {}),
        **({"user_unlearning": "results/tables/user_unlearning.csv"} if config["user_unlearning"]["enabled"] else {}),
        metrics=rules.gather_metrics.output[0],
        table_6_3=rules.table_6_3.output.csv,
        table_6_4=rules.table_6_4.output.csv,
        fig_6_4=rules.fig_6_4.output.csv,
        frontier=rules.frontier.output.csv,
        stats=expand("results/{dataset}/data/stats.json", dataset=DATASETS),
        paper_6_3=f"{PAPER}/table_6_3.csv",
        paper_6_4=f"{PAPER}/table_6_4.csv",
    output:
        report(
            "results/report/replication.md",
            caption="../report/replication.rst",
            category="Replication report",
        ),
    log:
        "results/report/replication.log",
    conda:
        "../../envs/recunlearn.yaml"
    params:
        n_shards=K,
        paper_names=paper_datasets(),
    script:
        "../scripts/replication_report.py"
