"""The tuning jobs (docs/guide/tuning.md): Retrain's and a partition's sub-models' settings chosen on validation
(``tuning``'s search and objectives), written as a tuning artefact and its trials; an aggregator is tuned in its
own job (``jobs.sharding``), which records here whose choice it reads when it does not tune.
"""

from __future__ import annotations

from ..run import Job, trained_on
from ..search_space import complete
from ..sharded import shard_interactions
from ..tuning import mean_objective, retrain_objective, submodel_objective, tune


def run_tune_retrain(spec, ctx, settings, plan: dict, data: dict, out: dict) -> dict:
    """Rule tune_retrain: ``spec.model`` on the whole training set (``data``: train and valid only)."""
    job = Job(spec, ctx, data)
    train, valid = job.split("train"), job.split("valid")
    base = complete(spec.model, settings.hyper)
    objective = retrain_objective(spec.model, base, plan, train, valid, ctx.seed, job.device, spec.label())
    lineage = {**spec.identity(), "seed": ctx.seed, "device": str(job.device),
               "trained_on": trained_on(train, data["train"]),
               "validated_on": {"path": str(data["valid"]), "sha256": valid.sha256()}}
    return _write(tune(objective, plan, base, spec.label(), lineage), out)


def run_tune_submodel(spec, ctx, settings, plan: dict, data: dict, assignment_path, out: dict) -> dict:
    """Rule tune_submodel: the sub-models of the first ``plan['shards']`` shards of the partition ``spec``."""
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


def copied(path, spec) -> dict:
    """The artefact of a run that was not tuned itself but reads the choice of ``path`` (another seed, or K)."""
    from ..data import read_json

    source = read_json(path)
    return {"kind": "tuning", "target": source["target"], "chosen": source["chosen"], "tuned_by": str(path),
            "best_value": source.get("best_value"), "trials": [], **spec.identity()}


def _write(artefact: dict, out: dict) -> dict:
    from ..data import write_json

    if out.get("trials"):
        write_trials_csv(out["trials"], artefact)
    write_json(out["tuning"], artefact)
    return artefact
def write_trials_csv(path, artefact: dict) -> None:
    """Every trial as one CSV row (values flattened), atomically."""
    import pandas as pd

    from ..data import write_atomic

    rows = [{"trial": t["trial"], "state": t["state"], "value": t["value"], "seconds": t["seconds"],
             "first": t["first"], **{f"param_{k}": v for k, v in t["values"].items()}} for t in artefact["trials"]]
    write_atomic(path, pd.DataFrame(rows).to_csv(index=False))
