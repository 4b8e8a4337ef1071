"""Base models (docs/method.md, section 4), registered once in ``recunlearn.registry``; torch-free.

``model_config(name, params)`` gives a model's frozen config; ``model_class(name)`` imports its ``nn.Module``.
Every model file of this folder is registered on import (``registry.discover_models``): adding a model is one file
(docs/extending.md).
"""

from __future__ import annotations

from ..registry import MODELS, discover_models, lookup, resolve
from .hparams import ModelConfig

discover_models()


def model_config(name: str, params: dict) -> ModelConfig:
    """The frozen config of model ``name``; an unknown key raises ValueError naming it."""
    cls = lookup(MODELS, "model", name).config
    known = set(cls.__dataclass_fields__)
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(f"model '{name}': unknown hyper-parameter '{unknown[0]}' (known: {', '.join(sorted(known))})")
    return cls(**params)


def model_class(name: str):
    """The ``nn.Module`` class of model ``name`` (imports it, and so torch)."""
    return resolve(lookup(MODELS, "model", name).impl)


__all__ = ["MODELS", "ModelConfig", "model_class", "model_config"]
