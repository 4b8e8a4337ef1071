"""Rule user_requests: a user-level request set (every training interaction of each chosen user)."""

from recunlearn.runlog import job_log
from recunlearn.requests import sample_user_requests

with job_log(snakemake.log[0]):
    sample_user_requests(snakemake.input.train, snakemake.output[0], snakemake.params.users,
                         snakemake.wildcards.selection, snakemake.params.seed)
