"""What the approximate methods share: the served model rebuilt over the remaining data, and the fixed negatives
a pairwise objective is differentiated with."""

from __future__ import annotations

import numpy as np
import torch

from ..data import Interactions
from ..models import model_class
from ..requests import without
from ..sampling import NegativeSampler


def rebuild(model, data: Interactions):
    """A copy of ``model`` (same class, config and parameters) built over ``data``: a graph model propagates over
    ``data``'s interactions only, so a served model never propagates over a deleted one."""
    name = type(model).__name__
    served = model_class(name)(data.n_users, data.n_items, model.cfg, data)
    served.load_state_dict(model.state_dict())
    return served.to(next(model.parameters()).device).eval()


def fixed_negatives(model, data: Interactions, seed: int) -> torch.Tensor | None:
    """One uniform negative per row of ``data`` (the trainer's sampler, seeded), for a pairwise model's objective;
    None for a model whose loss needs none (WMF)."""
    if model.input_type != "pairs":
        return None
    generator = torch.Generator().manual_seed(int(seed))
    return NegativeSampler(data).sample(torch.from_numpy(np.asarray(data.user, dtype=np.int64)), generator)


def remaining(model, full: Interactions, deleted: np.ndarray, seed: int):
    """(the data without the deleted rows of ``full``, the fixed negatives of ``full``, the same negatives of the rows
    that remain): what an influence step differentiates; the negatives are None for WMF."""
    negatives = fixed_negatives(model, full, seed)
    kept_negatives = None if negatives is None else negatives[torch.from_numpy(~deleted)]
    return without(full, np.flatnonzero(deleted)), negatives, kept_negatives
