"""One name for one run: ``RunSpec`` says what a job trains or unlearns, ``JobContext`` how it runs.

A rule builds both from its wildcards and config (``RunSpec.from_job``, ``JobContext.from_job``); every job
function takes them instead of keyword lists; every metric row, ``times.csv`` row and sidecar carries
``RunSpec.identity()``, so nothing downstream parses a path. The names mean one thing each: ``partition`` is the
algorithm (inbp), ``n_shards`` the K, ``aggregator`` the aggregator (att), ``cutoff`` the K of Recall@K.

``Settings`` is what the model trains with (the base model's hyper-parameters, the aggregator's, the sub-models'
validation); ``Job`` is the skeleton every job shares: threads and device set up, data loaded once, artefacts
written atomically with a sidecar naming what they were trained on, metric rows written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .experiments import method_name, methods_for


@dataclass(frozen=True)
class RunSpec:
    """What a run is: a dataset and base model; for a sharded method the partition algorithm, the number of shards
    and the aggregator; for unlearning the mode (sequential or batch). ``partition`` None: Retrain.
    ``method_aggregators``: the config's choice of aggregator for this model, per method beyond the paper
    (``experiments.methods_for``), which names the run (RecEraser-fast is InBP under RefitAgg for WMF)."""

    dataset: str
    model: str | None = None
    partition: str | None = None
    n_shards: int | None = None
    aggregator: str | None = None
    mode: str | None = None
    method_aggregators: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_wildcards(cls, wildcards, **fixed) -> RunSpec:
        """From a rule's wildcards (``k`` is the number of shards in the paths); ``fixed`` adds or overrides."""
        w = {name: getattr(wildcards, name) for name in ("dataset", "model", "partition", "k", "aggregator", "mode")
             if hasattr(wildcards, name)}
        if "k" in w:
            w["n_shards"] = int(w.pop("k"))
        return cls(**{**w, **fixed})

    @classmethod
    def from_job(cls, snakemake, **fixed) -> RunSpec:
        """From a Snakemake job: its wildcards, and its ``method_aggregators`` param ({method: aggregator} of its
        model, ``workflow/rules/common.smk``), which every rule that names a sharded run passes."""
        given = getattr(snakemake.params, "method_aggregators", None)
        spec = cls.from_wildcards(snakemake.wildcards, **fixed)
        if given is None:
            if spec.aggregator is not None or getattr(snakemake.params, "aggregators", None):
                raise ValueError(f"rule {snakemake.rule}: params.method_aggregators is missing (a sharded run's "
                                 "name depends on it)")
            return spec
        return spec.with_(method_aggregators=tuple(sorted(dict(given).items())))

    def with_(self, **changes) -> RunSpec:
        return replace(self, **changes)

    @property
    def method(self) -> str:
        """The paper's name (Retrain, SISA, GraphEraser, RecEraser) or ``<partition>+<aggregator>``."""
        if self.partition is None:
            return "Retrain"
        if not self.aggregator:
            return self.partition
        chosen = {method: {self.model: aggregator} for method, aggregator in self.method_aggregators}
        return method_name(self.partition, self.aggregator, methods_for(self.model, chosen))

    @property
    def shards(self) -> str:
        """``inbp_K10``: the partition and its number of shards, as in the paths."""
        return f"{self.partition}_K{self.n_shards}"

    def label(self) -> str:
        """``ml-1m/BPR/inbp_K10/att`` for the progress lines."""
        parts = [self.dataset, self.model or ""]
        parts += [self.shards, self.aggregator or ""] if self.partition else ["retrain"]
        return "/".join(p for p in parts if p) + (f" unlearn {self.mode}" if self.mode else "")

    def identity(self) -> dict:
        """The run's identity for a sidecar or a ``times.csv`` row."""
        return {"dataset": self.dataset, "model": self.model, "method": self.method, "partition": self.partition,
                "n_shards": self.n_shards, "aggregator": self.aggregator, "mode": self.mode}

    def metric_labels(self) -> dict:
        """The identity columns of a metric row (``results.COLUMNS``): Retrain has no partition, one shard."""
        method = self.method + (f" (unlearned, {self.mode})" if self.mode else "")
        if self.partition is None:
            return {"dataset": self.dataset, "model": self.model, "method": method}
        return {"dataset": self.dataset, "model": self.model, "method": method, "partition": self.partition,
                "aggregator": self.aggregator, "n_shards": self.n_shards}


@dataclass(frozen=True)
class JobContext:
    """How a job runs: its training seed, device (``auto``: CUDA when present), CPU threads, and the metrics'
    cut-offs and users scored at once."""

    seed: int
    device: str = "auto"
    threads: int = 1
    gpus: int | None = None  # training.gpus: 0 keeps `auto` on the CPU (train.resolve_device)
    cutoffs: tuple[int, ...] = (10, 20, 50)
    batch_users: int = 1024

    @classmethod
    def from_job(cls, snakemake) -> JobContext:
        """From a Snakemake job: the seed of its path, ``training.device``, its threads, ``evaluation``."""
        evaluation = dict(getattr(snakemake.params, "evaluation", None) or {})
        training = snakemake.params.training
        return cls(seed=int(snakemake.wildcards.seed), device=training["device"], gpus=training.get("gpus"),
                   threads=int(snakemake.threads), cutoffs=tuple(evaluation.get("ks", cls.cutoffs)),
                   batch_users=int(evaluation.get("batch_users", cls.batch_users)))


