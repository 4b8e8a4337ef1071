"""Rule unlearn: sequential or batch unlearning of a sharded model; times, metrics, served-model manifest."""

from recunlearn.runlog import job_log
from recunlearn.unlearn import unlearn_sharded

w = snakemake.wildcards
with job_log(snakemake.log[0]):
    unlearn_sharded(
        w.mode, w.aggregator, w.model, dict(snakemake.params.hyper), dict(snakemake.params.aggregation),
        data={split: snakemake.input[split] for split in ("train", "valid", "test")},
        assignment_path=snakemake.input.assignment,
        submodels=[{"embeddings": e, "sidecar": s, "model": m}
                   for e, s, m in zip(snakemake.input.embeddings, snakemake.input.sidecars, snakemake.input.models)],
        requests_csv=snakemake.input.requests,
        out={"dir": snakemake.output.artefacts, "times": snakemake.output.times,
             "metrics": snakemake.output.metrics, "served": snakemake.output.served},
        dataset=w.dataset, partition_name=w.partition, k=int(w.k),
        seed=int(w.seed), n_timed=snakemake.params.n_timed,
        device=snakemake.params.training["device"], threads=snakemake.threads,
        ks=snakemake.params.evaluation["ks"], batch_users=snakemake.params.evaluation["batch_users"],
        valid_mode=snakemake.params.valid_mode,
    )
