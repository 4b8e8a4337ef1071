"""The approximate unlearning methods (recunlearn.approximate): the influence step's Hessian-vector products, its
solve, its exactness where the objective is quadratic, and a planted deletion."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recunlearn.approximate import options_for, unlearn
from recunlearn.approximate.base import fixed_negatives
from recunlearn.approximate.ifru import importance, select
from recunlearn.approximate.influence import Restricted, hessian_operator, influence_step
from recunlearn.data import Interactions
from recunlearn.models import model_class, model_config
from recunlearn.requests import without


def tiny(seed=0, n_users=6, n_items=7, per_user=3):
    rng = np.random.default_rng(seed)
    user = np.repeat(np.arange(n_users), per_user)
    item = np.concatenate([rng.choice(n_items, per_user, replace=False) for _ in range(n_users)])
    return Interactions(user, item, n_users, n_items)


def build(name, data, **params):
    torch.manual_seed(0)
    cfg = model_config(name, {"dim": 3, "init_std": 0.3, **params})
    return model_class(name)(data.n_users, data.n_items, cfg, data).double()


def dense_hessian(f, data, negatives):
    flat = int(np.prod(f.shape))
    return torch.autograd.functional.hessian(
        lambda x: f.objective(x.view(f.shape), data, negatives), torch.zeros(flat, dtype=torch.float64)).numpy()


@pytest.mark.parametrize("name", ["BPR", "WMF", "LightGCN"])
def test_hessian_vector_product_equals_the_dense_hessian_times_the_vector(name):
    data = tiny()
    model = build(name, data, **({"reg_weight": 0.01} if name != "WMF" else {}))
    negatives = fixed_negatives(model, data, seed=1)
    f = Restricted(model, np.array([0, 2]), np.array([1, 3, 4]))
    h = dense_hessian(f, data, negatives)
    x = np.random.default_rng(2).normal(size=h.shape[0])
    op = hessian_operator(f, data, negatives, damping=0.5)
    np.testing.assert_allclose(op.matvec(x), h @ x + 0.5 * x, rtol=1e-8, atol=1e-10)


def test_the_conjugate_gradient_solve_equals_a_dense_solve():
    data = tiny()
    model = build("WMF", data, optimizer="als", als_reg=0.5)
    deleted = np.zeros(len(data), bool)
    deleted[[0, 4]] = True
    kept = without(data, np.flatnonzero(deleted))
    users, items = np.array([0, 1]), np.array([2, 5])
    f = Restricted(model, users, items)
    v = f.zero()
    g = torch.autograd.grad(f.objective(v, data, None) - f.objective(v, kept, None), v)[0].numpy().ravel()
    h = dense_hessian(f, kept, None)
    expected = np.linalg.solve(h + 0.1 * np.eye(len(g)), g)
    before = torch.cat([model.user_emb[users], model.item_emb[items]]).detach().numpy().ravel()
    influence_step(model, data, kept, None, None, users, items, damping=0.1, cg_iterations=500, spillover=False)
    after = torch.cat([model.user_emb[users], model.item_emb[items]]).detach().numpy().ravel()
    np.testing.assert_allclose(after - before, expected, rtol=1e-6, atol=1e-9)


def exact_user_fit(model, data):
    """The user vectors minimising WMF's ALS objective over ``data`` with the items fixed (a dense solve)."""
    f = Restricted(model, np.arange(data.n_users), np.empty(0, np.int64))
    v = f.zero()
    g = torch.autograd.grad(f.objective(v, data, None), v)[0].numpy().ravel()
    h = dense_hessian(f, data, None)
    return (model.user_emb.detach().numpy().ravel() - np.linalg.solve(h, g)).reshape(model.user_emb.shape)


