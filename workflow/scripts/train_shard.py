"""Rule train_shard (sharding.shard_jobs: per_shard): one sub-model, trained only on its shard."""

from recunlearn.runlog import job_log
from recunlearn.sharded import run_shards

with job_log(snakemake.log[0]):
    run_shards(
        snakemake.wildcards.model,
        dict(snakemake.params.hyper),
        data={split: snakemake.input[split] for split in ("train", "valid")},
        assignment_path=snakemake.input.assignment,
        shards=[int(snakemake.wildcards.shard)],
        outs=[{key: snakemake.output[key] for key in ("model", "embeddings", "sidecar", "history")}],
        dataset=snakemake.wildcards.dataset,
        seed=int(snakemake.wildcards.seed),
        device=snakemake.params.training["device"],
        threads=snakemake.threads,
        partition_name=f"{snakemake.wildcards.partition}_K{snakemake.wildcards.k}",
        valid_mode=snakemake.params.valid_mode,
    )
