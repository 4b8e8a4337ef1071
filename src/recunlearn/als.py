"""Alternating least squares for WMF's efficient non-sampling loss (eq. 3.9; WMF's ``optimizer: als``).

With the item vectors fixed, eq. 3.9 plus a ridge ``reg * |P|^2`` is a separate quadratic in each user vector:

    f(p_u) = (1 - c0) sum_{v in Y_u} (p_u . q_v)^2 - 2 sum_{v in Y_u} p_u . q_v + c0 p_u^T G_Q p_u + reg |p_u|^2

minimised where A_u p_u = b_u, A_u = (1 - c0) sum_{v in Y_u} q_v q_v^T + c0 G_Q + reg I, b_u = sum_{v in Y_u} q_v,
G_Q the Gram matrix of the items present in the training set; the item step is the same with the roles swapped (G_P
over the users with training interactions). A sweep is a user step, then an item step. Each step runs a few
conjugate-gradient iterations on every user's (item's) system at once from the current vectors (Takacs et al.,
RecSys 2011; Rendle et al.'s iALS++, 2021): A_u x is applied as a CSR product over the user's interactions plus
x G_Q (the user's dot products at its interactions by a sampled product), so no d x d matrix is formed per user, and CG from the current point never raises the step's quadratic. With
as many iterations as dimensions a step is the exact solve (tests/test_als.py). Users (items) without a training
interaction keep their vectors, as under the mini-batch optimisers. The CSR products sum each row in a fixed order,
so a sweep's bits depend on the thread count only through the d x d products (docs/guide/reproducibility.md).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from .data import Interactions


def _csr_matrix(crow, cols, values, n_cols: int):
    with warnings.catch_warnings():  # "sparse CSR support is in beta": the products used here are stable
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(crow, cols, values, (len(crow) - 1, n_cols), check_invariants=False)


def _csr(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int, dtype, device):
    """(the rows with an interaction, their 0/1 CSR matrix [those rows x n_cols], columns sorted within a row)."""
    order = np.lexsort((cols, rows))
    counts = np.bincount(rows, minlength=n_rows)
    active = np.flatnonzero(counts > 0)
    crow = np.zeros(len(active) + 1, dtype=np.int64)
    np.cumsum(counts[active], out=crow[1:])
    values = torch.ones(len(cols), dtype=dtype, device=device)
    return (torch.from_numpy(active).to(device),
            _csr_matrix(torch.from_numpy(crow).to(device), torch.from_numpy(cols[order]).to(device), values, n_cols))


class ALSData:
    """The training interactions as two 0/1 CSR matrices, users x items and items x users, over the users (items)
    with a training interaction; built once per fit."""

    def __init__(self, train: Interactions, device, dtype=torch.float32):
        user = np.asarray(train.user, dtype=np.int64)
        item = np.asarray(train.item, dtype=np.int64)
        self.users, self.by_user = _csr(user, item, train.n_users, train.n_items, dtype, device)
        self.items, self.by_item = _csr(item, user, train.n_items, train.n_users, dtype, device)


def half_step(x: torch.Tensor, other: torch.Tensor, pattern, gram_other: torch.Tensor, c0: float, reg: float,
              steps: int) -> torch.Tensor:
    """Conjugate-gradient iterations on every row's system A_r x_r = b_r (module docstring) from ``x`` [R, d]:
    ``other`` [N, d] the fixed side, ``pattern`` the rows' interactions (0/1 CSR, R x N), ``gram_other`` the fixed
    side's Gram matrix over its active rows. Returns the new [R, d]."""
    b = pattern @ other
    fixed = c0 * gram_other + reg * torch.eye(x.shape[1], dtype=x.dtype, device=x.device)
    other_t = other.T.contiguous()

    def apply(v):
        # (1 - c0) sum_{j in row} other_j (other_j . v): the row's dot products at its interactions (a sampled
        # product, no [nnz, d] copy), times ``other``
        dots = torch.sparse.sampled_addmm(pattern, v, other_t, beta=0.0, alpha=1.0 - c0)
        return dots @ other + v @ fixed

    r = b - apply(x)
    p = r.clone()
    rs = (r * r).sum(1, keepdim=True)
    tiny = torch.finfo(x.dtype).tiny
    for _ in range(steps):
        ap = apply(p)
        pap = (p * ap).sum(1, keepdim=True)
        alpha = torch.where(pap > 0, rs / pap.clamp_min(tiny), torch.zeros_like(pap))
        x = x + alpha * p
        r = r - alpha * ap
        rs_new = (r * r).sum(1, keepdim=True)
        beta = torch.where(rs > 0, rs_new / rs.clamp_min(tiny), torch.zeros_like(rs))
        p = r + beta * p
        rs = rs_new
    return x


def sweep(user_emb: torch.Tensor, item_emb: torch.Tensor, data: ALSData, c0: float, reg: float, steps: int) -> None:
    """One sweep in place: the users' step, then the items' (only rows with training interactions change)."""
    with torch.no_grad():
        q = item_emb[data.items]
        gram_q = q.T @ q
        user_emb[data.users] = half_step(user_emb[data.users], item_emb, data.by_user, gram_q, c0, reg, steps)
        p = user_emb[data.users]
        gram_p = p.T @ p
        item_emb[data.items] = half_step(item_emb[data.items], user_emb, data.by_item, gram_p, c0, reg, steps)


def objective(user_emb: torch.Tensor, item_emb: torch.Tensor, data: ALSData, c0: float, reg: float) -> float:
    """Eq. 3.9 over the training set (its users and items) plus ``reg`` times their squared norms: what a sweep
    lowers."""
    with torch.no_grad():
        p, q = user_emb[data.users], item_emb[data.items]
        y = torch.sparse.sampled_addmm(data.by_user, p, item_emb.T.contiguous(), beta=0.0).values()
        loss = ((1.0 - c0) * y.pow(2) - 2.0 * y).sum() + c0 * ((p.T @ p) * (q.T @ q)).sum()
        return float(loss + reg * (p.pow(2).sum() + q.pow(2).sum()))
