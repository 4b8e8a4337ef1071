"""Base models: name -> (model class, config dataclass)."""

from __future__ import annotations

from .base import ModelConfig, Recommender
from .bpr import BPR, BPRConfig
from .lightgcn import LightGCN, LightGCNConfig
from .wmf import WMF, WMFConfig

MODELS: dict[str, tuple[type[Recommender], type[ModelConfig]]] = {
    "BPR": (BPR, BPRConfig),
    "WMF": (WMF, WMFConfig),
    "LightGCN": (LightGCN, LightGCNConfig),
}


def model_config(name: str, params: dict) -> ModelConfig:
    """The frozen config of model ``name``; an unknown key raises ValueError naming it."""
    if name not in MODELS:
        raise ValueError(f"unknown model '{name}' (expected one of: {', '.join(MODELS)})")
    cls = MODELS[name][1]
    known = set(cls.__dataclass_fields__)
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(f"model '{name}': unknown hyper-parameter '{unknown[0]}' (known: {', '.join(sorted(known))})")
    return cls(**params)


__all__ = ["MODELS", "model_config", "Recommender", "ModelConfig", "BPR", "WMF", "LightGCN"]
