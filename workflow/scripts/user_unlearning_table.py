"""Rule user_unlearning_table: results/tables/user_unlearning.{md,tex,csv} from every method's row."""

from pathlib import Path

from recunlearn.runlog import job_log
from recunlearn.report.user_unlearning import user_unlearning_table

with job_log(snakemake.log[0]):
    user_unlearning_table(list(snakemake.input), str(Path(snakemake.output.md).with_suffix("")))
