"""Sharded training, job by job: pretraining, partition, one sub-model per shard, the aggregator.

Each function is what one Snakemake job calls. Every artefact is written atomically with a sidecar naming the
sha256 of the interaction set it was trained on and of the artefacts it was built from (the audit's lineage).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import asdict

import numpy as np
import pandas as pd
import torch

from .aggregate import AggregatorConfig, build
from .artefacts import load_state, read_sidecar, save_state, sidecar, write_sidecar
from .data import Interactions, atomic_path, load_interactions, write_atomic, write_json
from .experiments import method_name
from .metrics import embedding_scorer, evaluate_splits
from .models import model_config
from .partition import partition
from .results import write_rows
from .train import fit, setup_torch

log = logging.getLogger(__name__)


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _save_embeddings(model, path) -> None:
    with torch.no_grad():
        p, q = model.embeddings()
    save_state({"user": p, "item": q}, path)


def run_pretrain(params: dict, data: dict, out: dict, dataset: str, seed: int, device: str = "auto",
                 threads: int = 1) -> dict:
    """WMF on the whole training set; its embeddings are used only to partition (docs/method.md, section 5)."""
    dev = setup_torch(threads, device)
    cfg = model_config("WMF", params)
    train, valid = load_interactions(data["train"]), load_interactions(data["valid"])
    res = fit("WMF", cfg, train, valid, seed, dev, label=f"{dataset}/pretrain")
    _save_embeddings(res.model, out["embeddings"])
    info = sidecar(artefact=str(out["embeddings"]), kind="pretrained embeddings", dataset=dataset, model="WMF",
                   trained_on={"path": str(data["train"]), "sha256": train.sha256(), "interactions": len(train)},
                   config=asdict(cfg), seed=seed, device=str(dev), epochs_run=res.epochs_run,
                   best_epoch=res.best_epoch, train_seconds=res.train_seconds)
    info["artefact_sha256"] = file_sha256(out["embeddings"])  # the audit checks the file against it
    write_sidecar(out["sidecar"], info)
    return info


def run_partition(name: str, k: int, data: dict, embeddings_path, out: dict, seed: int, options: dict,
                  dataset: str = "") -> dict:
    """Shard id of every training interaction (``assignment.npz``) and the partition's statistics."""
    train = load_interactions(data["train"])
    emb = load_state(embeddings_path)
    shard, stats = partition(name, train, k, seed, user_emb=emb["user"].numpy(), item_emb=emb["item"].numpy(),
                             **options)
    tmp = atomic_path(out["assignment"])
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, shard=shard.astype(np.int32), n_shards=np.int64(k))
        tmp.replace(out["assignment"])
    finally:
        tmp.unlink(missing_ok=True)
    stats.update(dataset=dataset, train_sha256=train.sha256(), embeddings_sha256=file_sha256(embeddings_path),
                 options=options)
    write_json(out["stats"], stats)
    return stats


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


def run_shard(model_name: str, params: dict, data: dict, assignment_path, shard: int, out: dict, dataset: str,
              seed: int, device: str = "auto", threads: int = 1, partition_name: str = "",
              valid_mode: str = "users") -> dict:
    dev = setup_torch(threads, device)
    train, valid = load_interactions(data["train"]), load_interactions(data["valid"])
    part = shard_interactions(train, assignment_path, shard)
    cfg, res = train_submodel(model_name, params, part, valid, seed, dev,
                              label=f"{dataset}/{model_name}/{partition_name}/shard {shard}", valid_mode=valid_mode)
    save_state(res.model.state_dict(), out["model"])
    _save_embeddings(res.model, out["embeddings"])
    write_atomic(out["history"], pd.DataFrame(res.history).to_csv(index=False))
    info = sidecar(artefact=str(out["model"]), kind="sub-model", dataset=dataset, model=model_name,
                   partition=partition_name, shard=shard,
                   trained_on={"path": f"{data['train']} where shard == {shard}", "sha256": part.sha256(),
                               "interactions": len(part)},
                   partition_file={"path": str(assignment_path), "sha256": file_sha256(assignment_path)},
                   embeddings={"path": str(out["embeddings"]), "sha256": file_sha256(out["embeddings"])},
                   config=asdict(cfg), seed=seed, device=str(dev), threads=torch.get_num_threads(),
                   epochs_run=res.epochs_run, best_epoch=res.best_epoch,
                   best_valid_recall_at_10=res.best_valid_recall, train_seconds=res.train_seconds)
    info["artefact_sha256"] = file_sha256(out["model"])  # the audit checks the file against it
    write_sidecar(out["sidecar"], info)
    return info


def run_shards(model_name: str, params: dict, data: dict, assignment_path, shards: list[int], outs: list[dict],
               dataset: str, seed: int, device: str = "auto", threads: int = 1, partition_name: str = "",
               valid_mode: str = "users") -> list[dict]:
    """Shards ``shards`` of a partition in one process (``outs[i]``: the outputs of ``shards[i]``), one after
    another: one shard per job (``sharding.shard_jobs: per_shard``) or all K (``per_partition``), the same calls,
    seeds and files either way."""
    infos = []
    for shard, out in zip(shards, outs, strict=True):
        log.info("%s/%s/%s: shard %d (%d of %d in this job)", dataset, model_name, partition_name, shard,
                 len(infos) + 1, len(shards))
        infos.append(run_shard(model_name, params, data, assignment_path, shard, out, dataset, seed, device, threads,
                               partition_name, valid_mode))
    return infos


