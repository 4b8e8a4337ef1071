"""Rule user_unlearning_figure: utility against unlearning time after user-level deletion."""

from pathlib import Path

from recunlearn.report.figures import user_unlearning_figure
from recunlearn.runlog import job_log

with job_log(snakemake.log[0]):
    user_unlearning_figure(snakemake.input[0], str(Path(snakemake.output.png).with_suffix("")))
