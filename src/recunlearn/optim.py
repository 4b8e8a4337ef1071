"""Adagrad, Adam and SGD as small plain-tensor optimisers, step for step the same arithmetic as PyTorch's
single-tensor (CPU) implementations of ``torch.optim.Adagrad`` (lr_decay 0, weight_decay 0), ``torch.optim.Adam``
(betas 0.9 / 0.999, eps 1e-8, no weight decay, no amsgrad) and ``torch.optim.SGD`` (no momentum).

Why not ``torch.optim``: its first use imports ``torch._dynamo`` (about as long as importing torch itself), and
every training job of the workflow is a fresh process, so that import was a third of a small job's start-up.
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
