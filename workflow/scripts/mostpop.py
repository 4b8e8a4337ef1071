"""Rule mostpop: the popularity reference, evaluated on validation and test."""

from pathlib import Path

from recunlearn.metrics import run_mostpop
from recunlearn.runlog import job_log

with job_log(snakemake.log[0]):
    run_mostpop(
        Path(snakemake.input.train).parent,
        snakemake.output.metrics,
        snakemake.wildcards.dataset,
        snakemake.params.evaluation["ks"],
        snakemake.params.evaluation["batch_users"],
    )