def run_partition_models(model_name: str, params: dict, agg_params: dict, data: dict, assignment_path,
                         shard_outs: list[dict], aggregators: list[str], aggregator_outs: list[dict], dataset: str,
                         partition: str, seed: int, device: str = "auto", threads: int = 1,
                         valid_mode: str = "users", ks=(10, 20, 50), batch_users: int = 1024) -> None:
    """A partition's K sub-models (``shard_outs[i]``: shard i's outputs), then each aggregator of ``aggregators``
    over them (``aggregator_outs[j]``), in one process (``sharding.shard_jobs: per_partition``): the same calls,
    seeds and files as one job per sub-model and one per aggregator."""
    k = len(shard_outs)
    run_shards(model_name, params, data, assignment_path, list(range(k)), shard_outs, dataset, seed, device, threads,
               f"{partition}_K{k}", valid_mode)
    submodels = [{"embeddings": out["embeddings"], "sidecar": out["sidecar"]} for out in shard_outs]
    for kind, out in zip(aggregators, aggregator_outs, strict=True):
        log.info("%s/%s/%s_K%d: aggregator %s", dataset, model_name, partition, k, kind)
        run_aggregate(kind, model_name, params, agg_params, submodels, data, out, dataset, partition, k, seed, device,
                      threads, ks, batch_users)


def load_submodels(embedding_paths) -> tuple[torch.Tensor, torch.Tensor]:
    states = [load_state(p) for p in embedding_paths]
    return torch.stack([s["user"] for s in states]), torch.stack([s["item"] for s in states])


def train_aggregator(kind: str, model_name: str, base_params: dict, agg_params: dict, sub_p, sub_q,
                     train: Interactions, valid: Interactions, seed: int, device, label: str):
    """Build (and for static / att, train) the aggregator over frozen sub-model embeddings."""
    base = model_config(model_name, base_params)
    # the base model's own loss; the WMF loss batches users, so the aggregator takes the base model's user batch
    batch = base.batch_size if base.loss == "wmf" else agg_params.get("batch_size", AggregatorConfig.batch_size)
    cfg = AggregatorConfig(**{**agg_params, "batch_size": batch})

    def make():
        return build(kind, sub_p, sub_q, cfg, train, base.loss, **base.loss_options())

    if kind == "mean":
        model = make().to(device).eval()
        return cfg, model, None
    # evaluated before training too, so a trained aggregator is never kept below its starting point on validation
    res = fit(make, cfg, train, valid, seed, device, label=label, eval_at_start=True)
    return cfg, res.model, res


def run_aggregate(kind: str, model_name: str, base_params: dict, agg_params: dict, submodels: list[dict],
                  data: dict, out: dict, dataset: str, partition_name: str, k: int, seed: int,
                  device: str = "auto", threads: int = 1, ks=(10, 20, 50), batch_users: int = 1024) -> dict:
    """Aggregate K sub-models (``submodels``: their embeddings and sidecar paths); evaluate; write artefacts."""
    dev = setup_torch(threads, device)
    train, valid, test = (load_interactions(data[s]) for s in ("train", "valid", "test"))
    sub_p, sub_q = load_submodels([s["embeddings"] for s in submodels])
    t0 = time.perf_counter()
    cfg, model, res = train_aggregator(kind, model_name, base_params, agg_params, sub_p.to(dev), sub_q.to(dev),
                                       train, valid, seed, dev, label=f"{dataset}/{model_name}/{partition_name}/{kind}")
    seconds = res.train_seconds if res else time.perf_counter() - t0
    save_state(model.state_dict(), out["model"])
    with torch.no_grad():
        p, q = model.embeddings()
    method = method_name(partition_name, kind)
    rows = evaluate_splits(embedding_scorer(p, q), train, valid, test, ks, batch_users, dev, dataset=dataset,
                           model=model_name, method=method, partition=partition_name, aggregator=kind, n_shards=k)
    write_rows(out["metrics"], [rows])
    write_atomic(out["history"], pd.DataFrame(res.history if res else []).to_csv(index=False))
    info = sidecar(artefact=str(out["model"]), kind="aggregator", aggregator=kind, method=method, dataset=dataset,
                   model=model_name, partition=partition_name, n_shards=k,
                   trained_on={"path": str(data["train"]), "sha256": train.sha256(), "interactions": len(train)},
                   submodels=[{"sidecar": str(s["sidecar"]), "trained_on_sha256": read_sidecar(s["sidecar"])["trained_on"]["sha256"],
                               "embeddings_sha256": file_sha256(s["embeddings"])} for s in submodels],
                   config=asdict(cfg), seed=seed, device=str(dev),
                   epochs_run=res.epochs_run if res else 0, best_epoch=res.best_epoch if res else 0,
                   train_seconds=seconds)
    info["artefact_sha256"] = file_sha256(out["model"])  # the audit checks the file against it
    write_sidecar(out["sidecar"], info)
    return info
