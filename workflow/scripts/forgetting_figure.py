"""Rule forgetting_figure: the forgetting check's AUCs and intervals, the controls apart."""

from pathlib import Path

from recunlearn.report.figures import forgetting_figure
from recunlearn.runlog import job_log

with job_log(snakemake.log[0]):
    forgetting_figure(snakemake.input[0], str(Path(snakemake.output.png).with_suffix("")))
