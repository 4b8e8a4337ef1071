"""Sharded training, job by job: pretraining, partition, one sub-model per shard, the aggregator.

Each function is what one Snakemake job calls. Every artefact is written atomically with a sidecar naming the
sha256 of the interaction set it was trained on and of the artefacts it was built from (the audit's lineage).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, replace

import numpy as np
import torch

from .aggregate import AggregatorConfig, build
from .artefacts import file_sha256, load_state, read_sidecar, save_state
from .data import Interactions, atomic_write, load_interactions, write_json
from .models import model_config
from .partition import partition
from .registry import AGGREGATORS, lookup
from .run import Job, JobContext, RunSpec, Settings, trained_on, write_history
from .train import fit

log = logging.getLogger(__name__)


def final_embeddings(model) -> dict:
    """A model's final embeddings as the state the aggregators and the partitions load: detached tensors, never the
    model's parameters themselves (BPR's and WMF's embeddings are their parameters), so that holding them keeps
    neither the model nor an autograd graph alive."""
    with torch.no_grad():
        p, q = model.embeddings()
    return {"user": p.detach(), "item": q.detach()}


def run_pretrain(spec: RunSpec, ctx: JobContext, settings: Settings, data: dict, out: dict) -> dict:
    """WMF on the whole training set; its embeddings are used only to partition (docs/method.md, section 5)."""
    job = Job(spec, ctx, data)
    cfg = model_config("WMF", settings.hyper)
    train = job.split("train")
    res = fit("WMF", cfg, train, job.split("valid"), ctx.seed, job.device, label=f"{spec.dataset}/pretrain")
    return job.save(final_embeddings(res.model), out["embeddings"], out["sidecar"], job.sidecar(
        "pretrained embeddings", spec.with_(model="WMF"), method="pretraining",
        trained_on=trained_on(train, data["train"]),
        config=asdict(cfg), epochs_run=res.epochs_run, best_epoch=res.best_epoch, train_seconds=res.train_seconds))


def run_partition(spec: RunSpec, ctx: JobContext, options: dict, data: dict, embeddings_path, out: dict) -> dict:
    """Shard id of every training interaction (``assignment.npz``) and the partition's statistics."""
    train = load_interactions(data["train"])
    emb = load_state(embeddings_path)
    shard, stats = partition(spec.partition, train, spec.n_shards, ctx.seed, user_emb=emb["user"].numpy(),
                             item_emb=emb["item"].numpy(), **options)
    with atomic_write(out["assignment"]) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, shard=shard.astype(np.int32), n_shards=np.int64(spec.n_shards))
    stats.update(dataset=spec.dataset, train_sha256=train.sha256(), embeddings_sha256=file_sha256(embeddings_path),
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


def run_shards(spec: RunSpec, ctx: JobContext, settings: Settings, data: dict, assignment_path, shards: list[int],
               outs: list[dict]) -> list[dict]:
    """Sub-models ``shards`` of the partition ``spec`` (``outs[i]``: the model, embeddings, sidecar and history
    paths of ``shards[i]``), one after another in one process: one shard per job (``sharding.shard_jobs:
    per_shard``) or all K (``per_partition``), the same calls, seeds and files either way."""
    job = Job(spec, ctx, data)
    train, valid = job.split("train"), job.split("valid")
    infos = []
    for shard, out in zip(shards, outs, strict=True):
        log.info("%s: shard %d (%d of %d in this job)", spec.label(), shard, len(infos) + 1, len(shards))
        part = shard_interactions(train, assignment_path, shard)
        cfg, res = train_submodel(spec.model, settings.hyper, part, valid, ctx.seed, job.device,
                                  label=f"{spec.label()}/shard {shard}", valid_mode=settings.valid_mode)
        save_state(final_embeddings(res.model), out["embeddings"])
        write_history(out["history"], res)
        infos.append(job.save(res.model.state_dict(), out["model"], out["sidecar"], job.sidecar(
            "sub-model", spec.with_(aggregator=None), shard=shard,
            trained_on=trained_on(part, f"{data['train']} where shard == {shard}"), config=asdict(cfg),
            epochs_run=res.epochs_run, best_epoch=res.best_epoch, best_valid_recall_at_10=res.best_valid_recall,
            train_seconds=res.train_seconds),
            files={"partition_file": assignment_path, "embeddings": out["embeddings"]}))
    return infos


def run_partition_models(spec: RunSpec, ctx: JobContext, settings: Settings, data: dict, assignment_path,
                         shard_outs: list[dict], aggregators: list[str], aggregator_outs: list[dict]) -> None:
    """A partition's K sub-models (``shard_outs[i]``: shard i's outputs), then each aggregator of ``aggregators``
    over them (``aggregator_outs[j]``), in one process (``sharding.shard_jobs: per_partition``): the same calls,
    seeds and files as one job per sub-model and one per aggregator."""
    run_shards(spec, ctx, settings, data, assignment_path, list(range(spec.n_shards)), shard_outs)
    submodels = [{"embeddings": out["embeddings"], "sidecar": out["sidecar"]} for out in shard_outs]
    for aggregator, out in zip(aggregators, aggregator_outs, strict=True):
        log.info("%s: aggregator %s", spec.label(), aggregator)
        run_aggregate(spec.with_(aggregator=aggregator), ctx, settings, {**data, "assignment": assignment_path},
                      submodels, out)


def load_submodels(embedding_paths) -> tuple[torch.Tensor, torch.Tensor]:
    states = [load_state(p) for p in embedding_paths]
    return torch.stack([s["user"] for s in states]), torch.stack([s["item"] for s in states])


def train_aggregator(aggregator: str, model_name: str, base_params: dict, agg_params: dict, sub_p, sub_q,
                     train: Interactions, valid: Interactions, seed: int, device, label: str, on_eval=None,
                     shard=None):
    """Build (and unless it has nothing to learn, train) the aggregator over frozen sub-model embeddings
    (``on_eval``: ``train.fit``'s; ``shard``: each training interaction's shard, which an aggregator registered with
    ``uses_shards`` needs)."""
    entry = lookup(AGGREGATORS, "aggregator", aggregator)
    if entry.uses_shards and shard is None:
        raise ValueError(f"aggregator '{aggregator}' needs each training interaction's shard (shard=...)")
    base = model_config(model_name, base_params)
    # the base model's own loss; the WMF loss batches users, so the aggregator takes the base model's user batch
    batch = base.batch_size if base.loss == "wmf" else agg_params.get("batch_size", AggregatorConfig.batch_size)
    cfg = AggregatorConfig(**{**agg_params, "batch_size": batch})

    def make():
        return build(aggregator, sub_p, sub_q, cfg, train, base.loss, shard=shard, **base.loss_options())

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


def _tuned_aggregation(spec, ctx, settings, data, sub_p, sub_q, train, valid, device, submodels, path,
                       shard=None) -> dict:
    """The aggregator's tuning artefact (``path``): tuned in this job when it holds the plan (``settings.tuning``),
    else a record of the artefact whose choice ``settings`` already holds (or of nothing to tune). Its choice."""
    from . import tuning

    plan = settings.tuning.get(spec.aggregator)
    if plan:
        lineage = {"trained_on": trained_on(train, data["train"]),
                   "validated_on": {"path": str(data["valid"]), "sha256": valid.sha256()},
                   "submodels": [{"embeddings_sha256": file_sha256(s["embeddings"])} for s in submodels]}
        own = replace(settings, aggregation=settings.aggregation_for(spec.aggregator))
        artefact = tuning.tune_aggregator(spec, ctx, own, plan, sub_p, sub_q, train, valid, device, lineage,
                                          shard=shard)
    elif spec.aggregator in settings.tuned_aggregation:
        artefact = tuning.copied(settings.tuned_aggregation[spec.aggregator], spec)
    else:
        artefact = {"kind": "tuning", "target": "aggregator", "chosen": {}, "trials": [], **spec.identity(),
                    "note": "nothing tuned for this aggregator"}
    write_json(path, artefact)
    return artefact["chosen"] if plan else {}


def run_aggregate(spec: RunSpec, ctx: JobContext, settings: Settings, data: dict, submodels: list[dict],
                  out: dict) -> dict:
    """Aggregate K sub-models (``submodels``: their embeddings and sidecar paths); evaluate; write artefacts."""
    job = Job(spec, ctx, data)
    train, valid = job.split("train"), job.split("valid")
    sub_p, sub_q = load_submodels([s["embeddings"] for s in submodels])
    sub_p, sub_q = sub_p.to(job.device), sub_q.to(job.device)
    aggregation = settings.aggregation_for(spec.aggregator)
    shard = None
    if lookup(AGGREGATORS, "aggregator", spec.aggregator).uses_shards:  # e.g. UltraRE's combiner: users' groups
        with np.load(data["assignment"]) as z:
            shard = z["shard"].astype(np.int64)
    if "tuning" in out:  # the validation tuner is on: tune here, or record whose choice this run reads
        aggregation = {**aggregation, **_tuned_aggregation(spec, ctx, settings, data, sub_p, sub_q, train, valid,
                                                           job.device, submodels, out["tuning"], shard=shard)}
    t0 = time.perf_counter()
    cfg, model, res = train_aggregator(spec.aggregator, spec.model, settings.hyper, aggregation, sub_p, sub_q, train,
                                       valid, ctx.seed, job.device, label=spec.label(), shard=shard)
    seconds = res.train_seconds if res else time.perf_counter() - t0
    info = job.save(model.state_dict(), out["model"], out["sidecar"], job.sidecar(
        "aggregator", trained_on=trained_on(train, data["train"]),
        submodels=[{"sidecar": str(s["sidecar"]),
                    "trained_on_sha256": read_sidecar(s["sidecar"])["trained_on"]["sha256"],
                    "embeddings_sha256": file_sha256(s["embeddings"])} for s in submodels],
        config=asdict(cfg), epochs_run=res.epochs_run if res else 0, best_epoch=res.best_epoch if res else 0,
        train_seconds=seconds), files={"partition_file": data["assignment"]} if shard is not None else None)
    job.evaluate(model, train, out["metrics"])
    write_history(out["history"], res)
    return info
