"""Rule figure: Fig. 6.2 (partitions under AttAgg) or Fig. 6.3 (aggregators over InBP)."""

from recunlearn.report.figures import grouped_bars
from recunlearn.runlog import job_log

with job_log(snakemake.log[0]):
    grouped_bars(list(snakemake.input.metrics), snakemake.input.paper, snakemake.wildcards.figure,
                 list(snakemake.params.variants), snakemake.params.n_shards, snakemake.output[0][: -len(".png")],
                 seeds=dict(snakemake.params.seeds), table_6_3_csv=snakemake.input.table,
                 paper_names=dict(snakemake.params.paper_names))
