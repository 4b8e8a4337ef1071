"""The validation tuner: settings chosen per dataset and model on the validation split, never on test.

Three targets (``TARGETS``), each tuned in the job that needs it or in its own job (``workflow/rules/tuning.smk``):

- ``retrain``: the base model on the whole training set. Its choice trains Retrain, the unlearning Retrain, and
  (for WMF) the pretraining whose embeddings drive the partitions.
- ``submodel``: the sub-models of one partition. A trial trains the sub-models of the first ``tuning.shards``
  shards only and scores the mean of their validation Recall@20 on their shards' validation interactions (the
  interactions they are early-stopped on, ``sharded.shard_validation``); the choice trains all K, and the K
  sub-models retrained during unlearning.
- ``aggregator``: StaticAgg or AttAgg over the K trained sub-models (MeanAgg has nothing to learn). It is tuned in
  the job that trains it, on the first training seed; the other seeds read that choice.

Each base model declares its search space next to its defaults (``ModelConfig.search_space``), each aggregator
in its registration (``registry.register_aggregator``); ``tuning.search_space`` in the config replaces a key's
range or removes it (``null``). The search is Optuna's TPE sampler, seeded; its first trial is always the
config's own settings, so the choice is never below them on validation (within a trial's epoch budget,
``tuning.max_epochs``). Trials early-stop as training does (validation Recall@10, the model's patience) and are
pruned by Optuna's median rule on that Recall@10; the objective is the validation Recall@20 of a trial's kept
parameters. Only the training and validation splits are read. Every trial is written to the artefact.
"""

from __future__ import annotations

import logging
import time


log = logging.getLogger(__name__)

OBJECTIVE = ("Recall", 20)  # validation Recall@20: what Table 6.3 and the paper's ratios compare
PRUNER_STARTUP = 4  # trials never pruned (the first is the config's own settings)
# evaluations of a trial before it may be pruned: on ml-1m, pruning from the first evaluation stopped 11 of 16 WMF
# Retrain trials after one epoch, which favours settings that start fast over ones that end best (docs/guide/tuning.md)
PRUNER_WARMUP = 10


# ---------------------------------------------------------------------------- the search (Optuna)
def suggest(trial, space: dict) -> dict:
    """One trial's values of ``space``."""
    values = {}
    for key, spec in space.items():
        if "choices" in spec:
            values[key] = trial.suggest_categorical(key, spec["choices"])
        elif spec["int"]:
            values[key] = trial.suggest_int(key, int(spec["low"]), int(spec["high"]), log=spec["log"])
        else:
            values[key] = trial.suggest_float(key, float(spec["low"]), float(spec["high"]), log=spec["log"])
    return values


def search(objective, space: dict, base: dict, trials: int, seed: int, label: str) -> dict:
    """Run ``trials`` trials of ``objective(values, report) -> (value, info)`` over ``space``, the first being
    ``base``'s own values; ``report(step, value)`` feeds the pruner and raises when the trial is pruned. Returns
    the chosen values, the best value and every trial."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=PRUNER_STARTUP,
                                                                   n_warmup_steps=PRUNER_WARMUP))
    start = {key: base[key] for key in space if key in base}
    if start:
        study.enqueue_trial(start, skip_if_exists=False)
    records = []

    def run(trial):
        values = suggest(trial, space)

        def report(step: int, value: float) -> None:
            trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned()

        t0 = time.perf_counter()
        record = {"trial": trial.number, "values": values, "first": trial.number == 0 and bool(start)}
        seen = next((r for r in records if r["values"] == values and "repeat_of" not in r), None)
        if seen is not None:  # the sampler drew values already trained (a small discrete space): reuse, retrain nothing
            record.update(state=seen["state"], value=seen["value"], seconds=0.0, repeat_of=seen["trial"])
            records.append(record)
            if seen["state"] == "pruned":
                raise optuna.TrialPruned()
            return seen["value"]
        try:
            value, info = objective(values, report)
        except optuna.TrialPruned:
            record.update(state="pruned", value=None, seconds=time.perf_counter() - t0)
            records.append(record)
            log.info("%s: trial %d pruned after %.1f s: %s", label, trial.number, record["seconds"], values)
            raise
        record.update(state="complete", value=value, seconds=time.perf_counter() - t0, **info)
        records.append(record)
        log.info("%s: trial %d of %d: validation Recall@20 %.4f in %.1f s: %s", label, trial.number + 1, trials,
                 value, record["seconds"], values)
        return value

    study.optimize(run, n_trials=trials, catch=())
    best = study.best_trial
    return {"chosen": dict(best.params), "best_value": best.value, "best_trial": best.number,
            "first_value": records[0]["value"] if start else None, "trials": records}


# ---------------------------------------------------------------------------- the objectives (torch)
def _capped(params: dict, max_epochs: int, default_max: int) -> dict:
    return {**params, "max_epochs": min(int(params.get("max_epochs", default_max)), int(max_epochs))}


def _valid_recall(model, train, valid, device) -> float:
    import torch

    from .metrics import embedding_scorer, evaluate

    with torch.no_grad():
        p, q = model.embeddings()
    metric, k = OBJECTIVE
    return evaluate(embedding_scorer(p, q), valid, [train], [k], device=device)[(metric, k)]


def retrain_objective(model_name: str, base: dict, plan: dict, train, valid, seed: int, device, label: str):
    """A trial of ``retrain``: the model on the whole training set with the trial's values."""
    from .models import model_config
    from .train import fit

    def objective(values, report):
        cfg = model_config(model_name, _capped({**base, **values}, plan["max_epochs"], 10**9))
        res = fit(model_name, cfg, train, valid, seed, device, label=f"{label} trial", on_eval=report)
        return _valid_recall(res.model, train, valid, device), {"epochs": res.epochs_run,
                                                               "best_epoch": res.best_epoch}

    return objective


