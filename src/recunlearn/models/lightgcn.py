"""LightGCN: He et al., "LightGCN: Simplifying and Powering Graph Convolution Network for Recommendation",
SIGIR 2020.

E^(l+1) = D^-1/2 A D^-1/2 E^(l) on the user-item bipartite graph of the interactions the model is trained on
(its own shard's, never the whole dataset's), final embedding = mean of layers 0..L, BPR loss with a squared L2
on the layer-0 ("ego") rows of the batch. Nodes absent from the training data are isolated: their layers
1..L are zero and they receive no gradient.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from ..data import Interactions
from ..losses import bpr_loss, bpr_objective, l2
from .base import Recommender, embedding
from .hparams.lightgcn import LightGCNConfig


class SymmetricSpMM(torch.autograd.Function):
    """A @ E for a symmetric sparse A, whose gradient is A @ grad (5x faster than autograd's transpose on CPU)."""

    @staticmethod
    def forward(ctx, adj, e):
        ctx.adj = adj
        return adj @ e

    @staticmethod
    def backward(ctx, grad):
        return None, ctx.adj @ grad


def normalized_adjacency(train: Interactions) -> torch.Tensor:
    """D^-1/2 A D^-1/2 of the bipartite graph (users first, then items) as a sparse CSR tensor."""
    n = train.n_users + train.n_items
    pairs = np.unique(train.user * train.n_items + train.item)
    u, i = pairs // train.n_items, pairs % train.n_items + train.n_users
    rows = np.concatenate([u, i])
    cols = np.concatenate([i, u])
    deg = np.bincount(rows, minlength=n).astype(np.float64)
    inv_sqrt = np.zeros(n)
    inv_sqrt[deg > 0] = deg[deg > 0] ** -0.5
    vals = (inv_sqrt[rows] * inv_sqrt[cols]).astype(np.float32)
    order = np.lexsort((cols, rows))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    with warnings.catch_warnings():  # "CSR support is in beta"
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(torch.from_numpy(indptr), torch.from_numpy(cols[order]),
                                       torch.from_numpy(vals[order]), (n, n), check_invariants=True)


class LightGCN(Recommender):
    input_type = "pairs"

    def __init__(self, n_users: int, n_items: int, cfg: LightGCNConfig, train: Interactions):
        super().__init__(n_users, n_items, cfg, train)
        self.user_emb = embedding(n_users, cfg.dim, cfg.init_std)
        self.item_emb = embedding(n_items, cfg.dim, cfg.init_std)
        self.register_buffer("adj", normalized_adjacency(train), persistent=False)

    def propagate(self, ego: tuple[torch.Tensor, torch.Tensor] | None = None,
                  adj: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The final embeddings of the layer-0 rows ``ego`` (default: the parameters) over ``adj`` (default: the
        graph of the training set)."""
        e = torch.cat(ego if ego is not None else [self.user_emb, self.item_emb])
        adj = self.adj if adj is None else adj
        total = e
        for _ in range(self.cfg.n_layers):
            e = SymmetricSpMM.apply(adj, e)
            total = total + e
        final = total / (self.cfg.n_layers + 1)
        return final[: self.n_users], final[self.n_users :]

    def calculate_loss(self, batch) -> torch.Tensor:
        users, pos, neg = batch
        p_all, q_all = self.propagate()
        p, qp, qn = p_all[users], q_all[pos], q_all[neg]
        loss = bpr_loss((p * qp).sum(-1), (p * qn).sum(-1))
        ego = (self.user_emb[users], self.item_emb[pos], self.item_emb[neg])
        return loss + self.cfg.reg_weight * l2(*ego, batch_size=len(users))

    def embeddings(self):
        return self.propagate()

    def objective(self, data, negatives=None, ego=None, graph=None, whole=None):
        p0, q0 = ego if ego is not None else (self.user_emb, self.item_emb)
        adj = normalized_adjacency(data if graph is None else graph).to(p0.device, p0.dtype)
        p, q = self.propagate((p0, q0), adj)
        users, pos = (torch.as_tensor(x, device=p0.device) for x in (data.user, data.item))
        return bpr_objective(p, q, p0, q0, users, pos, negatives.to(p0.device), self.cfg.reg_weight)
