"""Rules train_<partition>_K<k> (sharding.shard_jobs: per_partition): a partition's K sub-models, each trained only
on its shard, then the aggregators the experiments ask for over them, in one job."""

from recunlearn.run import JobContext, RunSpec, Settings
from recunlearn.runlog import job_log
from recunlearn.jobs.sharding import run_partition_models

with job_log(snakemake.log[0]):
    k, aggregators = snakemake.params.k, list(snakemake.params.aggregators)
    run_partition_models(
        RunSpec.from_job(snakemake, partition=snakemake.params.partition, n_shards=k),
        JobContext.from_job(snakemake),
        Settings.from_job(snakemake),
        data={split: snakemake.input[split] for split in ("train", "valid", "test")},
        assignment_path=snakemake.input.assignment,
        shard_outs=[{key: snakemake.output[key][i] for key in ("model", "embeddings", "sidecar", "history")}
                    for i in range(k)],
        aggregators=aggregators,
        aggregator_outs=[{key: snakemake.output[f"aggregator_{key}"][j]
                          for key in ("model", "sidecar", "history", "metrics", "tuning")
                          if f"aggregator_{key}" in snakemake.output.keys()} for j in range(len(aggregators))],
    )
