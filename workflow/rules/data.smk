localrules:
    download,


# ---------------------------------------------------------------------------- download
# Fetch one raw file of a dataset (https, file:// or a local path), checksum-verified, atomically. A local source
# is an input, so editing it reruns the copy (and what depends on it); fetch retries network errors only.
rule download:
    input:
        local_source,
    output:
        "resources/{dataset}/{filename}",
    log:
        "resources/{dataset}/{filename}.log",
    conda:
        "../../envs/recunlearn.yaml"
    params:
        source=lambda wildcards: source_of(wildcards.dataset, wildcards.filename),
        timeout=lookup(within=config, dpath="download/timeout"),
        retries=lookup(within=config, dpath="download/retries"),
        checksum=lambda wildcards: expected_checksum(wildcards.dataset, wildcards.filename),
    message:
        "download {output} from {params.source[url]}, {params.checksum}"
    script:
        "../scripts/download.py"


# ---------------------------------------------------------------------------- synthetic data
# Generate the embedded synthetic dataset (a latent-factor model shaped like ml-100k, docs/guide/synthetic.md); no download.
rule generate_synthetic:
    output:
        interactions="results/{dataset}/raw/interactions.tsv",
        communities="results/{dataset}/raw/communities.npz",
    log:
        "results/{dataset}/raw/generate.log",
    conda:
        "../../envs/recunlearn.yaml"
    params:
        synthetic=lambda wildcards: dataset_spec(wildcards.dataset)["synthetic"],
    script:
        "../scripts/generate_synthetic.py"


# ---------------------------------------------------------------------------- preprocess
# Implicit 1s, duplicates dropped, ids remapped, per-user seeded 80/10/10 split, stats; under split mode given the
# test file is the test set and validation is carved from the train file (docs/report/protocol.md).
rule preprocess:
    input:
        raw=raw_files,
    output:
        train="results/{dataset}/data/train.npz",
        valid="results/{dataset}/data/valid.npz",
        test="results/{dataset}/data/test.npz",
        user_map="results/{dataset}/data/users.csv",
        item_map="results/{dataset}/data/items.csv",
        stats="results/{dataset}/data/stats.json",
    log:
        "results/{dataset}/data/preprocess.log",
    conda:
        "../../envs/recunlearn.yaml"
    params:
        fmt=lambda wildcards: dataset_spec(wildcards.dataset)["format"],
        members=raw_members,
        csv=lambda wildcards: dataset_spec(wildcards.dataset).get("csv"),
        split=lambda wildcards: split_params(wildcards.dataset),
    script:
        "../scripts/preprocess.py"
