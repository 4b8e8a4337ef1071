"""Rule frontier: every timed method's test Recall@20 against its seconds per sequential request (docs/report/frontier.md)."""

from recunlearn.runlog import job_log
from recunlearn.report.frontier import frontier

with job_log(snakemake.log[0]):
    frontier(snakemake.input.metrics, list(snakemake.input.times), snakemake.output.md[: -len(".md")],
             snakemake.output.png[: -len(".png")], snakemake.params.n_shards)
