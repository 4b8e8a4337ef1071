"""The hyper-parameters of BPR-MF (torch-free; the model is ``models/bpr.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from ...registry import register_model
from . import ModelConfig


@register_model("BPR", impl="recunlearn.models.bpr:BPR", description="BPR-MF")
@dataclass(frozen=True)
class BPRConfig(ModelConfig):
    search_space = {**ModelConfig.search_space, "sampling": {"choices": ["interaction", "user"]}}
