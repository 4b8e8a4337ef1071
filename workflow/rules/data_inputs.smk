# The data rules' Python, which rules/data.smk alone uses (Snakemake's linter keeps functions out of the files
# of rules): where a dataset's files come from, their checksums, the split and what a raw archive holds.


def source_of(dataset, filename):
    """The registry source of resources/<dataset>/<filename>."""
    for source in dataset_spec(dataset)["sources"]:
        if source_filename(source) == filename:
            return source
    raise WorkflowError(f"dataset '{dataset}' has no source stored as '{filename}'")


def local_source(wildcards):
    """The user's own file a local source (a path or file:// URL) is copied from: none for http(s)."""
    path = local_path(source_of(wildcards.dataset, wildcards.filename)["url"])
    return [] if path is None else [path]


def expected_checksum(dataset, filename):
    """What the download of resources/<dataset>/<filename> is verified against, for the plan (``snakemake -n``)."""
    source = source_of(dataset, filename)
    sums = [f"{algo} {source[algo]}" for algo in ("sha256", "md5") if source.get(algo)]
    if not sums:
        return "no published checksum (sha256 recorded on first download)"
    return "verified against " + " and ".join(sums)


def split_params(dataset):
    """The split of a dataset (docs/report/protocol.md): split.mode when set, else the registry entry's split_mode. Only the
    keys its mode reads, so a random split's parameters are what they were before split modes existed."""
    split = config["split"]
    if split_mode(dataset_spec(dataset), split) == "given":
        return {"mode": "given", **{k: split[k] for k in ("given_valid", "seed", "min_user_interactions")}}
    return {k: split[k] for k in ("train", "valid", "test", "seed", "min_user_interactions")}


def raw_files(wildcards):
    """Raw inputs of a dataset: its downloaded sources, or the generator's output."""
    spec = dataset_spec(wildcards.dataset)
    if spec["format"] == "synthetic":
        return [f"results/{wildcards.dataset}/raw/interactions.tsv"]
    return [f"resources/{wildcards.dataset}/{source_filename(s)}" for s in spec["sources"]]


def raw_members(wildcards):
    """The zip member to read of each raw input (None: the file itself)."""
    spec = dataset_spec(wildcards.dataset)
    if spec["format"] == "synthetic":
        return [None]
    return [s.get("member") for s in spec["sources"]]
