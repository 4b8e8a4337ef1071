"""MembAgg and RefitAgg (beyond the paper; docs/report/aggregator_designs.md, docs/report/frontier.md): sub-model scores
weighted by shard membership, K + 3 numbers fitted full-batch; RefitAgg over user vectors re-fitted to the whole
profile."""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import torch
from torch import nn

from ..data import Interactions
from ..losses import bpr_loss
from ..optim import lbfgs
from .base import AggregatorConfig, _Aggregator, softmax

class MembAgg(_Aggregator):
    """Membership aggregation (beyond the paper; docs/report/aggregator_designs.md): each sub-model's score standardised
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
        return _exp(self.beta * self.log_b.index_select(0, idx))  # [B, K]

    def users(self, idx):
        w = self.user_weights(idx).T * _exp(self.log_scale) / self.sigma[:, idx]  # [K, B]
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
            w = softmax(self.alpha * log_a + self.bias, dim=-1) * _exp(self.log_scale)
            yp = (w * _exp(self.beta * lbp) * zp).sum(-1)
            yn = (w * _exp(self.beta * lbn) * zn).sum(-1)
            reg = sum((p - p0).pow(2).sum() for p, p0 in zip(self.parameters(), start))
            loss = bpr_loss(yp, yn) + self.cfg.reg_weight * reg
            loss.backward()
            return loss

        # torch.optim.LBFGS's arithmetic without its constructor's torch._dynamo import (recunlearn.optim)
        iterations = lbfgs(params, closure, lr=1, max_iter=self.cfg.lbfgs_iterations)
        if not all(torch.isfinite(p).all() for p in params):
            raise FloatingPointError(f"{type(self).__name__}: the L-BFGS fit of its {sum(p.numel() for p in params)} "
                                     f"numbers ended non-finite (expected finite weights; seed {seed})")
        return iterations


# the largest exponent of the membership weights and the scale: exp(30) ~ 1e13 keeps a line search's trial step finite
# in float32 (an overshoot to beta = -7 and exp(50) ~ 1e21 made its interpolation NaN), and a fit never needs more
EXP_MAX = 30.0


def _exp(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(x.clamp(max=EXP_MAX))


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
                cache: dict | None = None) -> torch.Tensor:
    """Each sub-model's user vectors re-solved over the user's whole training profile, item vectors fixed: the
    user step of alternating least squares on WMF's loss (eq. 3.9) plus a ridge, over the items V_i that sub-model
    i's shard holds (the items of its own loss):

        p_u^i = (c0 G_i + (1 - c0) sum_{v in R_u & V_i} q_v q_v^T + lambda_i I)^{-1} sum_{v in R_u & V_i} q_v

    with q = q^i, G_i = sum_{v in V_i} q_v q_v^T, R_u every training item of u (in whichever shard), and the ridge
    relative to the items' scale, lambda_i = reg tr(G_i) / d, so that one ``reg`` serves sub-models whose embeddings
    differ in norm (LightGCN's propagated ones are larger than WMF's). [K, M, d].

    A row of the per-user sums is a CSR row times a dense matrix, and each d x d system is solved on its own
    (batched LU), so a (user, sub-model) vector does not depend on the other rows solved with it, nor on the thread
    count. On the CPU, given a ``cache`` (a dict the caller keeps between re-fits: a sequential unlearning run holds
    one), the rows whose inputs (q^i, V_i, R_u & V_i) are those of the last re-fit it holds are taken from it and
    only the others are solved: the same bits as solving them all (tests/test_aggregate.py), at about a K-th of the
    cost after a sequential request, which changes one shard's sub-model and one user's profile. The cache holds, per
    sub-model position i, (key, the (user, item) pairs of the profiles within V_i, its [M, d] vectors)."""
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
    reuse = cache is not None and device.type == "cpu"
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
        last = cache.get(i) if reuse else None
        if last is not None and last[0] == key:
            changed = torch.from_numpy(np.unique(np.setxor1d(last[1], pairs, assume_unique=True) // n_items))
            out[i] = last[2]
            if len(changed):
                mine = torch.isin(u_i, changed)
                out[i, changed] = _solve_rows(q, u_i[mine], v_i[mine], changed, c0, base)
        else:
            out[i] = _solve_rows(q, u_i, v_i, torch.arange(n_users), c0, base)
        if reuse:
            cache[i] = (key, pairs, out[i].clone())
    return out


class RefitAgg(MembAgg):
    """Membership aggregation over re-fitted user vectors (beyond the paper; docs/report/aggregator_designs.md): each
    sub-model's user vectors are first re-solved over the user's whole training profile (``refit_users``, with
    WMF's c0 and ``cfg.refit_reg``), then combined as MembAgg combines them, on the raw scores over one common
    scale (their root mean square): the re-fitted vectors all answer the same least-squares problem, so their
    scores share a scale, which a standardisation per (user, sub-model) would discard. A sub-model's user vector
    otherwise sees only the user's interactions in its own shard. The re-fit is a closed form of the sub-models and
    the training data, so the aggregator stays exact; it costs a d x d system per (user, sub-model)."""

    standardised = False

    def __init__(self, sub_p, sub_q, cfg: AggregatorConfig, train: Interactions, shard=None, loss: str = "bpr",
                 c0: float = 0.2, cache: dict | None = None):
        if shard is None:
            raise ValueError("RefitAgg needs each training interaction's shard")
        if not cfg.refit_reg > 0:
            raise ValueError(f"aggregation refit_reg {cfg.refit_reg}: expected a number > 0")
        refit = refit_users(sub_q.detach().float(), train, shard, c0, cfg.refit_reg, cache=cache)
        super().__init__(refit, sub_q, cfg, train, shard=shard, loss=loss, c0=c0)
