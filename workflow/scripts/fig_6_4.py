"""Rule fig_6_4: K against test Recall@20 and mean unlearning time (RecEraser)."""

from recunlearn.runlog import job_log
from recunlearn.report.timing import fig_6_4

with job_log(snakemake.log[0]):
    fig_6_4(list(snakemake.input.times), list(snakemake.input.metrics), snakemake.output[0][: -len(".png")])
