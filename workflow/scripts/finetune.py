"""Rule finetune: the inexact shortcut, the original model trained a few epochs without the members."""

from recunlearn.run import JobContext, RunSpec
from recunlearn.runlog import job_log
from recunlearn.unlearn import unlearn_finetune

i = snakemake.input
with job_log(snakemake.log[0]):
    unlearn_finetune(
        RunSpec.from_job(snakemake, mode="batch"),
        JobContext.from_job(snakemake),
        data={key: i[key] for key in ("train", "valid", "test", "requests")},
        original={"model": i.original_model, "sidecar": i.original_sidecar},
        epochs=snakemake.params.epochs,
        out={key: snakemake.output[key] for key in ("model", "sidecar", "times", "metrics")},
    )
