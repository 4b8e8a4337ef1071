"""The hyper-parameters every base model shares (docs/guide/method.md, section 4), torch-free.

A model's config is a frozen dataclass; each field's default is *the* default (the config schema's
``hyperparameters.<model>`` section is generated from the fields: ``config.model_schema``), and its metadata holds
the schema's description and constraints. ``loss`` names the training loss of the model, which its aggregators
(StaticAgg, AttAgg) reuse: ``bpr`` (pairs of a positive and a sampled negative) or ``wmf`` (the efficient
non-sampling loss, eq. 3.9); ``loss_options`` are that loss's parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

LOSSES = ("bpr", "wmf")
OPTIMIZERS = ["adagrad", "adam", "sgd"]


def hp(default, description: str, **schema):
    """A hyper-parameter: its default, and its JSON-schema description and constraints (``minimum``, ``enum``...)."""
    return field(default=default, metadata={"description": description, **schema})


def like(cls, name: str, default, description: str | None = None):
    """Field ``name`` of ``cls`` with another default (and description): a subclass's own default."""
    meta = dict(next(f for f in fields(cls) if f.name == name).metadata)
    if description is not None:
        meta["description"] = description
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class ModelConfig:
    """Hyper-parameters every base model shares (docs/guide/method.md, section 4)."""

    loss = "bpr"  # not a field: the model's loss, which its aggregators reuse
    # not a field: what the validation tuner (recunlearn.tuning) searches, per hyper-parameter: a range
    # {low, high, log} or a list {choices}; config's tuning.search_space narrows or replaces it per key. A model
    # file declares its own next to its defaults (a subclass: {**ModelConfig.search_space, ...})
    search_space = {
        "optimizer": {"choices": ["adagrad", "adam"]},
        "lr": {"low": 1.0e-4, "high": 0.2, "log": True},
        "batch_size": {"choices": [256, 512, 1024, 2048, 4096]},
        "reg_weight": {"choices": [0.0, 1.0e-5, 1.0e-4, 1.0e-3, 1.0e-2]},
    }

    dim: int = hp(64, "embedding size d", minimum=1)
    optimizer: str = hp("adagrad", "optimizer", enum=OPTIMIZERS)
    lr: float = hp(0.05, "learning rate", exclusiveMinimum=0)
    batch_size: int = hp(1024, "interactions per batch (users per batch for WMF)", minimum=1)
    reg_weight: float = hp(1e-4, "weight of the squared L2 of the batch's embedding rows (divided by the batch size)",
                           minimum=0)
    init_std: float = hp(0.01, "standard deviation of the normal initialisation", exclusiveMinimum=0)
    max_epochs: int = hp(200, "most training epochs", minimum=1)
    eval_every: int = hp(1, "epochs between validation Recall@10 evaluations", minimum=1)
    patience: int = hp(10, "evaluations without improvement before stopping (best parameters kept)", minimum=1)
    keep: str = hp("best", "which parameters a run keeps: the best on validation, stopping after `patience` "
                   "evaluations without improvement, or the last of `max_epochs` epochs without early stopping "
                   "(the authors' code keeps the last; an ensemble of sub-models can gain from sub-models trained past "
                   "their own best epoch: docs/report/ablation_ml1m.md)", enum=["best", "last"])
    # how BPR-loss models draw (user, positive, negative) triples: interaction | user (sampling.user_pair_batches)
    sampling: str = hp("interaction", "how BPR and LightGCN draw their (user, positive, negative) triples: every "
                       "training interaction once per epoch, or users uniformly then one of their positives (the "
                       "authors' code; each user weighs the same, as in Recall@K). WMF does not sample and ignores it",
                       enum=["interaction", "user"])

    def loss_options(self) -> dict:
        """Parameters of ``loss`` beyond the scores (WMF: the weight c0 of missing entries)."""
        return {}

    @classmethod
    def in_effect(cls, values: dict) -> dict:
        """``values`` without the keys their own choices leave unused (WMF's ALS keys under a gradient optimizer).

        A training job's params are these, so that a key which cannot change its result cannot re-run it; the
        dropped keys take their defaults, which the choice ignores."""
        return dict(values)
