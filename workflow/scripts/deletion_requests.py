"""Rule deletion_requests: R training interactions drawn with a seed."""

from recunlearn.runlog import job_log
from recunlearn.requests import sample_requests

with job_log(snakemake.log[0]):
    sample_requests(snakemake.input.train, snakemake.output[0], snakemake.params.n_requests, snakemake.params.seed)
