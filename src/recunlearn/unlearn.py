"""Unlearning for real (docs/method.md, sections 8-9): deletion requests, sequential and batch unlearning, Retrain timings,
and the forgetting audit.

Sequential mode (the paper's protocol): timed requests are processed one after another; for each, the shard that
holds it is retrained from scratch (same seed and hyper-parameters) on its data minus every interaction deleted so
far, then the aggregator is retrained on the training set minus those interactions (SISA's mean is not trained).
Batch mode (beyond the paper): all R requests at once, each affected shard retrained once, the aggregator once.
The served model after unlearning is described by a manifest (``served.json``) that lists every artefact it
depends on with its sidecar; the audit recomputes each artefact's training set from the lineage and checks it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from .artefacts import read_sidecar, save_state
from .data import Interactions, file_sha256, load_interactions, write_atomic, write_json
from .models import model_config
from .requests import deleted_users, drop_users, request_steps, without
from .run import Job, JobContext, RunSpec, Settings, trained_on
from .sharded import final_embeddings, load_submodels, shard_interactions, train_aggregator, train_submodel
from .train import fit

log = logging.getLogger(__name__)


def _assignment(path) -> np.ndarray:
    with np.load(path) as z:
        return z["shard"].astype(np.int64)


# ---------------------------------------------------------------------------- sharded methods
def unlearn_sharded(spec: RunSpec, ctx: JobContext, settings: Settings, data: dict, submodels: list[dict], out: dict,
                    n_timed: int) -> pd.DataFrame:
    """Unlearn the requests (``data['requests']``) from the sharded model ``spec`` (``spec.mode`` sequential or
    batch; ``data`` also holds the splits and the partition's ``assignment``; ``submodels``: each shard's model,
    embeddings and sidecar); write the times, the metrics, the retrained artefacts under ``out['dir']`` and the
    manifest of the served model (``out['served']``). ``settings`` must be those the sub-models were trained with
    (exactness)."""
    job = Job(spec, ctx, data)
    train, valid = job.split("train"), job.split("valid")
    gone_users = deleted_users(data["requests"])  # a user deleted whole is not validated on either
    valid = drop_users(valid, gone_users) if len(gone_users) else valid
    assign = _assignment(data["assignment"])
    steps = request_steps(spec.mode, data["requests"], n_timed)
    out_dir = Path(out["dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    sub_p, sub_q = load_submodels([s["embeddings"] for s in submodels])
    current = [{"kind": "sub-model", "shard": i, "sidecar": str(s["sidecar"]), "model": str(s.get("model", "")),
                "embeddings": str(s["embeddings"]), "retrained": False} for i, s in enumerate(submodels)]
    deleted: list[int] = []
    times, agg_info = [], None
    for step, rows in enumerate(steps):
        deleted += rows
        affected = sorted(set(assign[rows].tolist()))
        sub_seconds, sub_epochs = [], []
        reduced = without(train, np.array(deleted))  # once per step, shared by its shards and the aggregator
        reduced_assign = np.delete(assign, deleted)
        for s in affected:
            part = shard_interactions(reduced, None, s, assign=reduced_assign)
            cfg, res = train_submodel(spec.model, settings.hyper, part, valid, ctx.seed, job.device,
                                      label=f"{spec.label()} shard {s}", valid_mode=settings.valid_mode)
            stem = out_dir / f"shard_{s}"
            embeddings = final_embeddings(res.model)
            save_state(embeddings, f"{stem}.embeddings.pt")
            sub_p[s], sub_q[s] = embeddings["user"].cpu(), embeddings["item"].cpu()
            job.save(res.model.state_dict(), f"{stem}.model.pt", f"{stem}.model.json", job.sidecar(
                "sub-model", spec.with_(aggregator=None, mode=None), shard=s, unlearned_requests=len(deleted),
                trained_on=trained_on(part, f"{data['train']} where shard == {s}, minus {len(deleted)} deleted"),
                config=asdict(cfg), epochs_run=res.epochs_run, best_epoch=res.best_epoch,
                train_seconds=res.train_seconds), files={"embeddings": f"{stem}.embeddings.pt"})
            current[s] = {"kind": "sub-model", "shard": s, "sidecar": f"{stem}.model.json", "model": f"{stem}.model.pt",
                          "embeddings": f"{stem}.embeddings.pt", "retrained": True}
            sub_seconds.append(res.train_seconds)
            sub_epochs.append(res.epochs_run)
        cfg, agg, res = train_aggregator(spec.aggregator, spec.model, settings.hyper, settings.aggregation_for(spec.aggregator),
                                         sub_p.to(job.device), sub_q.to(job.device), reduced, valid, ctx.seed,
                                         job.device, label=f"{spec.label()} aggregator", shard=reduced_assign)
        agg_seconds = res.train_seconds if res else 0.0
        times.append({**spec.identity(), "seed": ctx.seed, "device": str(job.device), "step": step,
                      "requests": len(rows), "deleted_so_far": len(deleted), "shards_retrained": len(affected),
                      "submodel_seconds": float(np.sum(sub_seconds)),
                      "submodel_seconds_parallel": float(np.max(sub_seconds)), "submodel_epochs": int(np.sum(sub_epochs)),
                      "aggregator_seconds": agg_seconds, "aggregator_epochs": res.epochs_run if res else 0,
                      "total_seconds": float(np.sum(sub_seconds)) + agg_seconds})
        log.info("%s step %d: %d request(s), %d shard(s) retrained in %.2f s, aggregator %.2f s", spec.label(), step,
                 len(rows), len(affected), float(np.sum(sub_seconds)), agg_seconds)
        agg_info = (cfg, agg, res, reduced)
    cfg, agg, res, reduced = agg_info
    job.save(agg.state_dict(), out_dir / "aggregator.pt", out_dir / "aggregator.json", job.sidecar(
        "aggregator", unlearned_requests=len(deleted),
        trained_on=trained_on(reduced, f"{data['train']} minus {len(deleted)} deleted"),
        submodels=[{"sidecar": c["sidecar"], "trained_on_sha256": read_sidecar(c["sidecar"])["trained_on"]["sha256"],
                    "embeddings_sha256": file_sha256(c["embeddings"])} for c in current],
        config=asdict(cfg), train_seconds=res.train_seconds if res else 0.0))
    job.evaluate(agg, reduced, out["metrics"], without_users=gone_users)
    write_atomic(out["times"], pd.DataFrame(times).to_csv(index=False))
    served = {**spec.identity(), "deleted_rows": [int(r) for r in deleted], "train": str(data["train"]),
              "assignment": str(data["assignment"]), "assignment_sha256": file_sha256(data["assignment"]),
              "artefacts": current + [{"kind": "aggregator", "sidecar": str(out_dir / "aggregator.json")}]}
    write_json(out["served"], served)
    return pd.DataFrame(times)


# ---------------------------------------------------------------------------- Retrain baseline
def unlearn_retrain(spec: RunSpec, ctx: JobContext, settings: Settings, data: dict, out: dict,
                    n_timed: int) -> pd.DataFrame:
    """Retrain from scratch without the request(s) (``data['requests']``): sequential (each of the first ``n_timed``
    requests, cumulative) or batch (all R at once, the reference for batch unlearning)."""
    job = Job(spec, ctx, data)
    train, valid = job.split("train"), job.split("valid")
    gone_users = deleted_users(data["requests"])  # a user deleted whole is not validated on either
    valid = drop_users(valid, gone_users) if len(gone_users) else valid
    steps = request_steps(spec.mode, data["requests"], n_timed)
    cfg = model_config(spec.model, settings.hyper)
    deleted, times = [], []
    for step, rows in enumerate(steps):
        deleted += rows
        reduced = without(train, np.array(deleted))
        res = fit(spec.model, cfg, reduced, valid, ctx.seed, job.device,
                  label=f"{spec.label()} without {len(deleted)}")
        times.append({**spec.identity(), "seed": ctx.seed, "device": str(job.device), "step": step,
                      "requests": len(rows), "deleted_so_far": len(deleted), "retrain_seconds": res.train_seconds,
                      "epochs_run": res.epochs_run})
    job.save(res.model.state_dict(), out["model"], out["sidecar"], job.sidecar(
        "model", unlearned_requests=len(deleted),
        trained_on=trained_on(reduced, f"{data['train']} minus {len(deleted)} deleted"), config=asdict(cfg),
        train_seconds=res.train_seconds))
    job.evaluate(res.model, reduced, out["metrics"], without_users=gone_users)
    write_atomic(out["times"], pd.DataFrame(times).to_csv(index=False))
    return pd.DataFrame(times)


# ---------------------------------------------------------------------------- fine-tune (inexact)
def load_model(model_name: str, model_path, sidecar_path, train: Interactions):
    """A trained base model rebuilt from its ``model.pt`` and sidecar (its recorded config) over ``train`` (the
    graph LightGCN propagates on; the parameters come from the file)."""

    from .artefacts import load_state
    from .models import model_class

    meta = read_sidecar(sidecar_path)
    cfg = model_config(model_name, meta["config"])
    model = model_class(model_name)(train.n_users, train.n_items, cfg, train)
    model.load_state_dict(load_state(model_path))
    return model.eval(), cfg


def unlearn_finetune(spec: RunSpec, ctx: JobContext, data: dict, original: dict, epochs: int, out: dict) -> dict:
    """The fast, inexact shortcut: start from the original model (``original``: its ``model`` and ``sidecar``,
    trained on the whole training set) and train ``epochs`` more epochs (no early stopping, the last parameters
    kept) on the training set minus the requests (``data['requests']``), at the original's settings. Its sidecar
    records ``exact: false`` and what it was initialised from: the lineage verdict (``model_verdict``) marks it not exact,
    since it inherits parameters that saw the deleted interactions."""
    from dataclasses import replace

    import torch

    from .metrics import embedding_scorer, evaluate_splits
    from .results import write_rows

    job = Job(spec, ctx, data)
    train, valid = job.split("train"), job.split("valid")
    rows = pd.read_csv(data["requests"])["row"].to_numpy()
    reduced = without(train, rows)
    start, cfg = load_model(spec.model, original["model"], original["sidecar"], reduced)
    cfg = replace(cfg, max_epochs=int(epochs), keep="last")
    res = fit(lambda: start, cfg, reduced, valid, ctx.seed, job.device,
              label=f"{spec.label()} fine-tune {epochs} epoch(s) without {len(rows)}")
    origin = read_sidecar(original["sidecar"])
    job.save(res.model.state_dict(), out["model"], out["sidecar"], job.sidecar(
        "model", method="fine-tune", exact=False, unlearned_requests=len(rows),
        trained_on=trained_on(reduced, f"{data['train']} minus {len(rows)} deleted"),
        initialised_from={"sidecar": str(original["sidecar"]), "artefact_sha256": file_sha256(original["model"]),
                          "trained_on_sha256": origin["trained_on"]["sha256"]},
        config=asdict(cfg), epochs_run=res.epochs_run, train_seconds=res.train_seconds))
    with torch.no_grad():
        p, q = res.model.embeddings()
    write_rows(out["metrics"], [evaluate_splits(embedding_scorer(p, q), reduced, valid, job.split("test"),
                                                ctx.cutoffs, ctx.batch_users, job.device, dataset=spec.dataset,
                                                model=spec.model, method="fine-tune (unlearned, batch)")])
    times = pd.DataFrame([{**spec.identity(), "method": "fine-tune", "seed": ctx.seed, "device": str(job.device),
                           "step": 0, "requests": len(rows), "deleted_so_far": len(rows),
                           "total_seconds": res.train_seconds, "epochs_run": res.epochs_run}])
    write_atomic(out["times"], times.to_csv(index=False))
    return {"seconds": res.train_seconds, "epochs": res.epochs_run}


# ---------------------------------------------------------------------------- audit
def _file_problems(path, want: str | None, sidecar_path, what: str) -> list[str]:
    """Why the file ``path`` a served model loads is not the one its sidecar recorded (empty when it is)."""
    if not want:
        return [f"{sidecar_path}: records no sha256 of its {what} {path} (written by an older version: rerun the job "
                f"that wrote it)"]
    if not Path(path).is_file():
        return [f"{path}: the served {what} is missing"]
    got = file_sha256(path)
    if got != want:
        return [f"{path}: sha256 {got} is not the {want} recorded in {sidecar_path} when it was written (the served "
                f"{what} was replaced or modified)"]
    return []


def _same(a, b) -> bool:
    return a is not None and b is not None and Path(a) == Path(b)


def audit_served(path, train: Interactions, deleted_keys: set | None = None) -> tuple[dict, list[str]]:
    """The lineage checks of one served sharded model (its manifest ``path``): its report and its failures (empty
    when every artefact it loads is the one recorded and none was trained on a deleted interaction)."""
    failures = []
    served = read_sidecar(path)
    if file_sha256(served["assignment"]) != served["assignment_sha256"]:
        failures.append(f"{path}: the partition file changed since unlearning")
    assign = _assignment(served["assignment"])
    gone = np.array(served["deleted_rows"], dtype=np.int64)
    gone_keys = set((train.user[gone] * train.n_items + train.item[gone]).tolist())
    reduced = without(train, gone)
    reduced_assign = np.delete(assign, gone)
    checks = []
    for art in served["artefacts"]:
        meta = read_sidecar(art["sidecar"])
        claimed = meta["trained_on"]["sha256"]
        if art["kind"] == "sub-model":
            s = art["shard"]
            original = shard_interactions(train, None, s, assign=assign)
            cleaned = shard_interactions(reduced, None, s, assign=reduced_assign)
            held = set((original.user * train.n_items + original.item).tolist()) & gone_keys
            if claimed == cleaned.sha256():
                ok, why = True, "trained on its shard minus every deleted interaction"
                if not held:
                    why = "untouched shard: never held a deleted interaction"
            elif claimed == original.sha256() and held:
                ok, why = False, f"trained on its shard while it still held {len(held)} deleted interaction(s)"
            else:
                ok, why = False, "its recorded training set matches neither the cleaned nor the original shard"
            embeddings = meta.get("embeddings", {})
            files = []
            for served_file, recorded, want, what in (
                (art.get("model"), meta.get("artefact"), meta.get("artefact_sha256"), "sub-model"),
                (art.get("embeddings"), embeddings.get("path"), embeddings.get("sha256"), "sub-model embeddings"),
            ):
                if not _same(served_file, recorded):
                    files.append(f"{path}: serves {served_file} as the {what} of shard {s}, but its sidecar "
                                 f"{art['sidecar']} describes {recorded}")
                else:
                    files += _file_problems(served_file, want, art["sidecar"], what)
            checks.append({"artefact": art["sidecar"], "kind": "sub-model", "shard": s, "ok": ok and not files,
                           "why": "; ".join(files + [why]), "files_verified": not files,
                           "held_deleted_before": len(held), "retrained": art.get("retrained", False)})
        else:
            ok = claimed == reduced.sha256()
            subs_ok = all(sm["trained_on_sha256"] == read_sidecar(sm["sidecar"])["trained_on"]["sha256"]
                          for sm in meta.get("submodels", []))
            files = _file_problems(meta.get("artefact"), meta.get("artefact_sha256"), art["sidecar"], "aggregator")
            for sm in meta.get("submodels", []):
                recorded = read_sidecar(sm["sidecar"]).get("embeddings", {}).get("sha256")
                if sm.get("embeddings_sha256") != recorded:
                    files.append(f"{art['sidecar']}: the aggregator was trained over other embeddings than those "
                                 f"recorded in {sm['sidecar']}")
            why = ("trained on the training set minus every deleted interaction, over the served sub-models"
                   if ok and subs_ok else "trained on data holding deleted interactions or on other sub-models")
            checks.append({"artefact": art["sidecar"], "kind": "aggregator", "ok": ok and subs_ok and not files,
                           "why": "; ".join(files + [why]), "files_verified": not files})
    for c in checks:
        if not c["ok"]:
            failures.append(f"{c['artefact']}: {c['why']}")
    return {"served": str(path), "method": served["method"], "mode": served["mode"], "deleted": len(gone),
            "all_deleted_are_requests": gone_keys <= deleted_keys if deleted_keys is not None else None,
            "checks": checks}, failures


def model_verdict(sidecar_path, train: Interactions, deleted_rows) -> tuple[bool, str]:
    """Whether a served base model (Retrain, fine-tune, the original) is exact for the deletion of ``deleted_rows``
    by its lineage: trained from scratch on the training set minus them, and initialised from nothing that saw
    them; with the reason."""
    meta = read_sidecar(sidecar_path)
    rows = np.asarray(deleted_rows, dtype=np.int64)
    reduced = without(train, rows)
    claimed = meta["trained_on"]["sha256"]
    problems = _file_problems(meta.get("artefact"), meta.get("artefact_sha256"), sidecar_path, "model")
    if problems:
        return False, problems[0]
    if claimed == train.sha256():
        return False, f"trained on the whole training set, its {len(rows)} deleted interactions included"
    if claimed != reduced.sha256():
        return False, "its recorded training set is not the training set minus the deleted interactions"
    init = meta.get("initialised_from")
    if init and init.get("trained_on_sha256") != reduced.sha256():
        return False, (f"trained without them, but initialised from {init['sidecar']}, which was trained on data "
                       f"holding them: it inherits parameters that saw the deleted interactions")
    return True, "trained from scratch on the training set minus every deleted interaction"


def audit(served_paths: list, requests_csv, train_path, out_json) -> dict:
    """Prove, from the sidecars' sha256 lineage, that no artefact a served (unlearned) model depends on was trained
    on data holding a deleted interaction, and that every untouched shard never held one; and that every file the
    served model loads (sub-models' model.pt and embeddings.pt, aggregator.pt) is, by sha256, the one its sidecar
    recorded when it was written. Raises if not, and when there is nothing to audit (a vacuous proof)."""
    if not served_paths:
        raise ValueError(f"audit {out_json}: no served model to audit (expected the manifests of every unlearned "
                         "model the tables report)")
    train = load_interactions(train_path)
    req = pd.read_csv(requests_csv)
    deleted_keys = set((req["user"].astype(np.int64) * train.n_items + req["item"]).tolist())
    reports, failures = [], []
    for path in served_paths:
        report, problems = audit_served(path, train, deleted_keys)
        reports.append(report)
        failures += problems
    result = {
        "passed": not failures,
        "failures": failures,
        "models": reports,
        "caveat": ("The partition (the shard of every interaction) was computed from pretrained WMF embeddings that "
                   "were trained on the full training set, deleted interactions included. The served models' "
                   "parameters never saw deleted data, but the assignment of the remaining interactions to shards "
                   "depends on it; the paper ignores this. With the validation tuner on (docs/tuning.md), the "
                   "hyper-parameters were chosen on that full training set too."),
    }
    write_json(out_json, result)
    if failures:
        raise RuntimeError(f"forgetting audit failed ({len(failures)} problem(s)): {failures[0]}")
    return result
