"""Rule pretrain: WMF on the whole training set; its embeddings drive the partitions."""

from recunlearn.runlog import job_log
from recunlearn.sharded import run_pretrain

with job_log(snakemake.log[0]):
    run_pretrain(
        dict(snakemake.params.hyper),
        data={split: snakemake.input[split] for split in ("train", "valid")},
        out={key: snakemake.output[key] for key in ("embeddings", "sidecar")},
        dataset=snakemake.wildcards.dataset,
        seed=int(snakemake.wildcards.seed),
        device=snakemake.params.training["device"],
        threads=snakemake.threads,
    )