def test_one_influence_step_equals_the_exact_refit_where_the_objective_is_quadratic():
    """WMF's user rows with the items fixed: the objective is quadratic, so the step lands on the re-fit."""
    data = tiny(n_users=8, per_user=4)
    model = build("WMF", data, optimizer="als", als_reg=0.3)
    fitted = torch.from_numpy(exact_user_fit(model, data))
    with torch.no_grad():
        model.user_emb.copy_(fitted)  # trained: a minimiser in the users
    deleted = np.zeros(len(data), bool)
    deleted[[1, 5, 6, 13]] = True
    kept = without(data, np.flatnonzero(deleted))
    refit = exact_user_fit(model, kept)
    assert np.abs(refit - model.user_emb.detach().numpy()).max() > 1e-2  # the deletion moves the users
    influence_step(model, data, kept, None, None, np.unique(data.user[deleted]), np.empty(0, np.int64), damping=0.0,
                   cg_iterations=200, spillover=False)
    np.testing.assert_allclose(model.user_emb.detach().numpy(), refit, rtol=1e-7, atol=1e-9)


def planted(seed=0):
    """Two user groups, each liking its own half of the items; user 0 also liked three items of the other half."""
    rng = np.random.default_rng(seed)
    users, items = [], []
    for u in range(40):
        own = np.arange(10) if u < 20 else np.arange(10, 20)
        pick = rng.choice(own, 6, replace=False)
        users += [u] * 6
        items += pick.tolist()
    users += [0, 0, 0]
    items += [12, 15, 18]
    return Interactions(np.array(users), np.array(items), 40, 20)


@pytest.mark.parametrize("method", ["scif", "ifru"])
def test_a_planted_deletion_moves_the_model_toward_retrain(method):
    from recunlearn.train import fit

    data = planted()
    deleted = np.zeros(len(data), bool)
    deleted[-3:] = True  # user 0's three cross-group interactions
    kept = without(data, np.flatnonzero(deleted))
    cfg = model_config("WMF", {"dim": 4, "optimizer": "als", "als_reg": 1.0, "max_epochs": 30, "keep": "last",
                               "als_cg_steps": 4})
    original = fit("WMF", cfg, data, data, seed=0).model.double()
    retrain = fit("WMF", cfg, kept, kept, seed=0).model.double()

    def scores(m):
        p, q = m.embeddings()
        return (p[0] @ q[[12, 15, 18]].T).detach().numpy()

    served, info = unlearn(method, original, data, deleted, data, seed=0, device="cpu",
                           options={"damping": 0.0 if method == "scif" else 1e-3})
    assert info["users_updated"] >= 1
    before = np.abs(scores(original) - scores(retrain)).mean()
    after = np.abs(scores(served) - scores(retrain)).mean()
    assert after < 0.5 * before, (before, after)


def test_importance_scores_by_hand():
    # users 0, 1; items 0, 1 (nodes 2, 3); edges u0-i0, u0-i1, u1-i1; the deletion: u0-i0
    data = Interactions(np.array([0, 0, 1]), np.array([0, 1, 1]), 2, 2)
    deleted = np.array([True, False, False])
    degree = np.array([3, 2, 2, 3])  # with the self-loops
    s0 = np.array([1 / 3, 0, 1 / 2, 0])
    np.testing.assert_allclose(importance(data, deleted, 0), s0)
    # one hop: each node's degree-normalised sum over itself and its neighbours
    s1 = np.array([s0[0] + s0[2] + s0[3], s0[1] + s0[3], s0[2] + s0[0], s0[3] + s0[0] + s0[1]]) / degree
    np.testing.assert_allclose(importance(data, deleted, 1), s1)
    assert select(s1, 1.0).tolist() == [0, 2, 3]  # user 1 scores 0: not reached
    assert select(s1, 0.5).tolist() == [0, 2]


def test_an_unknown_setting_is_a_one_line_error():
    with pytest.raises(ValueError, match=r"approximate.scif: unknown key 'k_hops'"):
        options_for("scif", {"k_hops": 1})
    with pytest.raises(ValueError, match="unknown approximate method 'newton'"):
        options_for("newton", {})


