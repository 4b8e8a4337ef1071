"""Adagrad, Adam and SGD as small plain-tensor optimisers, step for step the same arithmetic as PyTorch's
single-tensor (CPU) implementations of ``torch.optim.Adagrad`` (lr_decay 0, weight_decay 0), ``torch.optim.Adam``
(betas 0.9 / 0.999, eps 1e-8, no weight decay, no amsgrad) and ``torch.optim.SGD`` (no momentum); and
``lbfgs``, one call of ``torch.optim.LBFGS(..., line_search_fn="strong_wolfe").step(closure)`` from a fresh state,
the same arithmetic in the same order (PyTorch's port of minFunc's L-BFGS and of torch7's ``lswolfe.lua``).

Why not ``torch.optim``: its first use imports ``torch._dynamo`` (1.1-1.5 s here, about as long as importing torch
itself), and every training job of the workflow is a fresh process. Measured on 2 cores in one session, the demo
(168 jobs) took 471 s with these and 547 s with ``torch.optim`` in their place, with the same metrics bit for bit.
``tests/test_optim.py`` checks these against ``torch.optim`` bit for bit.
"""

from __future__ import annotations

import torch


class _Optimizer:
    def __init__(self, params, lr: float):
        self.params = [p for p in params]
        self.lr = float(lr)
        self.steps = 0

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        self.steps += 1
        for i, p in enumerate(self.params):
            if p.grad is not None:
                self._update(i, p, p.grad)

    def _update(self, i: int, p: torch.Tensor, grad: torch.Tensor) -> None:
        raise NotImplementedError


class Adagrad(_Optimizer):
    def __init__(self, params, lr: float = 0.01, initial_accumulator_value: float = 0.0, eps: float = 1e-10):
        super().__init__(params, lr)
        self.eps = eps
        self.state_sum = [torch.full_like(p, initial_accumulator_value) for p in self.params]

    def _update(self, i, p, grad):
        state_sum = self.state_sum[i]
        if grad.is_sparse:  # row-sparse embedding gradients (BPR): only the batch's rows change
            grad = grad.coalesce()
            indices, values = grad._indices(), grad._values()
            state_sum.add_(torch.sparse_coo_tensor(indices, values.pow(2), grad.size()))
            std_values = state_sum.sparse_mask(grad)._values().sqrt_().add_(self.eps)
            p.add_(torch.sparse_coo_tensor(indices, values / std_values, grad.size()), alpha=-self.lr)
        else:
            state_sum.addcmul_(grad, grad, value=1)
            std = state_sum.sqrt().add_(self.eps)
            p.addcdiv_(grad, std, value=-self.lr)


class Adam(_Optimizer):
    def __init__(self, params, lr: float = 0.001, betas=(0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, lr)
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        self.param_steps = [0] * len(self.params)

    def _update(self, i, p, grad):
        if grad.is_sparse:
            raise RuntimeError("Adam does not take sparse gradients (as torch.optim.Adam)")
        self.param_steps[i] += 1  # PyTorch counts the steps of each parameter (a parameter without grad is skipped)
        step = float(self.param_steps[i])  # a float, as PyTorch reads its step tensor
        self.exp_avg[i].lerp_(grad, 1 - self.beta1)
        self.exp_avg_sq[i].mul_(self.beta2).addcmul_(grad, grad.conj(), value=1 - self.beta2)
        bias_correction1 = 1 - self.beta1**step
        bias_correction2 = 1 - self.beta2**step
        step_size = self.lr / bias_correction1
        denom = (self.exp_avg_sq[i].sqrt() / bias_correction2**0.5).add_(self.eps)
        p.addcdiv_(self.exp_avg[i], denom, value=-step_size)


class SGD(_Optimizer):
    def _update(self, i, p, grad):
        p.add_(grad, alpha=-self.lr)


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clipped to ``bounds`` (torch7's
    ``polyinterp.lua``, as ``torch.optim.lbfgs``)."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = d2_square.sqrt()
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step ``t`` along ``d`` meeting the strong Wolfe conditions: bracketing, then zoom by cubic interpolation
    (torch7's ``lswolfe.lua``, as ``torch.optim.lbfgs``). Returns (f, g, t, evaluations)."""
    d_norm = d.abs().max()
    g = g.clone(memory_format=torch.contiguous_format)
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g = [g_prev, g_new.clone(memory_format=torch.contiguous_format)]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g = [g_prev, g_new.clone(memory_format=torch.contiguous_format)]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        t_prev, f_prev = tmp, f_new
        g_prev = g_new.clone(memory_format=torch.contiguous_format)
        gtd_prev = gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom: refine the bracket until a point meets the conditions
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) else min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos] = g_new.clone(memory_format=torch.contiguous_format)
            bracket_gtd[high_pos] = gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos], bracket_gtd[high_pos] = bracket_g[low_pos], bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos] = g_new.clone(memory_format=torch.contiguous_format)
            bracket_gtd[low_pos] = gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


