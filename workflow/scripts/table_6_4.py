"""Rule table_6_4: unlearning times (training-loop minutes from the sidecars, plus benchmark files)."""

from recunlearn.runlog import job_log
from recunlearn.report.timing import table_6_4

with job_log(snakemake.log[0]):
    table_6_4(list(snakemake.input.times), list(snakemake.input.metrics), snakemake.input.paper,
              snakemake.output[0][: -len(".md")], snakemake.params.n_shards)
