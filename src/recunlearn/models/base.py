"""The model contract shared by BPR, WMF and LightGCN (after RecBole's, trimmed).

A model is built from ``(n_users, n_items, cfg, train)``: the id space, its frozen config dataclass and the
interaction set it is trained on (LightGCN builds its graph from it, WMF its item set). It exposes
- ``input_type``: ``"pairs"`` (batches of users, positives, sampled negatives) or ``"users"`` (user batches);
- ``calculate_loss(batch) -> Tensor``: the scalar training loss of one batch;
- ``embeddings() -> (P [n_users, d], Q [n_items, d])``: final embeddings; scores are P @ Q.T;
- ``full_sort_predict(users) -> [B, n_items]``;
- ``validation_scorer()``: the scorer the trainer validates with after each epoch (``embeddings()``' dot products
  unless a model has a cheaper way to the same scores);
- ``objective(data, negatives, ego, graph, whole)`` and ``touching(data, negatives, users, items)`` (optional): the
  training objective over a whole interaction set at once, which the influence methods differentiate twice
  (``recunlearn.approximate``), and which of its rows hold terms that depend on given users' and items' parameters.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..data import Interactions
from .hparams import ModelConfig


class Recommender(nn.Module):
    input_type = "pairs"

    def __init__(self, n_users: int, n_items: int, cfg: ModelConfig, train: Interactions):
        super().__init__()
        self.n_users, self.n_items, self.cfg = n_users, n_items, cfg

    def calculate_loss(self, batch) -> torch.Tensor:
        raise NotImplementedError

    def embeddings(self) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def full_sort_predict(self, users: torch.Tensor) -> torch.Tensor:
        p, q = self.embeddings()
        return p[users] @ q.T

    def validation_scorer(self):
        """``users -> [B, n_items]`` scores for the trainer's validation after each epoch: P[users] @ Q.T."""
        from ..metrics import embedding_scorer

        return embedding_scorer(*self.embeddings())

    def objective(self, data: Interactions, negatives: torch.Tensor | None = None,
                  ego: tuple[torch.Tensor, torch.Tensor] | None = None, graph: Interactions | None = None,
                  whole: Interactions | None = None) -> torch.Tensor:
        """The training objective summed over every interaction of ``data`` in one batch, dropout off: what the
        influence methods (``recunlearn.approximate``) differentiate twice. ``negatives``: one sampled negative item
        per row of ``data`` (pairwise losses); ``ego``: the (user, item) parameter rows to use instead of the
        model's own; ``graph``: the interactions a graph model propagates over (default ``data``); ``whole``: the
        training set when ``data`` holds only some of its rows (``touching``), for the terms over its whole user
        and item sets (WMF's missing entries; default ``data``)."""
        raise ValueError(f"model {type(self).__name__}: no whole-data objective, which the influence methods need "
                         "(docs/guide/extending.md)")

    def touching(self, data: Interactions, negatives, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Which rows of ``data`` hold terms of ``objective`` that depend on the parameters of ``users`` and
        ``items`` (a boolean mask): the others are constant to them. Every row unless a model says fewer."""
        return np.ones(len(data.user), dtype=bool)

    def __str__(self) -> str:
        n = sum(p.numel() for p in self.parameters() if p.requires_grad)
        return f"{type(self).__name__}({self.n_users} users, {self.n_items} items, {n:,} trainable parameters)"


def embedding(n: int, dim: int, std: float) -> nn.Parameter:
    return nn.Parameter(torch.randn(n, dim) * std)
