"""Rule aggregate: MeanAgg / StaticAgg / AttAgg over the K sub-models; validation and test metrics."""

from recunlearn.runlog import job_log
from recunlearn.sharded import run_aggregate

with job_log(snakemake.log[0]):
    run_aggregate(
        snakemake.wildcards.aggregator,
        snakemake.wildcards.model,
        dict(snakemake.params.hyper),
        dict(snakemake.params.aggregation),
        submodels=[{"embeddings": e, "sidecar": s} for e, s in zip(snakemake.input.embeddings, snakemake.input.sidecars)],
        data={split: snakemake.input[split] for split in ("train", "valid", "test")},
        out={key: snakemake.output[key] for key in ("model", "sidecar", "history", "metrics")},
        dataset=snakemake.wildcards.dataset,
        partition_name=snakemake.wildcards.partition,
        k=int(snakemake.wildcards.k),
        seed=int(snakemake.wildcards.seed),
        device=snakemake.params.training["device"],
        threads=snakemake.threads,
        ks=snakemake.params.evaluation["ks"],
        batch_users=snakemake.params.evaluation["batch_users"],
    )
