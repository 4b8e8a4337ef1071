"""Rule table_6_3: test Recall/NDCG of Retrain and the unlearning methods (mean ± std over seeds), beside the paper."""

from recunlearn.runlog import job_log
from recunlearn.report.paper import table_6_3

with job_log(snakemake.log[0]):
    table_6_3(list(snakemake.input.metrics), snakemake.input.paper, snakemake.output[0][: -len(".md")],
              snakemake.params.n_shards, seeds=dict(snakemake.params.seeds), stats_files=list(snakemake.input.stats),
              paper_names=dict(snakemake.params.paper_names), tuning_files=list(snakemake.input.tuning))