@dataclass(frozen=True)
class Settings:
    """What a model trains with: the base model's hyper-parameters (a sub-model's: with its overrides), the
    aggregator's (``aggregation``), the interactions a sub-model is early-stopped on (``valid_mode``). With the
    validation tuner on (``recunlearn.tuning``) the tuned choices are merged in: ``tuned_hyper`` names the tuning
    artefact merged over ``hyper``, ``tuned_aggregation`` {aggregator: artefact} those merged over ``aggregation``
    per aggregator, and ``tuning`` {aggregator: plan} the aggregators this job tunes itself before training."""

    hyper: dict = field(default_factory=dict)
    aggregation: dict = field(default_factory=dict)
    valid_mode: str = "users"
    tuned_hyper: str | None = None
    tuned_aggregation: dict = field(default_factory=dict)
    tuning: dict = field(default_factory=dict)

    @classmethod
    def from_job(cls, snakemake) -> Settings:
        from .artefacts import chosen

        p = snakemake.params
        tuned_hyper = getattr(p, "tuned_hyper", None) or None
        return cls(hyper={**dict(p.hyper), **chosen(tuned_hyper)},
                   aggregation=dict(getattr(p, "aggregation", None) or {}),
                   valid_mode=getattr(p, "valid_mode", None) or "users", tuned_hyper=tuned_hyper,
                   tuned_aggregation={a: path for a, path in dict(getattr(p, "tuned_aggregation", None) or {}).items()
                                      if path},
                   tuning={a: plan for a, plan in dict(getattr(p, "tuning", None) or {}).items() if plan})

    def aggregation_for(self, aggregator: str) -> dict:
        """The aggregation settings of ``aggregator``: the config's, with a choice read from its tuning artefact."""
        from .artefacts import chosen

        return {**self.aggregation, **chosen(self.tuned_aggregation.get(aggregator))}


def trained_on(x, path: str) -> dict:
    """A sidecar's ``trained_on``: where the interaction set came from, its sha256 and size."""
    return {"path": str(path), "sha256": x.sha256(), "interactions": len(x)}


class Job:
    """The skeleton every job shares: ``Job(spec, ctx, data)`` sets the threads and device up; ``split(name)``
    loads a split once; ``save`` writes a model atomically with its sidecar; ``evaluate`` writes metric rows."""

    def __init__(self, spec: RunSpec, ctx: JobContext, data: dict):
        from .train import setup_torch

        self.spec, self.ctx, self.data = spec, ctx, data
        self.device = setup_torch(ctx.threads, ctx.device, ctx.gpus)
        self._splits: dict = {}

    def split(self, name: str):
        from .data import load_interactions

        if name not in self._splits:
            self._splits[name] = load_interactions(self.data[name])
        return self._splits[name]

    def sidecar(self, kind: str, spec: RunSpec | None = None, **fields) -> dict:
        """The fields every sidecar of this job holds: the run's identity, the seed, the device and threads."""
        import torch

        from .train import device_info

        return {"kind": kind, **(spec or self.spec).identity(), **fields, "seed": self.ctx.seed,
                **device_info(self.device), "threads": torch.get_num_threads()}

    def save(self, state: dict, path, sidecar_path, info: dict, files: dict | None = None) -> dict:
        """Write ``state`` to ``path`` atomically, then its sidecar: ``info`` plus the artefact's sha256 (what the
        audit checks the file against) and ``files`` {name: path} recorded with their sha256."""
        from .artefacts import save_state, sidecar, write_sidecar
        from .data import file_sha256

        save_state(state, path)
        info = sidecar(artefact=str(path), **info)
        for name, other in (files or {}).items():
            info[name] = {"path": str(other), "sha256": file_sha256(other)}
        info["artefact_sha256"] = file_sha256(path)
        write_sidecar(sidecar_path, info)
        return info

    def evaluate(self, model, train, out_metrics, without_users=None):
        """Validation and test metrics of ``model`` (trained on ``train``) written to ``out_metrics``; users in
        ``without_users`` (deleted whole by user-level requests) are not evaluated."""
        import torch

        from .metrics import embedding_scorer, evaluate_splits
        from .results import write_rows

        valid, test = self.split("valid"), self.split("test")
        if without_users is not None and len(without_users):
            from .requests import drop_users

            valid, test = drop_users(valid, without_users), drop_users(test, without_users)
        with torch.no_grad():
            p, q = model.embeddings()
        rows = evaluate_splits(embedding_scorer(p, q), train, valid, test,
                               self.ctx.cutoffs, self.ctx.batch_users, self.device,
                               **self.spec.metric_labels())
        write_rows(out_metrics, [rows])
        return rows


def write_history(path, result) -> None:
    """A training history (one row per evaluation; none for an untrained aggregator) as CSV, atomically."""
    import pandas as pd

    from .data import write_atomic

    write_atomic(path, pd.DataFrame(result.history if result else []).to_csv(index=False))
