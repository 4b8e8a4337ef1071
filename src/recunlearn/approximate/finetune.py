"""Fine-tune: the original model trained a few more epochs on the training set minus the deletions, at its own
settings, no early stopping, the last parameters kept. The inexact shortcut the forgetting check must catch."""

from __future__ import annotations

from dataclasses import replace

import torch

from ..requests import without
from ..train import fit
from .base import rebuild


def unlearn(model, full, deleted, valid, seed: int, device, *, epochs: int):
    import numpy as np

    kept = without(full, np.flatnonzero(deleted))
    start = rebuild(model, kept)
    cfg = replace(model.cfg, max_epochs=int(epochs), keep="last")
    res = fit(lambda: start, cfg, kept, valid, seed, torch.device(device), label=f"fine-tune {epochs} epoch(s)")
    return res.model, {"seconds": res.train_seconds, "epochs": res.epochs_run}
