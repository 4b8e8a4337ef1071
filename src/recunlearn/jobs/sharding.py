"""The sharded-training jobs (docs/guide/method.md, sections 5-7): pretraining, the partition, one sub-model per shard
(or a partition's K in one job), and the aggregator, each written atomically with a sidecar naming the sha256 of the
interaction set it was trained on and of the artefacts it was built from (the audit's lineage).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, replace

import numpy as np

from ..artefacts import load_state, read_sidecar, save_state
from ..data import atomic_write, file_sha256, load_interactions, write_json
from ..models import model_config
from ..partition import partition
from ..registry import AGGREGATORS, lookup
from ..run import Job, JobContext, RunSpec, Settings, trained_on, write_history
from ..sharded import (final_embeddings, load_assignment, load_submodels, shard_interactions, train_aggregator,
                       train_submodel)
from ..train import fit

log = logging.getLogger(__name__)


def run_pretrain(spec: RunSpec, ctx: JobContext, settings: Settings, data: dict, out: dict) -> dict:
    """WMF on the whole training set; its embeddings are used only to partition (docs/guide/method.md, section 5)."""
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


def _tuned_aggregation(spec, ctx, settings, data, sub_p, sub_q, train, valid, device, submodels, path,
                       shard=None) -> dict:
    """The aggregator's tuning artefact (``path``): tuned in this job when it holds the plan (``settings.tuning``),
    else a record of the artefact whose choice ``settings`` already holds (or of nothing to tune). Its choice."""
    from .. import tuning
    from .tuning import copied

    plan = settings.tuning.get(spec.aggregator)
    if plan:
        lineage = {"trained_on": trained_on(train, data["train"]),
                   "validated_on": {"path": str(data["valid"]), "sha256": valid.sha256()},
                   "submodels": [{"embeddings_sha256": file_sha256(s["embeddings"])} for s in submodels]}
        own = replace(settings, aggregation=settings.aggregation_for(spec.aggregator))
        artefact = tuning.tune_aggregator(spec, ctx, own, plan, sub_p, sub_q, train, valid, device, lineage,
                                          shard=shard)
    elif spec.aggregator in settings.tuned_aggregation:
        artefact = copied(settings.tuned_aggregation[spec.aggregator], spec)
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
        shard = load_assignment(data["assignment"])
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
