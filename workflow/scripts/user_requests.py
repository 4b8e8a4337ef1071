"""Rule user_requests: a user-level request set (every training interaction of each chosen user)."""

from recunlearn.runlog import job_log
from recunlearn.unlearn import sample_user_requests

with job_log(snakemake.log[0]):
    u = snakemake.params.users
    sample_user_requests(snakemake.input.train, snakemake.output[0], u["users"], snakemake.wildcards.selection,
                         u["seed"])
