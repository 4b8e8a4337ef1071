"""The hyper-parameters of LightGCN (torch-free; the model is ``models/lightgcn.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from ...registry import register_model
from . import ModelConfig, hp, like


@register_model("LightGCN", impl="recunlearn.models.lightgcn:LightGCN", description="LightGCN")
@dataclass(frozen=True)
class LightGCNConfig(ModelConfig):
    # one propagation over the whole graph per batch: batches below 1024 make a CPU trial slow
    search_space = {**ModelConfig.search_space, "batch_size": {"choices": [1024, 2048, 4096, 8192]},
                    "sampling": {"choices": ["interaction", "user"]}}
    optimizer: str = like(ModelConfig, "optimizer", "adam")
    lr: float = like(ModelConfig, "lr", 0.005)
    batch_size: int = like(ModelConfig, "batch_size", 4096, "interactions per batch (one full propagation per "
                           "batch: sets the CPU epoch time)")
    init_std: float = like(ModelConfig, "init_std", 0.1)
    n_layers: int = hp(3, "propagation layers", minimum=0)
