"""Rule mostpop: the popularity reference, evaluated on validation and test."""

from recunlearn.metrics import run_mostpop
from recunlearn.runlog import job_log

with job_log(snakemake.log[0]):
    run_mostpop(
        {split: snakemake.input[split] for split in ("train", "valid", "test")},
        snakemake.output.metrics,
        snakemake.wildcards.dataset,
        snakemake.params.evaluation["ks"],
        snakemake.params.evaluation["batch_users"],
    )
