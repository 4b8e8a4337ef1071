"""Rule retrain: train one base model on the whole training set; write model, sidecar, history, metrics."""

from recunlearn.retrain import run_retrain
from recunlearn.run import JobContext, RunSpec, Settings
from recunlearn.runlog import job_log

with job_log(snakemake.log[0]):
    run_retrain(
        RunSpec.from_job(snakemake),
        JobContext.from_job(snakemake),
        Settings.from_job(snakemake),
        data={split: snakemake.input[split] for split in ("train", "valid", "test")},
        out={key: snakemake.output[key] for key in ("model", "sidecar", "history", "metrics")},
    )
