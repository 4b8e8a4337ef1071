"""Aggregation of K sub-models (docs/method.md, section 7): MeanAgg (SISA), StaticAgg (GraphEraser), AttAgg (RecEraser).

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

import hashlib
import warnings
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .data import Interactions
from .losses import bpr_loss, wmf_efficient_loss, wmf_positive_term
from .models import ModelConfig
from .models.base import Recommender
from .optim import lbfgs
from .registry import AGGREGATORS, lookup, resolve

# a BPR batch is scored through the full (distinct users x distinct items) score matrix when that matrix holds at
# most this many entries per training pair (both ways give the same loss; the matrix is a single matmul)
SCORE_MATRIX_PER_PAIR = 32
# StaticAgg precomputes every sub-model's score of every (user, item), K x M x N float32 numbers, when there are at
# most this many: 1 GiB (ml-1m at K = 10: 224 M; past it, it scores pairs from the sub-models' embedding rows)
STATIC_SCORES_MAX = 1 << 28


def softmax(x: torch.Tensor, dim: int) -> torch.Tensor:
    """softmax(x) along ``dim``, written out (max-shifted exp over its sum). torch.softmax over the K sub-models
    gives other bits at 1 and at 2 CPU threads (forward along a non-last dim, backward along any), so AttAgg trained
    differently with the thread count (ml-100k BPR: 39 epochs at 1 thread, 31 at 2); these elementwise ops and
    K-term sums do not depend on it (tests/test_aggregate.py)."""
    e = torch.exp(x - x.max(dim, keepdim=True).values.detach())
    return e / e.sum(dim, keepdim=True)


@dataclass(frozen=True)
class AggregatorConfig(ModelConfig):
    optimizer: str = "adagrad"
    lr: float = 0.05
    batch_size: int = 4096
    reg_weight: float = 1e-5
    max_epochs: int = 50
    eval_every: int = 1
    patience: int = 10
    attention_size: int = 32
    # how AttAgg starts and is regularised; the defaults are the authors' RecEraser code, chosen on validation over
    # our earlier identity start (docs/ablation.md): W_i, b_i Xavier-normal, h = 0.01 so the attention starts at
    # 1/K, dropout keep 0.7 on the aggregated user embedding, only W_i and b_i regularised
    init: str = "normal"             # normal | identity (W_i = I + noise, b_i = 0)
    attention_init: str = "uniform"  # uniform (h = 0.01) | random (h ~ N(0, 1/k))
    keep_prob: float = 0.7           # dropout keep probability on the aggregated user embedding while training
    reg_attention: bool = False      # also regularise the attention MLPs (W1, W2, h1, h2)
    # MembAgg (beyond the paper): its K + 3 numbers are fitted full-batch by L-BFGS on this many seeded BPR triples
    triples: int = 20000
    lbfgs_iterations: int = 100
    # RefitAgg (beyond the paper): the ridge of its users' re-fit, relative to the items' scale (``refit_users``;
    # chosen on ml-100k validation, docs/frontier.md)
    refit_reg: float = 2.0


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


class MeanAgg(_Aggregator):
    """SISA: the average of the sub-models' scores."""

    def users(self, idx):
        return self.sub_p.index_select(1, idx).permute(1, 0, 2).reshape(len(idx), -1) / self.k

    def items(self, idx):
        return self.sub_q.index_select(1, idx).permute(1, 0, 2).reshape(len(idx), -1)


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


def user_groups(train: Interactions, shard, k: int) -> np.ndarray:
    """Each user's group: the shard holding the most of the user's training interactions (``shard``: each
    interaction's shard, aligned with ``train``), the lowest such shard on a tie; -1 for a user with none. Under a
    user partition (``ot``, ``ubp``, ``bekm``) a user's interactions are all in one shard."""
    shard = np.asarray(shard, dtype=np.int64)
    if len(shard) != len(train):
        raise ValueError(f"{len(shard)} shard ids for {len(train)} training interactions")
    counts = np.zeros((train.n_users, k), dtype=np.int64)
    np.add.at(counts, (np.asarray(train.user, dtype=np.int64), shard), 1)
    return np.where(counts.sum(1) > 0, counts.argmax(1), -1)


