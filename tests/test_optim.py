"""Our optimisers equal torch.optim's CPU implementations bit for bit, and importing them skips torch._dynamo."""

import subprocess
import sys

import pytest
import torch

from conftest import ROOT
from recunlearn import optim


def _run(make, steps=25, skip_every=0):
    torch.manual_seed(0)
    w = [torch.nn.Parameter(torch.randn(7, 5)), torch.nn.Parameter(torch.randn(5))]
    opt = make(w)
    for t in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = (w[0] @ w[1]).sin().sum() + w[0].pow(2).sum() * 0.01
        if skip_every and t % skip_every == 0:  # a parameter without gradient this step
            loss = w[0].pow(2).sum()
        loss.backward()
        opt.step()
    return [p.detach().clone() for p in w]


@pytest.mark.parametrize("ours,theirs", [
    (lambda w: optim.Adagrad(w, lr=0.05, initial_accumulator_value=1e-8),
     lambda w: torch.optim.Adagrad(w, lr=0.05, initial_accumulator_value=1e-8)),
    (lambda w: optim.Adam(w, lr=0.01), lambda w: torch.optim.Adam(w, lr=0.01)),
    (lambda w: optim.SGD(w, lr=0.1), lambda w: torch.optim.SGD(w, lr=0.1)),
])
@pytest.mark.parametrize("skip_every", [0, 3])
def test_same_updates_as_torch_optim(ours, theirs, skip_every):
    got, want = _run(ours, skip_every=skip_every), _run(theirs, skip_every=skip_every)
    assert all(torch.equal(a, b) for a, b in zip(got, want))


@pytest.mark.parametrize("name", ["Adagrad", "SGD"])
def test_sparse_embedding_gradients_as_torch_optim(name):
    def run(make):
        torch.manual_seed(1)
        emb = torch.nn.Parameter(torch.randn(20, 4) * 0.1)
        opt = make([emb])
        g = torch.Generator().manual_seed(2)
        for _ in range(15):
            idx = torch.randint(20, (12,), generator=g)  # repeated rows: the gradient must be coalesced
            loss = torch.nn.functional.embedding(idx, emb, sparse=True).pow(2).sum().sqrt()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return emb.detach().clone()

    kwargs = {"lr": 0.05, "initial_accumulator_value": 1e-8} if name == "Adagrad" else {"lr": 0.05}
    assert torch.equal(run(lambda w: getattr(optim, name)(w, **kwargs)),
                       run(lambda w: getattr(torch.optim, name)(w, **kwargs)))


def test_training_does_not_import_dynamo():
    code = ("import sys; sys.path.insert(0, 'src'); import torch; from recunlearn import optim;"
            "w = torch.nn.Parameter(torch.ones(3)); o = optim.Adam([w]); (w * 2).sum().backward(); o.step();"
            "print('torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _lbfgs_problem(dtype, scale):
    """A non-quadratic loss over two parameters of different shapes (so the flat view and its offsets matter)."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(200, 6, generator=g, dtype=dtype)
    y = (torch.rand(200, generator=g, dtype=dtype) < 0.4).to(dtype)
    w = [torch.nn.Parameter(torch.randn(6, 3, generator=g, dtype=dtype) * scale),
         torch.nn.Parameter(torch.zeros(3, dtype=dtype))]

    def loss_of():
        logits = (x @ w[0] + w[1]).logsumexp(-1)
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, y) + 1e-3 * w[0].pow(2).sum()
    return w, loss_of


@pytest.mark.parametrize("dtype,scale,max_iter,history", [
    (torch.float64, 1.0, 200, 100), (torch.float32, 3.0, 100, 100), (torch.float32, 1.0, 7, 100),
    (torch.float64, 1.0, 60, 3),  # a short history, so its oldest pairs are dropped
])
def test_lbfgs_same_bits_and_iterations_as_torch_optim(dtype, scale, max_iter, history):
    w, loss_of = _lbfgs_problem(dtype, scale)

    def closure():
        for p in w:
            p.grad = None
        loss = loss_of()
        loss.backward()
        return loss
    n_ours = optim.lbfgs(w, closure, lr=1, max_iter=max_iter, history_size=history)
    ours = [p.detach().clone() for p in w]

    w, loss_of = _lbfgs_problem(dtype, scale)
    opt = torch.optim.LBFGS(w, lr=1, max_iter=max_iter, history_size=history, line_search_fn="strong_wolfe")

    def closure_torch():
        opt.zero_grad()
        loss = loss_of()
        loss.backward()
        return loss
    opt.step(closure_torch)
    assert n_ours == opt.state[w[0]]["n_iter"] > 1
    assert all(torch.equal(a, b.detach()) for a, b in zip(ours, w))
    assert not torch.equal(ours[0], _lbfgs_problem(dtype, scale)[0][0].detach())  # it moved


def test_lbfgs_at_an_optimum_returns_at_once():
    w = torch.nn.Parameter(torch.zeros(4))

    def closure():
        w.grad = None
        loss = w.pow(2).sum()
        loss.backward()
        return loss
    assert optim.lbfgs([w], closure) == 0 and torch.equal(w.detach(), torch.zeros(4))


def test_lbfgs_does_not_import_dynamo():
    code = ("import sys; sys.path.insert(0, 'src'); import torch; from recunlearn import optim;"
            "w = torch.nn.Parameter(torch.ones(3));"
            "c = lambda: (setattr(w, 'grad', None), (w - 2).pow(2).sum().backward())[1] or (w - 2).pow(2).sum();"
            "optim.lbfgs([w], c); print('torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
