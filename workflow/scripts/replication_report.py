"""Rule replication_report: the paper's claims judged on this run's tables (results/report/replication.md)."""

from recunlearn.runlog import job_log
from recunlearn.report.replication import replication_report

i = snakemake.input
with job_log(snakemake.log[0]):
    replication_report(
        {**{key: i[key] for key in ("metrics", "table_6_3", "table_6_4", "fig_6_4", "frontier", "paper_6_3",
                                    "paper_6_4")},
         "stats": list(i.stats), **{key: i[key] for key in ("forgetting", "user_unlearning") if key in i.keys()}},
        snakemake.output[0],
        snakemake.params.n_shards,
        paper_names=dict(snakemake.params.paper_names),
    )
