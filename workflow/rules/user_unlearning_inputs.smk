# User-level deletion's Python, which rules/user_unlearning.smk alone uses (Snakemake's linter keeps functions out
# of the files of rules): the rows of the table and what each row job reads.
USERS_ON = config["user_unlearning"]["enabled"]


def user_rows():
    """Every row file of the user-deletion table (first seed, K = n_shards): Retrain, each method and each
    approximate method, per selection and mode; none when it is off."""
    u = config["user_unlearning"]
    if not USERS_ON:
        return []
    return [
        USER_ROW.format(dataset=d, model=m, seed=UNLEARN_SEED, selection=sel, served=f"{method}.{mode}")
        for d in DATASETS
        for m in MODELS
        for sel in u["selections"]
        for mode in u["modes"]
        for method in ["Retrain", *u["methods"], *APPROX_NAMES]
    ]


def user_row_inputs(wildcards):
    """The files one user-deletion row reads: the splits, the user requests, the served model after them and the
    same method's model before them."""
    w = dict(dataset=wildcards.dataset, model=wildcards.model, seed=wildcards.seed)
    method, mode = wildcards.served.split(".")
    files = {
        **{split: rules.preprocess.output[split].format(**w) for split in ("train", "valid", "test")},
        "requests": USER_REQUESTS.format(dataset=wildcards.dataset, selection=wildcards.selection),
    }
    before = {"before_model": at(RETRAIN, "model.pt", **w), "before_sidecar": at(RETRAIN, "model.json", **w)}
    if method in APPROX_NAMES:  # from the original model: the model before is Retrain's
        names = {"model": "model.pt", "sidecar": "model.json", "times": "times.csv"}
        after = dict(label=method, deletions=wildcards.selection, mode=mode)
        return {**files, **before, **{key: approximate_file(**w, **after, name=f) for key, f in names.items()}}
    if method == "Retrain":
        after = dict(selection=wildcards.selection, mode=mode, **w)
        return {
            **files,
            "model": at(USERS_RETRAIN, "model.pt", **after),
            "sidecar": at(USERS_RETRAIN, "model.json", **after),
            "times": at(USERS_RETRAIN, "times.csv", **after),
            **before,
        }
    partition, aggregator = methods_of(wildcards.model)[method]
    ids = dict(partition=partition, aggregator=aggregator, k=K, **w)
    return {
        **files,
        "manifest": at(USERS, "served.json", selection=wildcards.selection, mode=mode, **ids),
        "times": at(USERS, "times.csv", selection=wildcards.selection, mode=mode, **ids),
        "before_aggregator": at(AGGREGATE, AGGREGATOR_FILES["sidecar"], **ids),
    }


def user_row_params(wildcards):
    """What ``user_unlearning.run_user_check`` is told of a row's served model and of the model before it."""
    method, mode = wildcards.served.split(".")
    sharded = method in ALL_METHODS
    return {
        "served": {
            "kind": "sharded" if sharded else "model",
            "method": method,
            "mode": mode,
            "selection": wildcards.selection,
            "approximate": method in APPROX_NAMES,
        },
        "before": {
            "kind": "sharded" if sharded else "model",
            "aggregator": methods_of(wildcards.model)[method][1] if sharded else None,
        },
    }
