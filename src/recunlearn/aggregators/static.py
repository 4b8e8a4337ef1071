"""StaticAgg (GraphEraser): one learned non-negative weight per sub-model, summing to 1."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..data import Interactions
from ..losses import bpr_loss, wmf_positive_term
from .base import AggregatorConfig, _Aggregator

# StaticAgg precomputes every sub-model's score of every (user, item), K x M x N float32 numbers, when there are at
# most this many: 1 GiB (ml-1m at K = 10: 224 M; past it, it scores pairs from the sub-models' embedding rows)
STATIC_SCORES_MAX = 1 << 28


class StaticAgg(_Aggregator):
    """GraphEraser: one learned non-negative weight per sub-model, summing to 1 (a softmax of K logits).

    Its K sub-models are frozen, so every score it needs is w . (K frozen scores): those of every (user, item) are
    computed once (one bmm) when they fit in STATIC_SCORES_MAX, and training, like validation after each epoch, only
    weighs them; past that size, the training interactions' scores are computed once and the negatives' from the
    sub-models' embedding rows. WMF's loss needs, per user, only the K x K numbers of ``_user_quadratic``."""

    def __init__(self, sub_p, sub_q, cfg: AggregatorConfig, train: Interactions, **kwargs):
        super().__init__(sub_p, sub_q, cfg, train, **kwargs)
        self.logits = nn.Parameter(torch.zeros(self.k))
        # the training interactions, whose frozen per-sub-model scores are computed once (_positive_scores)
        self.register_buffer("train_user", torch.from_numpy(np.asarray(train.user, dtype=np.int64)), persistent=False)
        self.register_buffer("train_item", torch.from_numpy(np.asarray(train.item, dtype=np.int64)), persistent=False)

    def weights(self) -> torch.Tensor:
        return torch.softmax(self.logits, 0)

    def users(self, idx):
        weighted = self.sub_p.index_select(1, idx) * self.weights()[:, None, None]
        return weighted.permute(1, 0, 2).reshape(len(idx), -1)

    def items(self, idx):
        return self.sub_q.index_select(1, idx).permute(1, 0, 2).reshape(len(idx), -1)

    def regulariser(self):
        return torch.zeros(())

    def calculate_loss(self, batch) -> torch.Tensor:
        if self.loss_kind != "bpr":
            # eq. (3.9) with y_uv = w . (K frozen scores): the positives' part from their cached scores, the missing
            # data's c0 sum_u p_u^T G p_u (p_u = [w_1 p_u^1, ..., w_K p_u^K]) as c0 w^T (sum_u a_u) w
            users, rows, items = batch
            with torch.no_grad():
                s_pos = self._positive_scores(users[rows], items)  # [P, K]
                a = self._user_quadratic().index_select(0, users).sum(0)  # [K, K]
            w = self.weights()
            return wmf_positive_term(s_pos @ w, self.c0) + self.c0 * (w @ a @ w)
        # y_uv = sum_i w_i (p_u^i . q_v^i): the K frozen scores of each pair need no gradient, only w does
        users, pos, neg = batch
        with torch.no_grad():
            s_pos, s_neg = self._positive_scores(users, pos), self._submodel_scores(users, neg)  # [B, K]
        w = self.weights()
        return bpr_loss(s_pos @ w, s_neg @ w)

    def validation_scorer(self):
        """w . the K frozen scores, read from the score table (K multiply-adds per (user, item) instead of K d for
        the concatenated embeddings' dot product; the same scores up to float rounding); past STATIC_SCORES_MAX,
        the embeddings' dot product."""
        table = self._table()
        if table is None:
            return super().validation_scorer()
        weighted = []  # [M, N], computed at the first call: validation scores nearly every user

        def score(users: torch.Tensor) -> torch.Tensor:
            if not weighted:
                weighted.append((table @ self.weights().detach()).view(self.n_users, self.n_items))
            return weighted[0].index_select(0, users)

        return score

    def _user_quadratic(self) -> torch.Tensor:
        """a [M, K, K], a_u[i, j] = p_u^i . (G_ij p_u^j) with G = [q^1 .. q^K]^T [q^1 .. q^K] over the training
        set's items (blocks G_ij [d, d]), computed once: sum_u p_u^T G p_u = w^T (sum_u a_u) w for the weighted
        p_u = [w_1 p_u^1, ..., w_K p_u^K] of ``users``."""
        if not hasattr(self, "_quadratic"):
            with torch.no_grad():
                q = self.items(self.active_items)  # [N_active, K d]
                gram = torch.mm(q.T, q).view(self.k, self.dim, self.k, self.dim)
                p = self.sub_p.transpose(0, 1)  # [M, K, d]
                a = self.sub_p.new_empty((self.n_users, self.k, self.k))
                for i in range(self.k):
                    g_i = (self.sub_p[i] @ gram[i].reshape(self.dim, -1)).view(self.n_users, self.k, self.dim)
                    a[:, i] = (g_i * p).sum(-1)
                self._quadratic = a
        return self._quadratic

    def _table(self) -> torch.Tensor | None:
        """Every sub-model's score of every (user, item), [M * N, K] (a pair's K scores side by side, for the
        batches' gathers), computed once; None past STATIC_SCORES_MAX."""
        if not hasattr(self, "_scores"):
            k, m, n = self.k, self.n_users, self.n_items
            self._scores = (torch.bmm(self.sub_p, self.sub_q.transpose(1, 2)).reshape(k, m * n).T.contiguous()
                            if k * m * n <= STATIC_SCORES_MAX else None)
            if self._scores is None:
                self._rows = (self.sub_p.transpose(0, 1).contiguous(), self.sub_q.transpose(0, 1).contiguous())
        return self._scores

    def _positive_scores(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """``_submodel_scores`` of pairs that are mostly training interactions: from the score table when there is
        one, else those of every training interaction are computed once, in chunks, by the same arithmetic (so the
        same bits), and looked up, and other pairs are scored directly. Without a score table this halves a BPR
        epoch's embedding gathers and removes a WMF epoch's: the positives never change between epochs."""
        if self._table() is not None:
            return self._submodel_scores(users, items)
        if not hasattr(self, "_pos_keys"):
            keys = self.train_user * self.n_items + self.train_item
            keys, order = torch.sort(keys)
            u, v = self.train_user[order], self.train_item[order]
            chunk = 1 << 16
            self._pos_keys = keys
            self._pos_scores = torch.cat([self._submodel_scores(u[a : a + chunk], v[a : a + chunk])
                                          for a in range(0, len(keys), chunk)]) if len(keys) else \
                self.sub_p.new_zeros((0, self.k))
        key = users * self.n_items + items
        at = torch.searchsorted(self._pos_keys, key).clamp(max=max(len(self._pos_keys) - 1, 0))
        hit = (self._pos_keys[at] == key) if len(self._pos_keys) else torch.zeros_like(key, dtype=torch.bool)
        if bool(hit.all()):
            return self._pos_scores.index_select(0, at)
        out = self.sub_p.new_empty((len(key), self.k))
        out[hit] = self._pos_scores.index_select(0, at[hit])
        out[~hit] = self._submodel_scores(users[~hit], items[~hit])
        return out

    def _submodel_scores(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """p_u^i . q_v^i of every pair and sub-model, [B, K]: read from the score table, or past its size from the
        pairs' embedding rows."""
        table = self._table()
        if table is not None:
            return table.index_select(0, users * self.n_items + items)
        p_rows, q_rows = self._rows  # [M, K, d], [N, K, d]: gathering whole rows is faster than [:, idx]
        return (p_rows.index_select(0, users) * q_rows.index_select(0, items)).sum(-1)
