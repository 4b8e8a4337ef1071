"""AttAgg (RecEraser, eqs. 6.5-6.8): attention over the sub-models' transformed embeddings."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import _Aggregator, softmax

class AttAgg(_Aggregator):
    """RecEraser's attention-based adaptive aggregation (eqs. 6.5-6.8)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        d, a, k = self.dim, self.cfg.attention_size, self.k
        if self.cfg.init == "identity":
            self.W = nn.Parameter(torch.eye(d).repeat(k, 1, 1) + 0.01 * torch.randn(k, d, d))
            self.b = nn.Parameter(torch.zeros(k, d))
        elif self.cfg.init == "normal":
            self.W = nn.Parameter(torch.randn(k, d, d) * (2.0 / (2 * d)) ** 0.5)
            self.b = nn.Parameter(torch.randn(k, d) * (2.0 / (k + d)) ** 0.5)
        else:
            raise ValueError(f"aggregation init '{self.cfg.init}': expected identity or normal")
        self.W1, self.W2 = nn.Linear(d, a), nn.Linear(d, a)
        if self.cfg.attention_init == "uniform":  # h = 0.01: every sub-model starts with about the same weight 1/K
            self.h1, self.h2 = nn.Parameter(torch.full((a,), 0.01)), nn.Parameter(torch.full((a,), 0.01))
        elif self.cfg.attention_init == "random":
            self.h1, self.h2 = (nn.Parameter(torch.randn(a) * (1.0 / a) ** 0.5) for _ in range(2))
        else:
            raise ValueError(f"aggregation attention_init '{self.cfg.attention_init}': expected uniform or random")

    def regulariser(self) -> torch.Tensor:
        if self.cfg.reg_attention:
            return super().regulariser()
        return self.W.pow(2).sum() + self.b.pow(2).sum()

    def aggregated_users(self, idx):
        p = self.users(idx)
        return F.dropout(p, p=1.0 - self.cfg.keep_prob, training=self.training)

    def transform(self, e: torch.Tensor) -> torch.Tensor:
        """[K, B, d] -> W_i e^i + b_i."""
        return torch.einsum("kbd,ked->kbe", e, self.W) + self.b[:, None, :]

    def attention(self, tr: torch.Tensor, lin: nn.Linear, h: torch.Tensor) -> torch.Tensor:
        """softmax over the K sub-models of h . ReLU(W tr + b): [K, B]."""
        return softmax(F.relu(lin(tr)) @ h, dim=0)

    def users(self, idx):
        tr = self.transform(self.sub_p.index_select(1, idx))
        return (self.attention(tr, self.W1, self.h1)[:, :, None] * tr).sum(0)

    def items(self, idx):
        tr = self.transform(self.sub_q.index_select(1, idx))
        return (self.attention(tr, self.W2, self.h2)[:, :, None] * tr).sum(0)

    def user_weights(self, idx):
        return self.attention(self.transform(self.sub_p.index_select(1, idx)), self.W1, self.h1)

    def item_weights(self, idx):
        return self.attention(self.transform(self.sub_q.index_select(1, idx)), self.W2, self.h2)
