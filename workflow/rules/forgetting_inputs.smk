# The forgetting check's Python, which rules/forgetting.smk alone uses (Snakemake's linter keeps functions out of
# the files of rules): which served models it attacks, and what each row job reads.
FORGETTING_ON = config["forgetting"]["enabled"]


def forgetting_served(dataset, model, seed=UNLEARN_SEED):
    """{request_set: [served]}: the served models the check attacks. On its members (unlearned at once): the
    original model, Retrain, each unlearning method and each approximate method (fine-tune, SCIF, IFRU); on Table
    6.4's requests, the served model of every method and mode that deleted at least MIN_MEMBERS of them (and Retrain
    in batch mode)."""
    from recunlearn.config import MIN_MEMBERS

    names = UNLEARN_NAMES
    approximate = list(APPROX_NAMES)
    served = {"members": ["original", "Retrain.batch", *[f"{n}.batch" for n in names + approximate]]}
    u = config["unlearning"]
    deleted = {"sequential": min(u["n_timed"], u["n_requests"]), "batch": u["n_requests"]}
    modes = [mode for mode in MODES if deleted[mode] >= MIN_MEMBERS]
    if modes:
        served["requests"] = [
            "original",
            *(["Retrain.batch"] if "batch" in modes else []),
            *[f"{n}.{mode}" for n in names + approximate for mode in modes],
        ]
    return served


def forgetting_rows():
    """Every row file of the forgetting table (first seed, K = n_shards); none when the check is off."""
    if not FORGETTING_ON:
        return []
    return [
        FORGETTING.format(dataset=d, model=m, seed=UNLEARN_SEED, request_set=r, served=s)
        for d in DATASETS
        for m in MODELS
        for r, names in forgetting_served(d, m).items()
        for s in names
    ]


def forgetting_inputs(wildcards):
    """The files one forgetting row reads: the splits, its deletion set, the original model and the served one."""
    w = dict(dataset=wildcards.dataset, model=wildcards.model, seed=wildcards.seed)
    members = wildcards.request_set == "members"
    requests = rules.forgetting_members.output[0] if members else rules.deletion_requests.output[0]
    files = {
        **{split: rules.preprocess.output[split].format(**w) for split in ("train", "valid", "test")},
        "requests": requests.format(**w),
        "original_model": at(RETRAIN, "model.pt", **w),
        "original_sidecar": at(RETRAIN, "model.json", **w),
    }
    name = wildcards.served
    if name == "original":
        return files
    method, mode = name.split(".")
    if method in APPROX_NAMES:  # an approximate method: from the original model
        names = {"model": "model.pt", "sidecar": "model.json", "times": "times.csv"}
        deletions = wildcards.request_set
        return {
            **files,
            **{
                key: approximate_file(**w, label=method, deletions=deletions, mode=mode, name=f)
                for key, f in names.items()
            },
        }
    if method in ALL_METHODS:  # a sharded method: its manifest lists what it serves
        partition, aggregator = methods_of(wildcards.model)[method]
        ids = dict(partition=partition, aggregator=aggregator, k=K, mode=mode, **w)
        base = FORGET if members else UNLEARN
        return {**files, "manifest": at(base, "served.json", **ids), "times": at(base, "times.csv", **ids)}
    base = FORGET_RETRAIN if members else UNLEARN_RETRAIN
    names = {"model": "model.pt", "sidecar": "model.json", "times": "times.csv"}
    return {**files, **{key: at(base, f, mode=mode, **w) for key, f in names.items()}}


def forgetting_served_params(wildcards):
    """What ``forgetting.run_check`` is told of the served model of a row (its files are the rule's inputs)."""
    name = wildcards.served
    method, mode = name.split(".") if "." in name else (name, None)
    kind = "original" if name == "original" else ("sharded" if method in ALL_METHODS else "model")
    return {"kind": kind, "method": method, "mode": mode, "request_set": wildcards.request_set}

# ---------------------------------------------------------------------------- user-level deletion