class GroupAgg(_Aggregator):
    """UltraRE's combiner (Li et al., NeurIPS 2023): every group model scores a user with the user embedding of the
    user's own group's model, and the K scores are averaged. Nothing is learned; the users' groups (a buffer, saved
    with the state) come from the shard of each training interaction (``shard``), so after a deletion they are
    those of the reduced data. A user with no training interaction (no group) is scored as MeanAgg scores."""

    def __init__(self, sub_p, sub_q, cfg: AggregatorConfig, train: Interactions, shard=None, **kwargs):
        super().__init__(sub_p, sub_q, cfg, train, **kwargs)
        # without ``shard`` the groups are unknown until a saved state is loaded (forgetting.aggregator_scorer)
        home = user_groups(train, shard, self.k) if shard is not None else np.full(self.n_users, -1)
        self.register_buffer("home", torch.from_numpy(np.asarray(home, dtype=np.int64)))

    def users(self, idx):
        home = self.home.index_select(0, idx)
        own = self.sub_p[home.clamp(min=0), idx]  # [B, d]: each user's own group's embedding
        mean = self.sub_p.index_select(1, idx).permute(1, 0, 2)  # [B, K, d]
        rows = torch.where((home >= 0)[:, None, None], own[:, None, :].expand_as(mean), mean)
        return rows.reshape(len(idx), -1) / self.k

    def items(self, idx):
        return self.sub_q.index_select(1, idx).permute(1, 0, 2).reshape(len(idx), -1)


