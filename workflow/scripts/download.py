"""Rule download: fetch one raw dataset file into resources/, checksum-verified."""

from recunlearn.fetch import fetch
from recunlearn.runlog import job_log

with job_log(snakemake.log[0]):
    fetch(dict(snakemake.params.source), snakemake.output[0], timeout=snakemake.params.timeout,
          retries=snakemake.params.retries)
