"""Retrain: one base model trained on the whole training set (the paper's upper bound on quality)."""

from __future__ import annotations

import logging
from dataclasses import asdict

import pandas as pd
import torch

from .artefacts import file_sha256, save_state, sidecar, write_sidecar
from .data import load_interactions, write_atomic
from .metrics import embedding_scorer, evaluate_splits
from .models import model_config
from .results import write_rows
from .train import fit, setup_torch

log = logging.getLogger(__name__)


def run_retrain(model_name: str, params: dict, data: dict, out: dict, dataset: str, seed: int, device: str = "auto",
                threads: int = 1, ks=(10, 20, 50), batch_users: int = 1024) -> dict:
    """Train ``model_name`` on ``data['train']``, keep the best by validation, write the model, its sidecar,
    the training history and the metric rows (``out``: model, sidecar, history, metrics paths)."""
    dev = setup_torch(threads, device)
    cfg = model_config(model_name, params)
    train, valid, test = (load_interactions(data[s]) for s in ("train", "valid", "test"))
    result = fit(model_name, cfg, train, valid, seed, dev, label=f"{dataset}/{model_name}/retrain")
    save_state(result.model.state_dict(), out["model"])
    with torch.no_grad():
        p, q = result.model.embeddings()
    rows = evaluate_splits(embedding_scorer(p, q), train, valid, test, ks, batch_users, dev, dataset=dataset,
                           model=model_name, method="Retrain")
    write_rows(out["metrics"], [rows])
    write_atomic(out["history"], pd.DataFrame(result.history).to_csv(index=False))
    info = sidecar(
        artefact=str(out["model"]),
        kind="model",
        dataset=dataset,
        model=model_name,
        method="Retrain",
        trained_on={"path": str(data["train"]), "sha256": train.sha256(), "interactions": len(train),
                    "n_users": train.n_users, "n_items": train.n_items},
        validated_on={"path": str(data["valid"]), "sha256": valid.sha256()},
        config=asdict(cfg),
        seed=seed,
        device=str(dev),
        threads=torch.get_num_threads(),
        epochs_run=result.epochs_run,
        best_epoch=result.best_epoch,
        best_valid_recall_at_10=result.best_valid_recall,
        train_seconds=result.train_seconds,
    )
    info["artefact_sha256"] = file_sha256(out["model"])  # the audit checks the file against it
    write_sidecar(out["sidecar"], info)
    return info
