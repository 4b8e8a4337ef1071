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
