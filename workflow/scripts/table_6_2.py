"""Rule table_6_2: dataset statistics beside the paper's (Markdown, LaTeX, CSV)."""

from recunlearn.runlog import job_log
from recunlearn.report.paper import table_6_2

with job_log(snakemake.log[0]):
    table_6_2(list(snakemake.input.stats), snakemake.input.paper, snakemake.output[0][: -len(".md")],
              paper_names=dict(snakemake.params.paper_names))
