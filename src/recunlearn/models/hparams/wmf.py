"""The hyper-parameters of WMF (torch-free; the model is ``models/wmf.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from ...registry import register_model
from . import OPTIMIZERS, ModelConfig, hp, like


@register_model("WMF", impl="recunlearn.models.wmf:WMF", description="WMF with the efficient non-sampling loss")
@dataclass(frozen=True)
class WMFConfig(ModelConfig):
    loss = "wmf"
    search_space = {**ModelConfig.search_space, "optimizer": {"choices": ["adagrad", "adam", "als"]},
                    "batch_size": {"choices": [64, 128, 256, 512, 1024]},
                    "c0": {"low": 0.02, "high": 0.5, "log": True}, "keep_prob": {"low": 0.5, "high": 1.0},
                    "als_reg": {"low": 1.0, "high": 30.0, "log": True}}

    optimizer: str = hp("adagrad", "optimizer; als: alternating least squares on eq. 3.9 (an epoch is a sweep of "
                        "exact user and item steps; lr, batch_size, reg_weight and keep_prob unused)",
                        enum=[*OPTIMIZERS, "als"])
    lr: float = like(ModelConfig, "lr", 0.02)
    batch_size: int = like(ModelConfig, "batch_size", 256, "users per batch")
    reg_weight: float = like(ModelConfig, "reg_weight", 0.0)
    c0: float = hp(0.2, "weight of missing entries (0.2 MovieLens, 0.05 yelp2018 in the authors' code)", minimum=0,
                   maximum=1)
    keep_prob: float = hp(0.7, "keep probability of the dropout on user embeddings", exclusiveMinimum=0, maximum=1)
    als_cg_steps: int = hp(3, "conjugate-gradient iterations per half-sweep of optimizer als (as many as dim: exact)",
                           minimum=1)
    # chosen on the validation split of the ml-1m training file (config/ml1m_train.yaml) among 5, 10 and 20
    als_reg: float = hp(10.0, "optimizer als: ridge on the squared norms of the user and item vectors", minimum=0)

    def loss_options(self) -> dict:
        return {"c0": self.c0}

    @classmethod
    def in_effect(cls, values: dict) -> dict:
        unused = _GRADIENT_ONLY if values.get("optimizer", cls.optimizer) == "als" else _ALS_ONLY
        return {key: value for key, value in values.items() if key not in unused}


_ALS_ONLY = ("als_cg_steps", "als_reg")
_GRADIENT_ONLY = ("lr", "batch_size", "reg_weight", "keep_prob")
