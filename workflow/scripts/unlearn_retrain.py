"""Rule unlearn_retrain: the Retrain baseline without the request(s), timed."""

from recunlearn.run import JobContext, RunSpec, Settings
from recunlearn.runlog import job_log
from recunlearn.unlearn import unlearn_retrain

with job_log(snakemake.log[0]):
    unlearn_retrain(
        RunSpec.from_job(snakemake),
        JobContext.from_job(snakemake),
        Settings.from_job(snakemake),
        data={key: snakemake.input[key] for key in ("train", "valid", "test", "requests")},
        out={key: snakemake.output[key] for key in ("model", "sidecar", "times", "metrics")},
        n_timed=snakemake.params.n_timed,
    )
