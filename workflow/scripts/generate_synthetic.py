"""Rule generate_synthetic: the embedded synthetic dataset."""

from recunlearn.runlog import job_log
from recunlearn.synthetic import write_synthetic

with job_log(snakemake.log[0]):
    write_synthetic(dict(snakemake.params.synthetic), snakemake.output.interactions, snakemake.output.communities)