def lbfgs(params, closure, lr: float = 1.0, max_iter: int = 20, max_eval: int | None = None,
          tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100) -> int:
    """Minimise ``closure()`` (which zeroes the gradients, computes the loss, calls ``backward`` and returns the
    loss) over the real dense tensors ``params`` in place, by L-BFGS with a strong-Wolfe line search: one
    ``torch.optim.LBFGS(params, lr, max_iter, max_eval, tolerance_grad, tolerance_change, history_size,
    line_search_fn="strong_wolfe").step(closure)`` from a fresh optimiser, bit for bit (tests/test_optim.py).
    Returns the number of iterations run."""
    params = [p for p in params]
    if max_eval is None:
        max_eval = max_iter * 5 // 4
    numel = sum(p.numel() for p in params)

    def flat_grad():
        return torch.cat([p.new(p.numel()).zero_() if p.grad is None else p.grad.view(-1) for p in params], 0)

    def add_grad(step_size, update):
        offset = 0
        for p in params:
            p.add_(update[offset: offset + p.numel()].view_as(p), alpha=step_size)
            offset += p.numel()
        assert offset == numel

    def evaluate():
        with torch.enable_grad():
            loss = closure()
        return float(loss.detach()) if torch.is_tensor(loss) else float(loss)

    def directional_evaluate(x, t, d):
        add_grad(t, d)
        loss = evaluate()
        grad = flat_grad()
        for p, value in zip(params, x, strict=True):
            p.copy_(value)
        return loss, grad

    with torch.no_grad():
        loss = evaluate()
        current_evals = 1
        g = flat_grad()
        if g.abs().max() <= tolerance_grad:
            return 0
        d = t = prev_g = None
        old_dirs, old_stps, ro, al = [], [], [], [None] * history_size
        h_diag = 1
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            if n_iter == 1:
                d = g.neg()
            else:
                y = g.sub(prev_g)
                s = d.mul(t)
                ys = y.dot(s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / y.dot(y)
                q = g.neg()
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q.add_(old_dirs[i], alpha=-al[i])
                d = r = torch.mul(q, h_diag)
                for i in range(len(old_dirs)):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    r.add_(old_stps[i], alpha=al[i] - be_i)
            if prev_g is None:
                prev_g = g.clone(memory_format=torch.contiguous_format)
            else:
                prev_g.copy_(g)
            prev_loss = loss
            t = min(1.0, 1.0 / g.abs().sum()) * lr if n_iter == 1 else lr
            gtd = g.dot(d)
            if gtd > -tolerance_change:
                break
            x_init = [p.clone(memory_format=torch.contiguous_format) for p in params]
            loss, g, t, ls_func_evals = _strong_wolfe(directional_evaluate, x_init, t, d, loss, g, gtd,
                                                      max_ls=max_eval - current_evals)
            add_grad(t, d)
            current_evals += ls_func_evals
            if n_iter == max_iter or current_evals >= max_eval or g.abs().max() <= tolerance_grad:
                break
            if d.mul(t).abs().max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break
    return n_iter
