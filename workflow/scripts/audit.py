"""Rule audit: prove from the sha256 lineage that the unlearned models never saw a deleted interaction."""

from recunlearn.runlog import job_log
from recunlearn.audit import audit

with job_log(snakemake.log[0]):
    audit(list(snakemake.input.served), snakemake.input.requests, snakemake.input.train, snakemake.output[0])
