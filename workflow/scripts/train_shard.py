"""Rule train_shard (sharding.shard_jobs: per_shard): one sub-model, trained only on its shard."""

from recunlearn.run import JobContext, RunSpec, Settings
from recunlearn.runlog import job_log
from recunlearn.jobs.sharding import run_shards

with job_log(snakemake.log[0]):
    run_shards(
        RunSpec.from_job(snakemake),
        JobContext.from_job(snakemake),
        Settings.from_job(snakemake),
        data={split: snakemake.input[split] for split in ("train", "valid")},
        assignment_path=snakemake.input.assignment,
        shards=[int(snakemake.wildcards.shard)],
        outs=[{key: snakemake.output[key] for key in ("model", "embeddings", "sidecar", "history")}],
    )
