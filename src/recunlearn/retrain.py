"""Retrain: one base model trained on the whole training set (the paper's upper bound on quality)."""

from __future__ import annotations

import logging
from dataclasses import asdict

from .models import model_config
from .run import Job, JobContext, RunSpec, Settings, trained_on, write_history
from .train import fit

log = logging.getLogger(__name__)


def run_retrain(spec: RunSpec, ctx: JobContext, settings: Settings, data: dict, out: dict) -> dict:
    """Train ``spec.model`` on ``data['train']``, keep the best by validation, write the model, its sidecar,
    the training history and the metric rows (``out``: model, sidecar, history, metrics paths)."""
    job = Job(spec, ctx, data)
    cfg = model_config(spec.model, settings.hyper)
    train, valid = job.split("train"), job.split("valid")
    result = fit(spec.model, cfg, train, valid, ctx.seed, job.device, label=spec.label())
    info = job.save(result.model.state_dict(), out["model"], out["sidecar"], job.sidecar(
        "model",
        trained_on={**trained_on(train, data["train"]), "n_users": train.n_users, "n_items": train.n_items},
        validated_on={"path": str(data["valid"]), "sha256": valid.sha256()},
        config=asdict(cfg), epochs_run=result.epochs_run, best_epoch=result.best_epoch,
        best_valid_recall_at_10=result.best_valid_recall, train_seconds=result.train_seconds))
    job.evaluate(result.model, train, out["metrics"])
    write_history(out["history"], result)
    return info
