"""Rule unlearn_retrain: the Retrain baseline without the request(s), timed."""

from recunlearn.runlog import job_log
from recunlearn.unlearn import unlearn_retrain

w = snakemake.wildcards
with job_log(snakemake.log[0]):
    unlearn_retrain(
        w.mode, w.model, dict(snakemake.params.hyper),
        data={split: snakemake.input[split] for split in ("train", "valid", "test")},
        requests_csv=snakemake.input.requests,
        out={key: snakemake.output[key] for key in ("model", "sidecar", "times", "metrics")},
        dataset=w.dataset, seed=int(w.seed), n_timed=snakemake.params.n_timed,
        device=snakemake.params.training["device"], threads=snakemake.threads,
        ks=snakemake.params.evaluation["ks"], batch_users=snakemake.params.evaluation["batch_users"],
    )