class MembAgg(_Aggregator):
    """Membership aggregation (beyond the paper; docs/aggregator_designs.md): each sub-model's score standardised
    per (user, sub-model) over the items, z_uv^i = (p_u^i . q_v^i - mu_u^i) / sigma_u^i, weighted by where the user's
    and the item's training interactions lie:

        y_uv = exp(s) sum_i w_ui m_vi z_uv^i,  w_u = softmax_i(alpha log(a_ui + eps) + c_i),  m_vi = (b_vi + eps)^beta

    with a_ui (b_vi) the share of the user's (item's) training interactions in shard i. Its K + 3 numbers (alpha,
    beta, s, c) start at (1, 1, 0, 0), the training-free weighting, and are fitted full-batch by L-BFGS on a seeded
    sample of ``cfg.triples`` BPR triples of the training set (``solve``): a second or less, whatever the data's
    size, so that a deletion costs about one sub-model's retraining. mu and sigma are exact over all items (from the
    items' mean and covariance). The score is a dot product of K (d + 1)-wide embeddings."""

    EPS = 1e-3
    standardised = True  # False: the raw scores over one scale for all (mu = 0, sigma their RMS), as RefitAgg's

    def __init__(self, sub_p, sub_q, cfg: AggregatorConfig, train: Interactions, shard=None, **kwargs):
        super().__init__(sub_p, sub_q, cfg, train, **kwargs)
        k = self.k
        share_u, share_i = np.zeros((self.n_users, k)), np.zeros((self.n_items, k))
        if shard is not None:
            shard = np.asarray(shard, dtype=np.int64)
            np.add.at(share_u, (np.asarray(train.user, dtype=np.int64), shard), 1)
            np.add.at(share_i, (np.asarray(train.item, dtype=np.int64), shard), 1)
        share_u /= np.maximum(share_u.sum(1, keepdims=True), 1)
        share_i /= np.maximum(share_i.sum(1, keepdims=True), 1)
        dtype = self.sub_p.dtype
        self.register_buffer("log_a", torch.from_numpy(np.log(share_u + self.EPS)).to(dtype))
        self.register_buffer("log_b", torch.from_numpy(np.log(share_i + self.EPS)).to(dtype))
        if self.standardised:
            q = self.sub_q
            qbar = q.mean(1)  # [K, d]
            centred = q - qbar[:, None]
            cov = torch.einsum("knd,kne->kde", centred, centred) / q.shape[1]
            mu = torch.einsum("kmd,kd->km", self.sub_p, qbar)
            sigma = torch.einsum("kmd,kde,kme->km", self.sub_p, cov, self.sub_p).clamp_min(1e-12).sqrt()
        else:  # one scale for every score: their root mean square over all K x M x N, from the items' Gram matrices
            gram = torch.einsum("knd,kne->kde", self.sub_q, self.sub_q) / self.sub_q.shape[1]
            mean_square = torch.einsum("kmd,kde,kme->", self.sub_p, gram, self.sub_p) / (k * self.n_users)
            rms = mean_square.clamp_min(1e-12).sqrt()
            mu, sigma = torch.zeros(k, self.n_users, dtype=dtype), rms.expand(k, self.n_users).contiguous()
        self.register_buffer("mu", mu.to(self.sub_p.device), persistent=False)
        self.register_buffer("sigma", sigma.to(self.sub_p.device), persistent=False)
        self.alpha, self.beta = nn.Parameter(torch.ones(())), nn.Parameter(torch.ones(()))
        self.log_scale, self.bias = nn.Parameter(torch.zeros(())), nn.Parameter(torch.zeros(k))
        self._train = train

    def user_weights(self, idx):
        return softmax(self.alpha * self.log_a.index_select(0, idx) + self.bias, dim=-1)  # [B, K]

    def item_weights(self, idx):
        return torch.exp(self.beta * self.log_b.index_select(0, idx))  # [B, K]

    def users(self, idx):
        w = self.user_weights(idx).T * torch.exp(self.log_scale) / self.sigma[:, idx]  # [K, B]
        p = self.sub_p.index_select(1, idx) * w[:, :, None]  # [K, B, d]
        return torch.cat([p.permute(1, 0, 2).reshape(len(idx), -1), (-w * self.mu[:, idx]).T], dim=1)

    def items(self, idx):
        m = self.item_weights(idx)  # [B, K]
        q = self.sub_q.index_select(1, idx).permute(1, 0, 2) * m[:, :, None]  # [B, K, d]
        return torch.cat([q.reshape(len(idx), -1), m], dim=1)

    def solve(self, seed: int) -> int:
        """Fit alpha, beta, s and c by L-BFGS on ``cfg.triples`` BPR triples drawn with ``seed`` (a positive training
        pair, a uniformly drawn item) plus ``cfg.reg_weight`` |theta - theta_0|^2; the iterations it took."""
        train, device = self._train, self.sub_p.device
        g = torch.Generator().manual_seed(seed)
        n = min(self.cfg.triples, len(train))
        rows = torch.randperm(len(train), generator=g)[:n]
        u = torch.from_numpy(np.asarray(train.user, dtype=np.int64))[rows].to(device)
        pos = torch.from_numpy(np.asarray(train.item, dtype=np.int64))[rows].to(device)
        neg = torch.randint(self.n_items, (n,), generator=g).to(device)

        def standardised(items):  # [n, K]
            dots = (self.sub_p[:, u] * self.sub_q[:, items]).sum(-1)
            return ((dots - self.mu[:, u]) / self.sigma[:, u]).T

        with torch.no_grad():
            zp, zn, log_a = standardised(pos), standardised(neg), self.log_a[u]
            lbp, lbn = self.log_b[pos], self.log_b[neg]
        start = [p.detach().clone() for p in self.parameters()]
        params = list(self.parameters())

        def closure():
            for p in params:
                p.grad = None
            w = softmax(self.alpha * log_a + self.bias, dim=-1) * torch.exp(self.log_scale)
            yp = (w * torch.exp(self.beta * lbp) * zp).sum(-1)
            yn = (w * torch.exp(self.beta * lbn) * zn).sum(-1)
            reg = sum((p - p0).pow(2).sum() for p, p0 in zip(self.parameters(), start))
            loss = bpr_loss(yp, yn) + self.cfg.reg_weight * reg
            loss.backward()
            return loss

        # torch.optim.LBFGS's arithmetic without its constructor's torch._dynamo import (recunlearn.optim)
        return lbfgs(params, closure, lr=1, max_iter=self.cfg.lbfgs_iterations)


