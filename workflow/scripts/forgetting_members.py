"""Rule forgetting_members: the forgetting check's deletion set (forgetting.members of the training interactions)."""

from recunlearn.runlog import job_log
from recunlearn.requests import sample_members

with job_log(snakemake.log[0]):
    sample_members(snakemake.input.train, snakemake.output[0], snakemake.params.members, snakemake.params.seed)
