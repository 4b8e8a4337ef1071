"""Rule preprocess: raw files -> train/valid/test splits, id maps and stats.json."""

from pathlib import Path

from recunlearn.data import prepare
from recunlearn.runlog import job_log

with job_log(snakemake.log[0]):
    prepare(
        snakemake.params.fmt,
        list(zip(snakemake.input.raw, snakemake.params.members)),
        Path(snakemake.output.stats).parent,
        dict(snakemake.params.split),
        name=snakemake.wildcards.dataset,
        csv_options=dict(snakemake.params.csv or {}),
    )
