"""Rules tune_retrain and tune_submodel: the validation tuner (recunlearn.tuning) for one dataset and model, on the
training and validation splits only; writes the chosen settings and every trial."""

from recunlearn.run import JobContext, RunSpec, Settings
from recunlearn.runlog import job_log
from recunlearn.jobs.tuning import run_tune_retrain, run_tune_submodel

with job_log(snakemake.log[0]):
    plan = dict(snakemake.params.tuning)
    args = dict(
        spec=RunSpec.from_job(snakemake),
        ctx=JobContext.from_job(snakemake),
        settings=Settings.from_job(snakemake),
        plan=plan,
        data={split: snakemake.input[split] for split in ("train", "valid")},
        out={"tuning": snakemake.output.tuning, "trials": snakemake.output.trials},
    )
    if plan["target"] == "retrain":
        run_tune_retrain(**args)
    else:
        run_tune_submodel(**args, assignment_path=snakemake.input.assignment)
