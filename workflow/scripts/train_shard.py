"""Rules train_shard (one sub-model per job) and train_shards_K<k> (a partition's K sub-models in one job):
each sub-model trained only on its shard."""

from recunlearn.runlog import job_log
from recunlearn.sharded import run_shards

with job_log(snakemake.log[0]):
    shards = list(snakemake.params.shards)
    run_shards(
        snakemake.wildcards.model,
        dict(snakemake.params.hyper),
        data={split: snakemake.input[split] for split in ("train", "valid")},
        assignment_path=snakemake.input.assignment,
        shards=shards,
        outs=[{key: snakemake.output[key][i] for key in ("model", "embeddings", "sidecar", "history")}
              for i in range(len(shards))],
        dataset=snakemake.wildcards.dataset,
        seed=int(snakemake.wildcards.seed),
        device=snakemake.params.training["device"],
        threads=snakemake.threads,
        partition_name=f"{snakemake.wildcards.partition}_K{snakemake.params.k}",
        valid_mode=snakemake.params.valid_mode,
    )
