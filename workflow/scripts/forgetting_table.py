"""Rule forgetting_table: results/tables/forgetting.{md,tex,csv} from the rows of every served model."""

from pathlib import Path

from recunlearn.runlog import job_log
from recunlearn.report.forgetting import forgetting_table

with job_log(snakemake.log[0]):
    forgetting_table(list(snakemake.input), str(Path(snakemake.output.md).with_suffix("")))
