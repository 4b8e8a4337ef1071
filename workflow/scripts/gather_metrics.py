"""Rule gather_metrics: every evaluation's long-form rows, with the seed of its run, into results/metrics.csv."""

from recunlearn.results import gather
from recunlearn.runlog import job_log

with job_log(snakemake.log[0]):
    gather(list(snakemake.input), snakemake.output[0], seeds=dict(snakemake.params.seeds))
