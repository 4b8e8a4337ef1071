"""Rule aggregate: an aggregator (MeanAgg, StaticAgg, AttAgg, ...) over the K sub-models; validation and test
metrics. An aggregator that uses the shards (UltraRE's combiner) also gets the partition's assignment."""

from recunlearn.run import JobContext, RunSpec, Settings
from recunlearn.runlog import job_log
from recunlearn.jobs.sharding import run_aggregate

with job_log(snakemake.log[0]):
    run_aggregate(
        RunSpec.from_job(snakemake),
        JobContext.from_job(snakemake),
        Settings.from_job(snakemake),
        data={**{split: snakemake.input[split] for split in ("train", "valid", "test")},
              **({"assignment": snakemake.params.assignment} if snakemake.params.assignment else {})},
        submodels=[{"embeddings": e, "sidecar": s} for e, s in zip(snakemake.input.embeddings, snakemake.input.sidecars)],
        out={key: snakemake.output[key] for key in ("model", "sidecar", "history", "metrics", "tuning")
             if key in snakemake.output.keys()},
    )
