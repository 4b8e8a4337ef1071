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

import copy
import functools
import logging
import math
import time

log = logging.getLogger(__name__)

TARGETS = ("retrain", "submodel", "aggregator")
OBJECTIVE = ("Recall", 20)  # validation Recall@20: what Table 6.3 and the paper's ratios compare
PRUNER_STARTUP = 4  # trials never pruned (the first is the config's own settings)
# evaluations of a trial before it may be pruned: on ml-1m, pruning from the first evaluation stopped 11 of 16 WMF
# Retrain trials after one epoch, which favours settings that start fast over ones that end best (docs/tuning.md)
PRUNER_WARMUP = 10


class SpaceError(ValueError):
    """A search space entry the tuner cannot use (the config check turns it into a one-line config error)."""


# ---------------------------------------------------------------------------- search spaces (torch-free)
def check_space(space: dict, fields: dict, where: str) -> dict:
    """Validate ``space`` ({key: {low, high[, log]} | {choices} | None}) against ``fields`` ({key: the key's JSON
    schema}); return it without the removed (``None``) keys. A problem raises SpaceError naming ``where.key``."""
    from jsonschema import Draft202012Validator

    if not isinstance(space, dict):
        raise SpaceError(f"'{where}': expected a mapping of hyper-parameter to range or choices, got {space!r}")
    out = {}
    for key, spec in space.items():
        at = f"{where}.{key}"
        if key not in fields:
            raise SpaceError(f"'{at}': not a tunable key here (expected one of: {', '.join(sorted(fields))})")
        if spec is None:
            continue
        ok = Draft202012Validator({k: v for k, v in fields[key].items() if k not in ("default", "description")})
        if not isinstance(spec, dict) or not spec:
            raise SpaceError(f"'{at}': expected {{low, high, log}} or {{choices: [...]}}, got {spec!r}")
        if "choices" in spec:
            extra = sorted(set(spec) - {"choices"})
            choices = spec["choices"]
            if extra:
                raise SpaceError(f"'{at}': choices take no other key, got {extra[0]!r}")
            if not isinstance(choices, list) or not choices:
                raise SpaceError(f"'{at}.choices': expected a non-empty list, got {choices!r}")
            for value in choices:
                if not ok.is_valid(value):
                    raise SpaceError(f"'{at}.choices': {value!r} is not a valid value of {key}")
            out[key] = {"choices": list(choices)}
            continue
        extra = sorted(set(spec) - {"low", "high", "log"})
        if extra:
            raise SpaceError(f"'{at}': unknown key {extra[0]!r} (expected low, high, log, or choices)")
        if "low" not in spec or "high" not in spec:
            raise SpaceError(f"'{at}': a range needs both low and high, got {spec!r}")
        low, high, use_log = spec["low"], spec["high"], spec.get("log", False)
        kind = fields[key].get("type")
        if kind not in ("number", "integer"):
            raise SpaceError(f"'{at}': {key} is not numeric, so it takes choices, not a range")
        for name, value in (("low", low), ("high", high)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise SpaceError(f"'{at}.{name}': expected a number, got {value!r}")
            if kind == "integer" and not float(value).is_integer():
                raise SpaceError(f"'{at}.{name}': {key} is an integer, got {value!r}")
            if not ok.is_valid(int(value) if kind == "integer" else value):
                raise SpaceError(f"'{at}.{name}': {value!r} is not a valid value of {key}")
        if not low < high:
            raise SpaceError(f"'{at}': low {low!r} must be below high {high!r}")
        if not isinstance(use_log, bool):
            raise SpaceError(f"'{at}.log': expected true or false, got {use_log!r}")
        if use_log and low <= 0:
            raise SpaceError(f"'{at}': a log range needs low > 0, got {low!r}")
        out[key] = {"low": low, "high": high, "log": use_log, "int": kind == "integer"}
    return out


def declared_space(target: str, model: str, aggregator: str | None = None) -> dict:
    """What the model (or, for ``aggregator``, the aggregator) declares it searches."""
    from .models import MODELS
    from .registry import AGGREGATORS, lookup

    if target == "aggregator":
        return copy.deepcopy(lookup(AGGREGATORS, "aggregator", aggregator).search_space)
    return copy.deepcopy(getattr(lookup(MODELS, "model", model).config, "search_space", {}))


def space_for(config: dict, target: str, model: str, aggregator: str | None = None) -> dict:
    """The declared space with ``tuning.search_space.<target>.<model or aggregator>`` over it, key by key."""
    override = config.get("tuning", {}).get("search_space", {}).get(target, {})
    name = aggregator if target == "aggregator" else model
    return {**declared_space(target, model, aggregator), **override.get(name, {})}


def tuning_plan(config: dict, target: str, model: str, aggregator: str | None = None) -> dict:
    """What one tuning job runs (the rules' ``params.tuning``): the checked space and the budget; ``{}`` when the
    config does not tune ``target``."""
    tuning = config.get("tuning", {})
    if not tuning.get("enabled") or target not in tuning.get("targets", TARGETS):
        return {}
    if target == "aggregator":
        from .registry import AGGREGATORS

        if not AGGREGATORS[aggregator].trained:
            return {}
    # what the job's output depends on and nothing else (its params): the sub-models' tuning alone reads the shards
    # it trains on, at most the K the partition has
    submodel = {"shards": min(int(tuning["shards"]), int(config["sharding"]["n_shards"])),
                "objective": tuning.get("submodel_objective", "submodels")} if target == "submodel" else {}
    return {"target": target, "space": space_fields_checked(config, target, model, aggregator),
            "trials": per_target(tuning["trials"], target, 20), "max_epochs": per_target(tuning["max_epochs"], target, 50),
            "seed": config["training"]["seeds"][0], **submodel}


def per_target(value, target: str, default: int) -> int:
    """A budget given as one number or as {target: number} (``tuning.trials``, ``tuning.max_epochs``)."""
    return int(value.get(target, default)) if isinstance(value, dict) else int(value)


def tunable_fields(target: str, model: str, schema: dict | None = None) -> dict:
    """{key: JSON schema} of what ``target`` may search: the model's hyper-parameters, or the aggregation section."""
    from .config import dataclass_schema
    from .models import MODELS

    if target == "aggregator":
        return (schema or _schema())["properties"]["aggregation"]["properties"]
    return dataclass_schema(MODELS[model].config)["properties"]


@functools.cache
def _schema() -> dict:
    """The config schema, read once per process (every aggregator job's plan asks for its aggregation section)."""
    from pathlib import Path

    from .config import load_yaml

    return load_yaml(Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml")


def space_fields_checked(config: dict, target: str, model: str, aggregator: str | None = None,
                         schema: dict | None = None) -> dict:
    name = aggregator if target == "aggregator" else model
    return check_space(space_for(config, target, model, aggregator), tunable_fields(target, model, schema),
                       f"tuning.search_space.{target}.{name}")


def check_tuning(config: dict, schema: dict) -> None:
    """Every search space the config would run, checked (``config.validate_config``): SpaceError on the first bad
    entry. Overrides of a model or aggregator that is not registered are refused too."""
    from .models import MODELS
    from .registry import AGGREGATORS, PARTITIONS

    objective = config.get("tuning", {}).get("submodel_objective", "submodels")
    for name in objective if isinstance(objective, dict) else ():
        if name not in PARTITIONS:
            raise SpaceError(f"'tuning.submodel_objective.{name}': unknown partition (expected one of: "
                             f"{', '.join(PARTITIONS)})")
        for model in objective[name] if isinstance(objective[name], dict) else ():
            if model not in MODELS:
                raise SpaceError(f"'tuning.submodel_objective.{name}.{model}': unknown model (expected one of: "
                                 f"{', '.join(MODELS)})")
    spaces = config.get("tuning", {}).get("search_space", {})
    for target, per_name in spaces.items():
        known = AGGREGATORS if target == "aggregator" else MODELS
        for name in per_name:
            if name not in known:
                raise SpaceError(f"'tuning.search_space.{target}.{name}': unknown "
                                 f"{'aggregator' if target == 'aggregator' else 'model'} (expected one of: "
                                 f"{', '.join(known)})")
            if target == "aggregator" and not AGGREGATORS[name].trained:
                raise SpaceError(f"'tuning.search_space.aggregator.{name}': {AGGREGATORS[name].paper_name} trains "
                                 f"nothing, so it has nothing to tune (expected one of the trained aggregators: "
                                 f"{', '.join(a for a, e in AGGREGATORS.items() if e.trained)})")
    from .config import hyperparameters, submodel_hyperparameters

    for model in MODELS:
        for target in ("retrain", "submodel"):
            space = space_fields_checked(config, target, model, schema=schema)
            if not config.get("tuning", {}).get("enabled") or model not in config.get("models", MODELS):
                continue
            settings = hyperparameters if target == "retrain" else submodel_hyperparameters
            for dataset in config.get("datasets", []):
                own = complete(model, settings(config, dataset, model))
                for key, spec in space.items():  # the first trial is the config's own: it must lie in the space
                    _check_own(spec, own[key], f"tuning.search_space.{target}.{model}.{key}",
                               f"the config's own {key} ({own[key]!r} on {dataset})")
    for aggregator, entry in AGGREGATORS.items():
        if entry.trained:
            space = space_fields_checked(config, "aggregator", next(iter(MODELS)), aggregator, schema=schema)
            if not config.get("tuning", {}).get("enabled"):
                continue
            own = config.get("aggregation", {})
            for key, spec in space.items():  # the first trial is the config's own aggregation settings
                if key in own:
                    _check_own(spec, own[key], f"tuning.search_space.aggregator.{aggregator}.{key}",
                               f"the config's own {key} (aggregation.{key}: {own[key]!r})")


def _check_own(spec: dict, value, where: str, what: str) -> None:
    """The config's own value, which the first trial tries, lies in the searched space (among its choices, or in
    its range): Optuna would otherwise only warn and run that trial outside the declared space."""
    if "choices" in spec:
        if value not in spec["choices"]:
            raise SpaceError(f"'{where}': {what}, which the first trial tries, is not among the choices "
                             f"{spec['choices']}")
    elif not spec["low"] <= value <= spec["high"]:
        raise SpaceError(f"'{where}': {what}, which the first trial tries, is outside the range [{spec['low']!r}, "
                         f"{spec['high']!r}] (expected a range that holds it)")


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
    (docs/ablation_ml1m.md)."""
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
        # MeanAgg (aggregate.MeanAgg): (1/K) sum_i p_u^i . q_v^i, as one product of the concatenated embeddings
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


def chosen(path) -> dict:
    """The settings a tuning artefact chose (to merge over the config's), or {} for no path."""
    if not path:
        return {}
    from .data import read_json

    return dict(read_json(path)["chosen"])


def write_trials_csv(path, artefact: dict) -> None:
    """Every trial as one CSV row (values flattened), atomically."""
    import pandas as pd

    from .data import write_atomic

    rows = [{"trial": t["trial"], "state": t["state"], "value": t["value"], "seconds": t["seconds"],
             "first": t["first"], **{f"param_{k}": v for k, v in t["values"].items()}} for t in artefact["trials"]]
    write_atomic(path, pd.DataFrame(rows).to_csv(index=False))


# ---------------------------------------------------------------------------- the jobs
def run_tune_retrain(spec, ctx, settings, plan: dict, data: dict, out: dict) -> dict:
    """Rule tune_retrain: ``spec.model`` on the whole training set (``data``: train and valid only)."""
    from .run import Job, trained_on

    job = Job(spec, ctx, data)
    train, valid = job.split("train"), job.split("valid")
    base = complete(spec.model, settings.hyper)
    objective = retrain_objective(spec.model, base, plan, train, valid, ctx.seed, job.device, spec.label())
    lineage = {**spec.identity(), "seed": ctx.seed, "device": str(job.device),
               "trained_on": trained_on(train, data["train"]),
               "validated_on": {"path": str(data["valid"]), "sha256": valid.sha256()}}
    return _write(tune(objective, plan, base, spec.label(), lineage), out)


def complete(model_name: str, hyper: dict) -> dict:
    """Every hyper-parameter of ``model_name``: ``hyper`` over the model's defaults (a trial's starting point)."""
    from dataclasses import asdict

    from .models import model_config

    return asdict(model_config(model_name, hyper))


def run_tune_submodel(spec, ctx, settings, plan: dict, data: dict, assignment_path, out: dict) -> dict:
    """Rule tune_submodel: the sub-models of the first ``plan['shards']`` shards of the partition ``spec``."""
    from .run import Job, trained_on
    from .sharded import shard_interactions

    job = Job(spec, ctx, data)
    train, valid = job.split("train"), job.split("valid")
    objective = plan.get("objective", "submodels")
    if isinstance(objective, dict):  # per partition, e.g. {random: mean}: the others score their sub-models alone
        objective = objective.get(spec.partition, "submodels")
    if isinstance(objective, dict):  # and per model, e.g. {random: {BPR: mean}}: the other models, submodels
        objective = objective.get(spec.model, "submodels")
    mean = objective == "mean"
    ids = list(range(spec.n_shards if mean else min(int(plan["shards"]), spec.n_shards)))
    shards = [shard_interactions(train, assignment_path, s) for s in ids]
    base = complete(spec.model, settings.hyper)
    if mean:
        objective = mean_objective(spec.model, base, plan, shards, train, valid, ctx.seed, job.device, spec.label(),
                                   settings.valid_mode)
    else:
        objective = submodel_objective(spec.model, base, plan, shards, valid, ctx.seed, job.device, spec.label(),
                                       settings.valid_mode)
    lineage = {**spec.identity(), "seed": ctx.seed, "device": str(job.device), "shards": ids,
               "submodel_objective": "mean" if mean else "submodels",
               "trained_on": [trained_on(part, f"{data['train']} where shard == {s}") for s, part in zip(ids, shards)],
               "validated_on": {"path": str(data["valid"]), "sha256": valid.sha256()}}
    return _write(tune(objective, plan, base, spec.label(), lineage), out)


def tune_aggregator(spec, ctx, settings, plan: dict, sub_p, sub_q, train, valid, device, lineage: dict,
                    shard=None) -> dict:
    """The aggregator of ``spec`` tuned over its frozen sub-models (``sharded.run_aggregate`` calls it first)."""
    from dataclasses import asdict

    from .aggregate import AggregatorConfig

    base = {**asdict(AggregatorConfig()), **settings.aggregation}
    objective = aggregator_objective(spec.aggregator, spec.model, settings.hyper, settings.aggregation, plan, sub_p,
                                     sub_q, train, valid, ctx.seed, device, spec.label(), shard=shard)
    return tune(objective, plan, base, spec.label(), {**spec.identity(), "seed": ctx.seed, "device": str(device),
                                                      **lineage})


def copied(path, spec) -> dict:
    """The artefact of a run that was not tuned itself but reads the choice of ``path`` (another seed, or K)."""
    from .data import read_json

    source = read_json(path)
    return {"kind": "tuning", "target": source["target"], "chosen": source["chosen"], "tuned_by": str(path),
            "best_value": source.get("best_value"), "trials": [], **spec.identity()}


def _write(artefact: dict, out: dict) -> dict:
    from .data import write_json

    if out.get("trials"):
        write_trials_csv(out["trials"], artefact)
    write_json(out["tuning"], artefact)
    return artefact