def submodel_objective(model_name: str, base: dict, plan: dict, shards: list, valid, seed: int, device, label: str,
                       valid_mode: str = "users"):
    """A trial of ``submodel``: the sub-models of ``shards`` (their interaction sets), the mean of their validation
    Recall@20 on their shards' validation interactions. Sub-model trials are cheap and are not pruned."""
    from .sharded import shard_validation, train_submodel

    def objective(values, report):
        params = _capped({**base, **values}, plan["max_epochs"], 10**9)
        scores, epochs = [], []
        for i, part in enumerate(shards):
            _, res = train_submodel(model_name, params, part, valid, seed, device, f"{label} trial shard {i}",
                                    valid_mode=valid_mode)
            scores.append(_valid_recall(res.model, part, shard_validation(valid, part, valid_mode), device))
            epochs.append(res.epochs_run)
        return sum(scores) / len(scores), {"epochs": epochs}

    return objective


def mean_objective(model_name: str, base: dict, plan: dict, shards: list, train, valid, seed: int, device,
                   label: str, valid_mode: str = "users"):
    """A trial of ``submodel`` scored as SISA serves the sub-models (``tuning.submodel_objective: mean``): all K
    sub-models of the partition (``shards``: every shard's interaction set), then MeanAgg's validation Recall@20
    on the whole validation split. Sub-models that are best alone need not make the best mean: on the ml-1m training
    file, BPR sub-models on random shards kept past their own best epoch make a better MeanAgg
    (docs/report/ablation_ml1m.md)."""
    import torch

    from .metrics import embedding_scorer, evaluate
    from .sharded import train_submodel

    def objective(values, report):
        params = _capped({**base, **values}, plan["max_epochs"], 10**9)
        users, items, epochs = [], [], []
        for i, part in enumerate(shards):
            _, res = train_submodel(model_name, params, part, valid, seed, device, f"{label} trial shard {i}",
                                    valid_mode=valid_mode)
            with torch.no_grad():
                p, q = res.model.embeddings()
            users.append(p)
            items.append(q)
            epochs.append(res.epochs_run)
        # MeanAgg (aggregators.mean.MeanAgg): (1/K) sum_i p_u^i . q_v^i, as one product of the concatenated embeddings
        p, q = torch.cat(users, 1) / len(shards), torch.cat(items, 1)
        metric, k = OBJECTIVE
        value = evaluate(embedding_scorer(p, q), valid, [train], [k], device=device)[(metric, k)]
        return value, {"epochs": epochs}

    return objective


def aggregator_objective(aggregator: str, model_name: str, base_hyper: dict, base: dict, plan: dict, sub_p, sub_q,
                         train, valid, seed: int, device, label: str, shard=None):
    """A trial of ``aggregator``: the aggregator over the frozen sub-models with the trial's values (``shard``:
    each training interaction's shard, for an aggregator that uses it)."""
    from .sharded import train_aggregator

    def objective(values, report):
        params = _capped({**base, **values}, plan["max_epochs"], 10**9)
        _, model, res = train_aggregator(aggregator, model_name, base_hyper, params, sub_p, sub_q, train, valid,
                                         seed, device, label=f"{label} trial", on_eval=report, shard=shard)
        return _valid_recall(model, train, valid, device), {"epochs": res.epochs_run, "best_epoch": res.best_epoch}

    return objective


def tune(objective, plan: dict, base: dict, label: str, lineage: dict) -> dict:
    """Run the search of ``plan`` from ``base`` and return the artefact: the chosen values (to merge over the
    config's settings), the best and the config's own validation Recall@20, every trial, the budget and the
    lineage of what was read (training and validation sets only)."""
    t0 = time.perf_counter()
    log.info("%s: tuning %s over %s, %d trials of at most %d epochs", label, plan["target"],
             ", ".join(plan["space"]) or "nothing", plan["trials"], plan["max_epochs"])
    if not plan["space"]:
        found = {"chosen": {}, "best_value": None, "best_trial": None, "first_value": None, "trials": []}
    else:
        found = search(objective, plan["space"], base, plan["trials"], plan["seed"], label)
        if "max_epochs" in found["chosen"]:  # what the chosen trial trained: its epochs were capped at the budget's
            found["chosen"]["max_epochs"] = min(int(found["chosen"]["max_epochs"]), int(plan["max_epochs"]))
    seconds = time.perf_counter() - t0
    log.info("%s: chose %s (validation Recall@20 %s; the config's own settings %s), %.0f s", label, found["chosen"],
             _fmt(found["best_value"]), _fmt(found["first_value"]), seconds)
    return {"kind": "tuning", "target": plan["target"], "objective": "validation Recall@20", **found,
            "space": plan["space"], "budget": {k: plan[k] for k in ("trials", "max_epochs", "shards", "seed") if k in plan},
            "base": {k: base.get(k) for k in plan["space"]}, "seconds": seconds, **lineage}


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def tune_aggregator(spec, ctx, settings, plan: dict, sub_p, sub_q, train, valid, device, lineage: dict,
                    shard=None) -> dict:
    """The aggregator of ``spec`` tuned over its frozen sub-models (``jobs.sharding.run_aggregate`` calls it first)."""
    from dataclasses import asdict

    from .aggregators import AggregatorConfig

    base = {**asdict(AggregatorConfig()), **settings.aggregation}
    objective = aggregator_objective(spec.aggregator, spec.model, settings.hyper, settings.aggregation, plan, sub_p,
                                     sub_q, train, valid, ctx.seed, device, spec.label(), shard=shard)
    return tune(objective, plan, base, spec.label(), {**spec.identity(), "seed": ctx.seed, "device": str(device),
                                                      **lineage})
