"""Rule scorecard: the paper's claims marked holds / fails on our runs; deviations from the paper."""

from recunlearn.runlog import job_log
from recunlearn.report.paper import scorecard
from recunlearn.report.timing import speedup_claims

with job_log(snakemake.log[0]):
    claims = speedup_claims(list(snakemake.input.times), snakemake.params.n_shards, snakemake.input.paper_6_4,
                            dict(snakemake.params.paper_names))
    scorecard(snakemake.input.metrics, snakemake.input.paper, snakemake.output[0], snakemake.params.n_shards,
              extra_claims=claims,
              paper_names=dict(snakemake.params.paper_names))