@pytest.mark.parametrize("name", ["BPR", "LightGCN"])
def test_a_pairwise_objective_is_the_full_batch_loss_summed(name):
    """objective = N x calculate_loss of one batch of all N triples (mean loss plus reg * L2 / N)."""
    data = tiny()
    model = build(name, data, reg_weight=0.05)
    negatives = fixed_negatives(model, data, seed=3)
    batch = (torch.from_numpy(data.user), torch.from_numpy(data.item), negatives)
    expected = len(data) * model.calculate_loss(batch)
    torch.testing.assert_close(model.objective(data, negatives), expected)


def test_the_wmf_objective_is_the_naive_weighted_loss_plus_the_ridge():
    from recunlearn.als import ALSData, objective
    from recunlearn.losses import wmf_naive_loss

    data = tiny(n_items=9)
    model = build("WMF", data, optimizer="als", als_reg=0.7)
    users, items = np.unique(data.user), np.unique(data.item)
    position = {v: k for k, v in enumerate(items)}
    p, q = model.user_emb[torch.from_numpy(users)], model.item_emb[torch.from_numpy(items)]
    naive = wmf_naive_loss(p, q, torch.from_numpy(np.searchsorted(users, data.user)),
                           torch.tensor([position[i] for i in data.item]), model.cfg.c0) - len(data)
    ridge = 0.7 * (p.pow(2).sum() + q.pow(2).sum())
    got = model.objective(data)
    torch.testing.assert_close(got, naive + ridge)
    assert float(got.detach()) == pytest.approx(objective(model.user_emb, model.item_emb, ALSData(data, "cpu", torch.float64),
                                                 model.cfg.c0, 0.7), rel=1e-10)


@pytest.mark.parametrize("name", ["BPR", "WMF"])
def test_the_rows_a_step_sums_over_give_the_full_objective_s_gradient_and_hessian(name, monkeypatch):
    """``touching`` leaves out only terms constant in the updated rows: the same gradient and Hessian-vector product
    as the objective over every row."""
    data = tiny(n_users=10, n_items=12)
    model = build(name, data, **({"reg_weight": 0.01} if name == "BPR" else {}))
    negatives = fixed_negatives(model, data, seed=1)
    users, items = np.array([1, 4]), np.array([2])

    def grad_and_hvp():
        f = Restricted(model, users, items)
        v = f.zero()
        g = torch.autograd.grad(f.objective(v, data, negatives), v)[0].numpy().ravel()
        x = np.linspace(-1, 1, g.size)
        return g, hessian_operator(f, data, negatives, 0.0).matvec(x)

    g_part, h_part = grad_and_hvp()
    assert model.touching(data, negatives, users, items).sum() < len(data)  # the restriction leaves rows out
    monkeypatch.setattr(type(model), "touching", lambda self, d, n, u, i: np.ones(len(d.user), dtype=bool))
    g_all, h_all = grad_and_hvp()
    np.testing.assert_allclose(g_part, g_all, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h_part, h_all, rtol=1e-10, atol=1e-12)


def test_an_approximate_method_runs_with_torch_s_deterministic_algorithms_on_the_cpu():
    """As a training job does (``train.seed_everything``): one machine at one thread count, the same bits."""
    from recunlearn.train import deterministic_algorithms, fit

    data = planted()
    deleted = np.zeros(len(data), bool)
    deleted[-3:] = True
    cfg = model_config("WMF", {"dim": 4, "optimizer": "als", "max_epochs": 2, "keep": "last"})
    original = fit("WMF", cfg, data, data, seed=0).model
    deterministic_algorithms(False)
    try:
        unlearn("scif", original, data, deleted, data, seed=0, device="cpu")
        assert torch.are_deterministic_algorithms_enabled()
    finally:
        deterministic_algorithms(False)
