"""Rule pretrain: WMF on the whole training set; its embeddings drive the partitions."""

from recunlearn.run import JobContext, RunSpec, Settings
from recunlearn.runlog import job_log
from recunlearn.jobs.sharding import run_pretrain

with job_log(snakemake.log[0]):
    run_pretrain(
        RunSpec.from_job(snakemake, model="WMF"),
        JobContext.from_job(snakemake),
        Settings.from_job(snakemake),
        data={split: snakemake.input[split] for split in ("train", "valid")},
        out={key: snakemake.output[key] for key in ("embeddings", "sidecar")},
    )
