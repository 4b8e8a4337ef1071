# The unlearning rules' Python, which rules/unlearning.smk alone uses (Snakemake's linter keeps functions out of
# the files of rules): what the audit checks.


def served_manifests(wildcards):
    """The served (unlearned) models of a dataset, model and seed that the audit checks: every one a table or figure
    reports, each method in each mode and RecEraser at every K of Fig. 6.4."""
    files = [
        unlearn_file(wildcards.dataset, wildcards.model, p, a, K, mode, "served.json", seed=wildcards.seed)
        for _, p, a in unlearn_methods(wildcards.model)
        for mode in MODES
    ]
    files += [
        unlearn_file(
            wildcards.dataset, wildcards.model, "inbp", "att", k, "sequential", "served.json", seed=wildcards.seed
        )
        for k in K_VALUES
    ]
    return list(dict.fromkeys(files))


def approximate_requests(wildcards):
    """The deletion set an approximate method's job unlearns: the forgetting check's members, Table 6.4's requests
    or a user selection's requests."""
    if wildcards.deletions == "members":
        return f"results/{wildcards.dataset}/forgetting/members.csv"
    if wildcards.deletions == "requests":
        return f"results/{wildcards.dataset}/unlearning/requests.csv"
    return USER_REQUESTS.format(dataset=wildcards.dataset, selection=wildcards.deletions)


def approximate_n_timed(wildcards):
    """How many requests a sequential approximate job unlearns one by one: Table 6.4's or user deletion's count."""
    section = "unlearning" if wildcards.deletions in ("members", "requests") else "user_unlearning"
    return config[section]["n_timed"]


def approximate_file(dataset, model, label, deletions, mode, name, seed=UNLEARN_SEED):
    """A file of the approximate method named ``label`` in the tables (fine-tune, SCIF, IFRU)."""
    ids = dict(dataset=dataset, model=model, seed=seed, approx=APPROX_NAMES[label], deletions=deletions, mode=mode)
    return at(APPROX, name, **ids)
