"""Rule train_shards_K<k> (sharding.shard_jobs: per_partition): every sub-model of a partition in one job."""

from recunlearn.runlog import job_log
from recunlearn.sharded import run_shards

KEYS = ("model", "embeddings", "sidecar", "history")

with job_log(snakemake.log[0]):
    k = int(snakemake.params.k)
    run_shards(
        snakemake.wildcards.model,
        dict(snakemake.params.hyper),
        data={split: snakemake.input[split] for split in ("train", "valid")},
        assignment_path=snakemake.input.assignment,
        outs=[{key: snakemake.output[key][i] for key in KEYS} for i in range(k)],
        dataset=snakemake.wildcards.dataset,
        seed=int(snakemake.wildcards.seed),
        device=snakemake.params.training["device"],
        threads=snakemake.threads,
        partition_name=f"{snakemake.wildcards.partition}_K{k}",
        valid_mode=snakemake.params.valid_mode,
    )
