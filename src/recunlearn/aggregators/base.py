"""Aggregation of K sub-models (docs/guide/method.md, section 7): what every aggregator shares, and ``build``. One file per
aggregator or family beside this one (``mean``, ``static``, ``attention``, ``group``, ``membership``), each
registered in ``registry.py``: MeanAgg (SISA), StaticAgg (GraphEraser), AttAgg (RecEraser).

Sub-model i gives final embeddings (P_i, Q_i) (for LightGCN the propagated ones); they are frozen buffers here.
- MeanAgg:   y_uv = 1/K sum_i p_u^i . q_v^i                       (no parameters)
- StaticAgg: y_uv = sum_i w_i p_u^i . q_v^i, w = softmax(logits)  (K non-negative weights summing to 1)
- AttAgg (eqs. 6.5-6.8): p_u^{i,tr} = W_i p_u^i + b_i and q_v^{i,tr} = W_i q_v^i + b_i (W_i shared by users and
  items); alpha_i = softmax_i(h1 . ReLU(W1 p_u^{i,tr} + b1)), beta_i = softmax_i(h2 . ReLU(W2 q_v^{i,tr} + b2));
  p_u = sum_i alpha_i p_u^{i,tr}, q_v = sum_i beta_i q_v^{i,tr}; y_uv = p_u . q_v.
- GroupAgg (UltraRE's combiner, beyond the paper): y_uv = 1/K sum_i p_u^{g(u)} . q_v^i, with g(u) the shard that
  holds the user's training interactions (the user's group under a user partition such as ``ot``).
Static and Att are trained with the base model's own loss (BPR for BPR and LightGCN, the efficient WMF loss for
WMF) plus reg_weight * |Theta|^2 on the full training set, through the same trainer as the base models.
Mean and Static are exact as a dot product of concatenated embeddings: [w_1 P_1, ..., w_K P_K] . [Q_1, ..., Q_K].
"""

from __future__ import annotations

import inspect

import numpy as np
import torch

from ..data import Interactions
from ..losses import bpr_loss, wmf_efficient_loss
from ..models.base import Recommender
from ..models.hparams.aggregation import AggregatorConfig
from ..registry import AGGREGATORS, lookup, resolve

# a BPR batch is scored through the full (distinct users x distinct items) score matrix when that matrix holds at
# most this many entries per training pair (both ways give the same loss; the matrix is a single matmul)
SCORE_MATRIX_PER_PAIR = 32
def softmax(x: torch.Tensor, dim: int) -> torch.Tensor:
    """softmax(x) along ``dim``, written out (max-shifted exp over its sum). torch.softmax over the K sub-models
    gives other bits at 1 and at 2 CPU threads (forward along a non-last dim, backward along any), so AttAgg trained
    differently with the thread count (ml-100k BPR: 39 epochs at 1 thread, 31 at 2); these elementwise ops and
    K-term sums do not depend on it (tests/test_aggregate.py)."""
    e = torch.exp(x - x.max(dim, keepdim=True).values.detach())
    return e / e.sum(dim, keepdim=True)


class _Aggregator(Recommender):
    """Frozen sub-model embeddings ``sub_p`` [K, M, d], ``sub_q`` [K, N, d]; ``loss`` is ``bpr`` or ``wmf``."""

    def __init__(self, sub_p: torch.Tensor, sub_q: torch.Tensor, cfg: AggregatorConfig, train: Interactions,
                 loss: str = "bpr", c0: float = 0.2):
        super().__init__(sub_p.shape[1], sub_q.shape[1], cfg, train)
        self.register_buffer("sub_p", sub_p.detach().float(), persistent=False)
        self.register_buffer("sub_q", sub_q.detach().float(), persistent=False)
        self.k, self.dim = sub_p.shape[0], sub_p.shape[2]
        self.loss_kind, self.c0 = loss, c0
        self.input_type = "pairs" if loss == "bpr" else "users"
        if loss == "wmf":
            active = np.unique(train.item)
            self.register_buffer("active_items", torch.from_numpy(active), persistent=False)
            pos = np.full(self.n_items, -1, dtype=np.int64)
            pos[active] = np.arange(len(active))
            self.register_buffer("item_position", torch.from_numpy(pos), persistent=False)

    def users(self, idx: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def items(self, idx: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def regulariser(self) -> torch.Tensor:
        return sum(p.pow(2).sum() for p in self.parameters())

    def aggregated_users(self, idx: torch.Tensor) -> torch.Tensor:
        """The users' aggregated embeddings as the training loss sees them (AttAgg adds dropout)."""
        return self.users(idx)

    def calculate_loss(self, batch) -> torch.Tensor:
        if self.loss_kind == "bpr":
            users, pos, neg = batch
            # aggregate each distinct user and item of the batch once (the K transforms are the costly part)
            u_ids, u_row = torch.unique(users, return_inverse=True)
            i_ids, i_row = torch.unique(torch.cat([pos, neg]), return_inverse=True)
            p, q = self.aggregated_users(u_ids), self.items(i_ids)
            rp, rn = i_row[: len(pos)], i_row[len(pos):]
            if len(u_ids) * len(i_ids) <= SCORE_MATRIX_PER_PAIR * len(users):
                # large batches: one matmul for every (user, item) score of the batch, then gather the pairs'
                # scores; far cheaper than 2B row-wise dot products and their gradients
                scores = (p @ q.T).reshape(-1)
                base = u_row * len(i_ids)
                loss = bpr_loss(scores[base + rp], scores[base + rn])
            else:
                pu = p[u_row]
                loss = bpr_loss((pu * q[rp]).sum(-1), (pu * q[rn]).sum(-1))
        else:
            users, rows, items = batch
            p, q = self.aggregated_users(users), self.items(self.active_items)
            loss = wmf_efficient_loss(p, q, rows, self.item_position[items], self.c0)
        return loss + self.cfg.reg_weight * self.regulariser()

    def embeddings(self, chunk: int = 8192):
        p = torch.cat([self.users(torch.arange(a, min(a + chunk, self.n_users), device=self.sub_p.device))
                       for a in range(0, self.n_users, chunk)])
        q = torch.cat([self.items(torch.arange(a, min(a + chunk, self.n_items), device=self.sub_q.device))
                       for a in range(0, self.n_items, chunk)])
        return p, q


def build(aggregator: str, sub_p, sub_q, cfg: AggregatorConfig, train: Interactions, loss: str = "bpr",
          shard=None, cache: dict | None = None, **loss_options):
    """Aggregator ``aggregator`` (registered in ``registry.AGGREGATORS``) over the frozen sub-models, trained with
    the base model's ``loss`` and its options (``ModelConfig.loss``, ``loss_options``: WMF's c0). ``shard``: each
    training interaction's shard, given to an aggregator registered with ``uses_shards``; ``cache``: state the
    caller keeps between builds (a sequential unlearning run's), given to an aggregator that takes one (RefitAgg)."""
    entry = lookup(AGGREGATORS, "aggregator", aggregator)
    cls = resolve(entry.impl)
    extra = {"shard": shard} if entry.uses_shards else {}
    if cache is not None and "cache" in inspect.signature(cls).parameters:
        extra["cache"] = cache
    return cls(sub_p, sub_q, cfg, train, loss=loss, **extra, **loss_options)
