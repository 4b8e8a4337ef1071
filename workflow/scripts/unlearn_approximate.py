"""Rule unlearn_approximate: an approximate method (fine-tune, SCIF, IFRU) from Retrain's model, timed."""

from recunlearn.run import JobContext, RunSpec
from recunlearn.runlog import job_log
from recunlearn.unlearn import unlearn_approximate

i = snakemake.input
with job_log(snakemake.log[0]):
    unlearn_approximate(
        RunSpec.from_job(snakemake),
        JobContext.from_job(snakemake),
        data={key: i[key] for key in ("train", "valid", "test", "requests")},
        original={"model": i.original_model, "sidecar": i.original_sidecar},
        method=snakemake.wildcards.approx,
        options=snakemake.params.options,
        out={key: snakemake.output[key] for key in ("model", "sidecar", "times", "metrics")},
        n_timed=snakemake.params.n_timed,
    )
