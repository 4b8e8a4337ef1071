"""Rule retrain: train one base model on the whole training set; write model, sidecar, history, metrics."""

from recunlearn.retrain import run_retrain
from recunlearn.runlog import job_log

with job_log(snakemake.log[0]):
    run_retrain(
        snakemake.wildcards.model,
        dict(snakemake.params.hyper),
        data={split: snakemake.input[split] for split in ("train", "valid", "test")},
        out={key: snakemake.output[key] for key in ("model", "sidecar", "history", "metrics")},
        dataset=snakemake.wildcards.dataset,
        seed=int(snakemake.wildcards.seed),
        device=snakemake.params.training["device"],
        threads=snakemake.threads,
        ks=snakemake.params.evaluation["ks"],
        batch_users=snakemake.params.evaluation["batch_users"],
    )
