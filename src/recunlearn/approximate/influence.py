"""The influence-function step the approximate methods share (docs/guide/method.md, section 10).

With F(D) the model's training objective over the interactions D (``Recommender.objective``), theta the trained
parameters, D_r the deleted interactions and S a set of embedding rows (users' and items'), one step is

    theta_S <- theta_S + (H_SS + lambda I)^-1 g_S,  H = grad^2 F(D \\ D_r)(theta),  g = grad [F(D) - F'(D \\ D_r)](theta)

If theta minimises F(D), -g is the gradient at theta of what a Retrain minimises, so the step is Newton's on the
objective without the deletions, restricted to S: it lands on the exact re-fit when that objective is quadratic in
theta_S (WMF's user rows with the items fixed), and is Koh and Liang's influence function (the removal's first-order
effect) otherwise. F' is F(D \\ D_r) on the original graph (``spillover=False``: only the deleted interactions' own
terms, the direct influence) or on the graph without them (``spillover=True``: also what the deletions change in the
propagation of a graph model, IFRU's spillover). Every other parameter is held fixed. Hessian-vector products are
double backward passes through the objective; the damped system is solved by SciPy's conjugate gradient.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator, cg

from ..data import Interactions


class Restricted:
    """The model's objective as a function of a displacement ``v`` [|users| + |items|, d] of the rows ``users`` of
    the user embeddings and ``items`` of the item embeddings (every other parameter fixed)."""

    def __init__(self, model, users: np.ndarray, items: np.ndarray):
        self.model = model
        p, q = model.user_emb.detach(), model.item_emb.detach()
        self.p, self.q = p, q
        self.users = torch.as_tensor(np.asarray(users, dtype=np.int64), device=p.device)
        self.items = torch.as_tensor(np.asarray(items, dtype=np.int64), device=p.device)
        self.shape = (len(self.users) + len(self.items), p.shape[1])

    def ego(self, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = len(self.users)
        return self.p.index_add(0, self.users, v[:n]), self.q.index_add(0, self.items, v[n:])

    def zero(self) -> torch.Tensor:
        return torch.zeros(self.shape, dtype=self.p.dtype, device=self.p.device, requires_grad=True)

    def objective(self, v, data: Interactions, negatives, graph: Interactions | None = None) -> torch.Tensor:
        """F(data) as a function of ``v`` up to a constant: only the rows whose terms depend on the selected rows
        (``Recommender.touching``) are summed, over ``data`` as the whole training set."""
        mask = self.model.touching(data, negatives, self.users.cpu().numpy(), self.items.cpu().numpy())
        part = data if mask.all() else Interactions(data.user[mask], data.item[mask], data.n_users, data.n_items)
        if negatives is not None and not mask.all():
            negatives = negatives[torch.from_numpy(mask)]
        return self.model.objective(part, negatives, ego=self.ego(v), graph=data if graph is None else graph,
                                    whole=data)


def gradient(f: Restricted, full: Interactions, kept: Interactions, neg_full, neg_kept,
             spillover: bool) -> torch.Tensor:
    """g = grad [F(D) - F'(D minus the deletions)] at v = 0 (the module docstring)."""
    v = f.zero()
    removed = f.objective(v, full, neg_full) - f.objective(v, kept, neg_kept, graph=None if spillover else full)
    return torch.autograd.grad(removed, v)[0].detach()


def hessian_operator(f: Restricted, kept: Interactions, neg_kept, damping: float) -> LinearOperator:
    """x -> (H + damping I) x, H the Hessian of F(D minus the deletions) in v at v = 0, for SciPy (float64 vectors)."""
    v = f.zero()
    grad = torch.autograd.grad(f.objective(v, kept, neg_kept), v, create_graph=True)[0]

    def matvec(x):
        xt = torch.as_tensor(np.asarray(x, dtype=np.float64).reshape(f.shape), dtype=v.dtype, device=v.device)
        hx = torch.autograd.grad(grad, v, grad_outputs=xt, retain_graph=True)[0]
        return hx.detach().to("cpu", torch.float64).numpy().ravel() + damping * np.asarray(x).ravel()

    n = f.shape[0] * f.shape[1]
    return LinearOperator((n, n), matvec=matvec, dtype=np.float64)


def influence_step(model, full: Interactions, kept: Interactions, neg_full, neg_kept, users: np.ndarray,
                   items: np.ndarray, damping: float, cg_iterations: int, spillover: bool) -> dict:
    """Apply the step of the module docstring to ``model``'s rows ``users`` and ``items`` in place; what it did."""
    t0 = time.perf_counter()
    f = Restricted(model, users, items)
    info = {"users_updated": len(f.users), "items_updated": len(f.items), "cg_iterations": 0}
    if f.shape[0] == 0:
        return {**info, "seconds": time.perf_counter() - t0, "residual": 0.0}
    g = gradient(f, full, kept, neg_full, neg_kept, spillover).to("cpu", torch.float64).numpy().ravel()
    op = hessian_operator(f, kept, neg_kept, float(damping))
    count = [0]

    def step(_):
        count[0] += 1

    x, _ = cg(op, g, rtol=1e-8, atol=0.0, maxiter=int(cg_iterations), callback=step)
    residual = float(np.linalg.norm(op.matvec(x) - g) / max(np.linalg.norm(g), 1e-30))
    with torch.no_grad():
        dv = torch.as_tensor(x.reshape(f.shape), dtype=f.p.dtype, device=f.p.device)
        model.user_emb.index_add_(0, f.users, dv[: len(f.users)])
        model.item_emb.index_add_(0, f.items, dv[len(f.users) :])
    return {**info, "cg_iterations": count[0], "residual": residual, "step_norm": float(np.linalg.norm(x)),
            "seconds": time.perf_counter() - t0}
