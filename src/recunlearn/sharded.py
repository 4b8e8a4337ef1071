"""Sharded training's building blocks (docs/guide/method.md, sections 5-7): a shard's interactions and validation, a
sub-model trained on one shard, the sub-models' embeddings, and an aggregator over them. The jobs that write them
as artefacts are ``jobs.sharding``; the tuner and unlearning call these too.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import torch

from .aggregators import AggregatorConfig, build
from .artefacts import load_state
from .data import Interactions
from .models import model_config
from .registry import AGGREGATORS, lookup
from .train import fit

log = logging.getLogger(__name__)


def final_embeddings(model) -> dict:
    """A model's final embeddings as the state the aggregators and the partitions load: detached tensors, never the
    model's parameters themselves (BPR's and WMF's embeddings are their parameters), so that holding them keeps
    neither the model nor an autograd graph alive."""
    with torch.no_grad():
        p, q = model.embeddings()
    return {"user": p.detach(), "item": q.detach()}


def load_assignment(path) -> np.ndarray:
    """The shard id (int64) of every training interaction, from a partition's ``assignment.npz``."""
    with np.load(path) as z:
        return z["shard"].astype(np.int64)


def shard_interactions(train: Interactions, assignment_path, shard: int, assign=None) -> Interactions:
    """The training interactions of one shard (same id space as the whole dataset), from the partition file or
    from an ``assign`` array aligned with ``train``."""
    if assign is None:
        with np.load(assignment_path) as z:
            assign, k = z["shard"], int(z["n_shards"])
        if not 0 <= shard < k:
            raise ValueError(f"shard {shard} out of range [0, {k})")
    if len(assign) != len(train):
        raise ValueError(f"{assignment_path or 'assignment'}: {len(assign)} shard ids for {len(train)} training "
                         "interactions")
    sel = assign == shard
    return Interactions(train.user[sel], train.item[sel], train.n_users, train.n_items)


def shard_validation(valid: Interactions, shard_data: Interactions, mode: str = "shard") -> Interactions:
    """The validation interactions a sub-model is early-stopped on.

    ``shard``: those whose user *and* item occur in the shard (what the sub-model can rank: an item it never saw
    keeps its initial embedding); ``users``: every validation interaction of the shard's users. Either depends only
    on the shard and the validation split, so retraining a shard after a deletion stays exact.
    """
    keep = np.isin(valid.user, np.unique(shard_data.user))
    if mode == "shard":
        keep &= np.isin(valid.item, np.unique(shard_data.item))
    elif mode != "users":
        raise ValueError(f"sub-model validation '{mode}': expected shard or users")
    return Interactions(valid.user[keep], valid.item[keep], valid.n_users, valid.n_items)


def train_submodel(model_name: str, params: dict, shard_data: Interactions, valid: Interactions, seed: int,
                   device, label: str, valid_mode: str = "users"):
    """One sub-model, trained only on its shard; early stopping on the shard's validation interactions
    (``shard_validation``)."""
    cfg = model_config(model_name, params)
    return cfg, fit(model_name, cfg, shard_data, shard_validation(valid, shard_data, valid_mode), seed, device,
                    label=label)


def load_submodels(embedding_paths) -> tuple[torch.Tensor, torch.Tensor]:
    states = [load_state(p) for p in embedding_paths]
    return torch.stack([s["user"] for s in states]), torch.stack([s["item"] for s in states])


def train_aggregator(aggregator: str, model_name: str, base_params: dict, agg_params: dict, sub_p, sub_q,
                     train: Interactions, valid: Interactions, seed: int, device, label: str, on_eval=None,
                     shard=None, cache: dict | None = None):
    """Build (and unless it has nothing to learn, train) the aggregator over frozen sub-model embeddings
    (``on_eval``: ``train.fit``'s; ``shard``: each training interaction's shard, which an aggregator registered with
    ``uses_shards`` needs; ``cache``: state a caller keeps between its aggregators, ``aggregators.build``)."""
    entry = lookup(AGGREGATORS, "aggregator", aggregator)
    if entry.uses_shards and shard is None:
        raise ValueError(f"aggregator '{aggregator}' needs each training interaction's shard (shard=...)")
    base = model_config(model_name, base_params)
    # the base model's own loss; the WMF loss batches users, so the aggregator takes the base model's user batch
    batch = base.batch_size if base.loss == "wmf" else agg_params.get("batch_size", AggregatorConfig.batch_size)
    cfg = AggregatorConfig(**{**agg_params, "batch_size": batch})

    def make():
        return build(aggregator, sub_p, sub_q, cfg, train, base.loss, shard=shard, cache=cache,
                     **base.loss_options())

    if not entry.trained:  # MeanAgg: nothing to learn
        model = make().to(device).eval()
        return cfg, model, None
    if entry.solver:  # fitted in one full-batch solve (MembAgg), not by the epoch loop
        from .train import TrainResult, seed_everything

        seed_everything(seed, device)
        t0 = time.perf_counter()  # building it is part of its cost: RefitAgg's re-fit happens there
        model = make().to(device)
        iterations = model.solve(seed)
        seconds = time.perf_counter() - t0
        model.eval()
        log.info("%s: %s solved in %d iterations, %.2f s", label, model, iterations, seconds)
        return cfg, model, TrainResult(model, iterations, iterations, float("nan"), seconds, [])
    # evaluated before training too, so a trained aggregator is never kept below its starting point on validation
    res = fit(make, cfg, train, valid, seed, device, label=label, eval_at_start=True, on_eval=on_eval)
    return cfg, res.model, res


