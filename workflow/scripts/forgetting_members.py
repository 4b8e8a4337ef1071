"""Rule forgetting_members: the forgetting check's deletion set (forgetting.members of the training interactions)."""

from recunlearn.runlog import job_log
from recunlearn.unlearn import sample_members

with job_log(snakemake.log[0]):
    f = snakemake.params.forgetting
    sample_members(snakemake.input.train, snakemake.output[0], f["members"], f["seed"])
