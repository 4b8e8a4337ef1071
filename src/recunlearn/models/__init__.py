"""Base models (docs/guide/method.md, section 4), registered once in ``recunlearn.registry``; torch-free.

``model_config(name, params)`` gives a model's frozen config; ``model_class(name)`` imports its ``nn.Module``.
A model is two files (docs/guide/extending.md): ``hparams/<name>.py``, its torch-free config dataclass decorated with
``register_model``, and ``<name>.py``, its ``nn.Module``. Importing this package imports every module of
``hparams/``, which registers the models without importing torch.
"""

from __future__ import annotations

import importlib
import pkgutil

from ..registry import MODELS, lookup, resolve
from . import hparams
from .hparams import ModelConfig

for _module in pkgutil.iter_modules(hparams.__path__):
    importlib.import_module(f"{hparams.__name__}.{_module.name}")


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
