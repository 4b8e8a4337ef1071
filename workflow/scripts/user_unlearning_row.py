"""Rule user_unlearning_row: one row of the user-deletion table, for one served model."""

from recunlearn.run import JobContext, RunSpec
from recunlearn.runlog import job_log
from recunlearn.user_unlearning import run_user_check

i, p = snakemake.input, snakemake.params.rows
with job_log(snakemake.log[0]):
    keys = i.keys()
    served = {**p["served"], **{key: i[key] for key in ("model", "sidecar", "manifest", "times") if key in keys}}
    if p["before"]["kind"] == "sharded":
        before = {**p["before"], "aggregator_sidecar": i.before_aggregator}
    else:
        before = {**p["before"], "model": i.before_model, "sidecar": i.before_sidecar}
    run_user_check(
        RunSpec.from_job(snakemake),
        JobContext.from_job(snakemake),
        data={key: i[key] for key in ("train", "valid", "test", "requests")},
        before=before,
        served=served,
        out_csv=snakemake.output[0],
    )
