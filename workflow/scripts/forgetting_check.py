"""Rule forgetting_check: one row of the forgetting table, the attack against one served model."""

from recunlearn.forgetting import run_check
from recunlearn.run import JobContext, RunSpec
from recunlearn.runlog import job_log

i = snakemake.input
with job_log(snakemake.log[0]):
    served = {**snakemake.params.served, **{key: i[key] for key in ("model", "sidecar", "manifest", "times") if key in i.keys()}}
    run_check(
        RunSpec.from_job(snakemake),
        JobContext.from_job(snakemake),
        data={key: i[key] for key in ("train", "valid", "test", "requests")},
        original={"model": i.original_model, "sidecar": i.original_sidecar},
        served=served,
        options=snakemake.params.forgetting,
        out_csv=snakemake.output[0],
    )
