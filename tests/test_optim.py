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