# the last re-fit of each sub-model position i in this process (CPU only): {i: (key, the (user, item) pairs of the
# profiles within V_i, its [M, d] vectors)}. A sequential request changes one shard's sub-model and one user's
# profile, so the next re-fit solves only the rows whose inputs changed (refit_users).
_REFIT_CACHE: dict[int, tuple] = {}


def _solve_rows(q: torch.Tensor, users: torch.Tensor, items: torch.Tensor, rows: torch.Tensor, c0: float,
                base: torch.Tensor) -> torch.Tensor:
    """p of the users ``rows`` (ascending) from their profile pairs (``users``, ``items``; sorted by user, then
    item; every user among ``rows``), q the sub-model's items with those outside V_i zeroed, ``base`` the part of
    every user's system that is the same for all (c0 G_i + lambda_i I). [len(rows), d]."""
    d, device, dtype = q.shape[1], q.device, q.dtype
    position = torch.full((int(rows.max()) + 1 if len(rows) else 1,), -1, dtype=torch.int64)
    position[rows] = torch.arange(len(rows))
    crow = torch.zeros(len(rows) + 1, dtype=torch.int64)
    crow[1:] = torch.cumsum(torch.bincount(position[users], minlength=len(rows)), 0)
    # only the items these rows hold (in the same order, so each row sums the same terms in the same order)
    columns = torch.unique(items)
    qc = q[columns.to(device)]
    with warnings.catch_warnings():  # "sparse CSR support is in beta": products by a dense matrix are stable
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        r = torch.sparse_csr_tensor(crow.to(device), torch.searchsorted(columns, items).to(device),
                                    torch.ones(len(items), dtype=dtype, device=device), (len(rows), len(columns)),
                                    check_invariants=False)
    outer = ((1 - c0) * qc[:, :, None] * qc[:, None, :]).reshape(len(columns), d * d)
    system = (r @ outer).view(len(rows), d, d)
    system += base
    return torch.linalg.solve(system, r @ qc)


