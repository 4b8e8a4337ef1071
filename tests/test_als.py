"""Alternating least squares for WMF (optimizer: als): a step is the exact least-squares solve, a sweep never raises
the loss, it ends at or below the mini-batch optimiser's loss, and it serves WMF through the trainer."""

import numpy as np
import pytest
import torch

from recunlearn.als import ALSData, half_step, objective, sweep
from recunlearn.data import Interactions, split_per_user
from recunlearn.models import model_config
from recunlearn.synthetic import SyntheticConfig, generate
from recunlearn.train import fit


def data(n_users=60, n_items=80, seed=0):
    out = generate(SyntheticConfig(n_users=n_users, n_items=n_items, n_communities=3, mean_interactions=12,
                                   min_interactions=4, max_interactions=30, seed=seed))
    x = Interactions(out["user"], out["item"], n_users, n_items)
    label = split_per_user(x.user, n_users, (0.8, 0.1, 0.1), seed=1)
    return (Interactions(x.user[label == 0], x.item[label == 0], n_users, n_items),
            Interactions(x.user[label == 1], x.item[label == 1], n_users, n_items))


def test_a_user_step_with_as_many_iterations_as_dimensions_is_the_dense_solve():
    train, _ = data()
    d, c0, reg = 6, 0.2, 0.05
    g = torch.Generator().manual_seed(0)
    p = torch.randn(train.n_users, d, generator=g, dtype=torch.float64)
    q = torch.randn(train.n_items, d, generator=g, dtype=torch.float64)
    als = ALSData(train, "cpu", torch.float64)
    gram = q[als.items].T @ q[als.items]
    new = half_step(p[als.users], q, als.by_user, gram, c0, reg, steps=3 * d)
    # naive: each user's d x d system from its own items, solved densely
    for row, u in enumerate(als.users.tolist()):
        items = torch.from_numpy(train.item[train.user == u].astype(np.int64))
        qu = q[items]
        a = (1 - c0) * qu.T @ qu + c0 * gram + reg * torch.eye(d, dtype=torch.float64)
        expected = torch.linalg.solve(a, qu.sum(0))
        assert torch.allclose(new[row], expected, atol=1e-8), u


def test_sweeps_never_raise_the_loss_and_end_below_the_minibatch_optimiser():
    train, valid = data()
    c0, reg = 0.2, 0.0
    cfg = model_config("WMF", {"dim": 8, "optimizer": "als", "max_epochs": 15, "patience": 15, "als_cg_steps": 3,
                               "c0": c0, "als_reg": reg, "keep": "last"})
    res = fit("WMF", cfg, train, valid, seed=0)
    losses = [h["loss"] for h in res.history]
    assert all(b <= a + 1e-6 * abs(a) for a, b in zip(losses, losses[1:])), losses
    adagrad = fit("WMF", model_config("WMF", {"dim": 8, "max_epochs": 60, "patience": 60, "c0": c0, "keep": "last",
                                              "keep_prob": 1.0, "reg_weight": reg}), train, valid, seed=0)
    als = ALSData(train, "cpu")
    final_als = objective(res.model.user_emb, res.model.item_emb, als, c0, reg)
    final_adagrad = objective(adagrad.model.user_emb, adagrad.model.item_emb, als, c0, reg)
    assert final_als == pytest.approx(losses[-1], rel=1e-6)
    assert final_als <= final_adagrad, (final_als, final_adagrad)


def test_a_sweep_moves_only_rows_with_training_interactions_and_repeats_to_the_bit():
    train, _ = data()
    keep = train.user != 3  # user 3 has no training interaction left
    train = Interactions(train.user[keep], train.item[keep], train.n_users, train.n_items)
    runs = []
    for _ in range(2):
        g = torch.Generator().manual_seed(0)
        p, q = torch.randn(train.n_users, 5, generator=g), torch.randn(train.n_items, 5, generator=g)
        before = p[3].clone()
        sweep(p, q, ALSData(train, "cpu"), 0.2, 0.01, steps=3)
        assert torch.equal(p[3], before)
        runs.append((p, q))
    assert torch.equal(runs[0][0], runs[1][0]) and torch.equal(runs[0][1], runs[1][1])


def test_als_is_wmfs_alone():
    train, valid = data()
    bpr = model_config("BPR", {"dim": 8, "max_epochs": 1})
    with pytest.raises(ValueError, match="optimizer 'als' needs a model with a closed-form step"):
        fit("BPR", type(bpr)(**{**bpr.__dict__, "optimizer": "als"}), train, valid, seed=0)
    from recunlearn.config import load_schema
    from conftest import ROOT

    hp = load_schema(ROOT / "workflow" / "schemas" / "config.schema.yaml")["properties"]["hyperparameters"]["properties"]
    assert "als" in hp["WMF"]["properties"]["optimizer"]["enum"]
    assert "als" not in hp["BPR"]["properties"]["optimizer"]["enum"]
    assert "als" in model_config("WMF", {}).search_space["optimizer"]["choices"]  # the tuner may choose it
