"""Rule partition: the shard of every training interaction, and the partition's statistics."""

from recunlearn.run import JobContext, RunSpec
from recunlearn.runlog import job_log
from recunlearn.jobs.sharding import run_partition

with job_log(snakemake.log[0]):
    run_partition(
        RunSpec.from_job(snakemake),
        JobContext(seed=int(snakemake.wildcards.seed)),
        options=dict(snakemake.params.options),
        data={"train": snakemake.input.train},
        embeddings_path=snakemake.input.embeddings,
        out={key: snakemake.output[key] for key in ("assignment", "stats")},
    )
