# The report's Python, which rules/results.smk alone uses (Snakemake's linter keeps functions out of the files
# of rules): the metric, timing and tuning files behind each table and figure.


def quality_runs(combos=None, k=None, seeds=None, retrain=True):
    """{metrics.csv: seed} of the quality runs: Retrain (unless ``retrain`` is false) and the (partition,
    aggregator) pairs ``combos`` (a list, or a function of the model) at ``k`` shards, per dataset, model and seed
    (defaults: all the config asks for)."""
    k = K if k is None else k
    runs = {}
    for d in DATASETS:
        for m in MODELS:
            for s in seeds or SEEDS:
                if retrain:
                    runs[at(RETRAIN, "metrics.csv", dataset=d, model=m, seed=s)] = s
                pairs = COMBOS if combos is None else (combos(m) if callable(combos) else combos)
                for p, a in pairs:
                    runs[at(AGGREGATE, "metrics.csv", dataset=d, model=m, seed=s, partition=p, k=k, aggregator=a)] = s
    return runs


def unlearn_retrain_file(dataset, model, mode, name, seed=UNLEARN_SEED):
    return at(UNLEARN_RETRAIN, name, dataset=dataset, model=model, seed=seed, mode=mode)


def paper_datasets():
    """dataset -> the paper's dataset it stands for in Tables 6.2 and 6.3 (ml-1m-receraser -> ml-1m)."""
    return {d: dataset_spec(d).get("paper_dataset", d) for d in DATASETS}


def unlearning_metric_files():
    """The metrics of the unlearning experiments (first seed): after deletion, the models before it (the named
    methods at K and RecEraser at every K of Fig. 6.4) and Retrain."""
    out = []
    for d in DATASETS:
        for m in MODELS:
            for mode in MODES:
                out.append(unlearn_retrain_file(d, m, mode, "metrics.csv"))
                out += [unlearn_file(d, m, p, a, K, mode, "metrics.csv") for _, p, a in unlearn_methods(m)]
                out += [approximate_file(d, m, label, "requests", mode, "metrics.csv") for label in APPROX_NAMES]
            out += [unlearn_file(d, m, "inbp", "att", k, "sequential", "metrics.csv") for k in K_VALUES]
    out += quality_runs(combos=lambda m: [(p, a) for _, p, a in unlearn_methods(m)], seeds=[UNLEARN_SEED])
    for k in K_VALUES:
        out += quality_runs(combos=[("inbp", "att")], k=k, seeds=[UNLEARN_SEED], retrain=False)
    return sorted(set(out))


def timing_files(datasets=None, models=None):
    """times.csv of every timing job (first seed): Table 6.4 and Fig. 6.4; the approximate methods' too."""
    out = []
    for d in datasets or DATASETS:
        for m in MODELS:
            for mode in MODES:
                out.append(unlearn_retrain_file(d, m, mode, "times.csv"))
                out += [unlearn_file(d, m, p, a, K, mode, "times.csv") for _, p, a in unlearn_methods(m)]
                out += [approximate_file(d, m, label, "requests", mode, "times.csv") for label in APPROX_NAMES]
            out += [unlearn_file(d, m, "inbp", "att", k, "sequential", "times.csv") for k in K_VALUES]
    return sorted(set(out))


def metric_files():
    """{metrics.csv: seed} of every evaluation the config asks for (gathered into results/metrics.csv): MostPop
    (no seed), the quality runs of every seed (RecEraser-fast's too: the frontier's quality is Table 6.3's, the mean
    over the seeds), the unlearning experiments of the first."""
    files = {at(MOSTPOP, "metrics.csv", dataset=d): None for d in DATASETS}
    files.update(quality_runs())
    files.update(table_6_3_runs())
    for f in unlearning_metric_files():
        files.setdefault(f, UNLEARN_SEED)
    return files


def table_6_3_runs():
    """{metrics.csv: seed}: Retrain and the three named methods, per dataset, model and seed: all Table 6.3 needs;
    and any method beyond the paper that ``unlearning.methods`` lists (RecEraser-fast), a column of its own."""

    def combos(model):
        beyond = [(p, a) for name, p, a in unlearn_methods(model) if name not in METHODS]
        return METHOD_COMBOS + [c for c in beyond if c not in METHOD_COMBOS]

    return quality_runs(combos=combos)


def table_6_3_tuning():
    """The tuning artefacts behind Table 6.3's runs (first seed, main K): Retrain's, the sub-models' and the
    aggregators' of SISA, GraphEraser and RecEraser; none when tuning is off."""
    if not TUNING:
        return []
    files = []
    for d in DATASETS:
        for m in MODELS:
            files += listed(tuned_file("retrain", d, m))
            for p, a in METHOD_COMBOS:
                files += listed(tuned_file("submodel", d, m, p))
                files.append(
                    at(AGGREGATE, "tuning.json", dataset=d, model=m, seed=UNLEARN_SEED, partition=p, k=K, aggregator=a)
                )
    return files


def figure_variants(wildcards):
    s = config["sharding"]
    return s["partitions"] if wildcards.figure == "fig_6_2" else s["aggregators"]


def figure_runs(wildcards):
    """{metrics.csv: seed} of a figure's bars: the partitions under att (6.2) or the aggregators over inbp (6.3)."""
    combos = (
        [(p, "att") for p in figure_variants(wildcards)]
        if wildcards.figure == "fig_6_2"
        else [("inbp", a) for a in figure_variants(wildcards)]
    )
    return quality_runs(combos=combos, retrain=False)


def figure_inputs(wildcards):
    return list(figure_runs(wildcards))
