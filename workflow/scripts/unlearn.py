"""Rule unlearn: sequential or batch unlearning of a sharded model; times, metrics, served-model manifest."""

from recunlearn.run import JobContext, RunSpec, Settings
from recunlearn.runlog import job_log
from recunlearn.unlearn import unlearn_sharded

i = snakemake.input
with job_log(snakemake.log[0]):
    unlearn_sharded(
        RunSpec.from_job(snakemake),
        JobContext.from_job(snakemake),
        Settings.from_job(snakemake),
        data={key: i[key] for key in ("train", "valid", "test", "assignment", "requests")},
        submodels=[{"embeddings": e, "sidecar": s, "model": m} for e, s, m in zip(i.embeddings, i.sidecars, i.models)],
        out={"dir": snakemake.output.artefacts, **{key: snakemake.output[key] for key in ("times", "metrics", "served")}},
        n_timed=snakemake.params.n_timed,
    )