def refit_users(sub_q: torch.Tensor, train: Interactions, shard, c0: float, reg: float,
                reuse: bool = True) -> torch.Tensor:
    """Each sub-model's user vectors re-solved over the user's whole training profile, item vectors fixed: the
    user step of alternating least squares on WMF's loss (eq. 3.9) plus a ridge, over the items V_i that sub-model
    i's shard holds (the items of its own loss):

        p_u^i = (c0 G_i + (1 - c0) sum_{v in R_u & V_i} q_v q_v^T + lambda_i I)^{-1} sum_{v in R_u & V_i} q_v

    with q = q^i, G_i = sum_{v in V_i} q_v q_v^T, R_u every training item of u (in whichever shard), and the ridge
    relative to the items' scale, lambda_i = reg tr(G_i) / d, so that one ``reg`` serves sub-models whose embeddings
    differ in norm (LightGCN's propagated ones are larger than WMF's). [K, M, d].

    A row of the per-user sums is a CSR row times a dense matrix, and each d x d system is solved on its own
    (batched LU), so a (user, sub-model) vector does not depend on the other rows solved with it, nor on the thread
    count. On the CPU, ``reuse`` takes the rows whose inputs (q^i, V_i, R_u & V_i) are those of this process's last
    re-fit from it and solves only the others: the same bits as solving them all (tests/test_aggregate.py), at about
    a K-th of the cost after a sequential request."""
    k, n_items, d = sub_q.shape
    n_users = train.n_users
    device, dtype = sub_q.device, sub_q.dtype
    user = torch.from_numpy(np.asarray(train.user, dtype=np.int64))
    item = torch.from_numpy(np.asarray(train.item, dtype=np.int64))
    shard = torch.from_numpy(np.asarray(shard, dtype=np.int64))
    held = torch.zeros(k, n_items, dtype=torch.bool)
    held[shard, item] = True
    order = torch.argsort(user * n_items + item)  # CSR: by user, then item
    user, item = user[order], item[order]
    reuse = reuse and device.type == "cpu"
    out = torch.empty(k, n_users, d, dtype=dtype, device=device)
    for i in range(k):
        keep = held[i, item]
        u_i, v_i = user[keep], item[keep]
        q = sub_q[i] * held[i].to(device, dtype)[:, None]  # items outside V_i out of both sums
        gram = q.T @ q
        base = c0 * gram + reg * gram.diagonal().mean() * torch.eye(d, dtype=dtype, device=device)
        pairs = (u_i * n_items + v_i).numpy()
        inputs = q.contiguous().numpy().tobytes() + held[i].numpy().tobytes() if reuse else b""
        key = (n_users, n_items, d, str(dtype), float(c0), float(reg),
               hashlib.blake2b(inputs, digest_size=16).hexdigest())
        last = _REFIT_CACHE.get(i) if reuse else None
        if last is not None and last[0] == key:
            changed = torch.from_numpy(np.unique(np.setxor1d(last[1], pairs, assume_unique=True) // n_items))
            out[i] = last[2]
            if len(changed):
                mine = torch.isin(u_i, changed)
                out[i, changed] = _solve_rows(q, u_i[mine], v_i[mine], changed, c0, base)
        else:
            out[i] = _solve_rows(q, u_i, v_i, torch.arange(n_users), c0, base)
        if reuse:
            _REFIT_CACHE[i] = (key, pairs, out[i].clone())
    return out


class RefitAgg(MembAgg):
    """Membership aggregation over re-fitted user vectors (beyond the paper; docs/aggregator_designs.md): each
    sub-model's user vectors are first re-solved over the user's whole training profile (``refit_users``, with
    WMF's c0 and ``cfg.refit_reg``), then combined as MembAgg combines them, on the raw scores over one common
    scale (their root mean square): the re-fitted vectors all answer the same least-squares problem, so their
    scores share a scale, which a standardisation per (user, sub-model) would discard. A sub-model's user vector
    otherwise sees only the user's interactions in its own shard. The re-fit is a closed form of the sub-models and
    the training data, so the aggregator stays exact; it costs a d x d system per (user, sub-model)."""

    standardised = False

    def __init__(self, sub_p, sub_q, cfg: AggregatorConfig, train: Interactions, shard=None, loss: str = "bpr",
                 c0: float = 0.2):
        if shard is None:
            raise ValueError("RefitAgg needs each training interaction's shard")
        if not cfg.refit_reg > 0:
            raise ValueError(f"aggregation refit_reg {cfg.refit_reg}: expected a number > 0")
        refit = refit_users(sub_q.detach().float(), train, shard, c0, cfg.refit_reg)
        super().__init__(refit, sub_q, cfg, train, shard=shard, loss=loss, c0=c0)


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


def build(aggregator: str, sub_p, sub_q, cfg: AggregatorConfig, train: Interactions, loss: str = "bpr",
          shard=None, **loss_options):
    """Aggregator ``aggregator`` (registered in ``registry.AGGREGATORS``) over the frozen sub-models, trained with
    the base model's ``loss`` and its options (``ModelConfig.loss``, ``loss_options``: WMF's c0). ``shard``: each
    training interaction's shard, given to an aggregator registered with ``uses_shards``."""
    entry = lookup(AGGREGATORS, "aggregator", aggregator)
    cls = resolve(entry.impl)
    extra = {"shard": shard} if entry.uses_shards else {}
    return cls(sub_p, sub_q, cfg, train, loss=loss, **extra, **loss_options)
