"""Aggregators: shapes, MeanAgg = average of sub-model scores, StaticAgg weights, attention weights sum to 1."""

import numpy as np
import pytest
import torch

from recunlearn.aggregate import AggregatorConfig, build
from recunlearn.data import Interactions
from recunlearn.sharded import train_aggregator

K, M, N, D = 4, 12, 9, 6


def subs(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(K, M, D, generator=g), torch.randn(K, N, D, generator=g)


def data():
    rng = np.random.default_rng(0)
    pairs = np.unique(np.stack([rng.integers(0, M, 60), rng.integers(0, N, 60)], 1), axis=0)
    return Interactions(pairs[:, 0], pairs[:, 1], M, N)


def test_mean_agg_is_the_average_of_submodel_scores():
    p, q = subs()
    agg = build("mean", p, q, AggregatorConfig(), data(), "bpr")
    scores = agg.full_sort_predict(torch.arange(M))
    expected = torch.stack([p[i] @ q[i].T for i in range(K)]).mean(0)
    assert torch.allclose(scores, expected, atol=1e-5)


def test_static_agg_weights_are_a_distribution_and_weight_the_scores():
    p, q = subs()
    agg = build("static", p, q, AggregatorConfig(), data(), "bpr")
    with torch.no_grad():
        agg.logits.copy_(torch.tensor([0.0, 1.0, 2.0, -1.0]))
    w = agg.weights()
    assert torch.all(w >= 0) and w.sum().item() == pytest.approx(1.0)
    expected = sum(w[i] * (p[i] @ q[i].T) for i in range(K))
    assert torch.allclose(agg.full_sort_predict(torch.arange(M)), expected, atol=1e-5)


def test_att_agg_shapes_and_attention_sums_to_one():
    p, q = subs()
    agg = build("att", p, q, AggregatorConfig(attention_size=5), data(), "bpr")
    users, items = agg.embeddings()
    assert users.shape == (M, D) and items.shape == (N, D)
    alpha, beta = agg.user_weights(torch.arange(M)), agg.item_weights(torch.arange(N))
    assert alpha.shape == (K, M) and beta.shape == (K, N)
    assert torch.allclose(alpha.sum(0), torch.ones(M)) and torch.allclose(beta.sum(0), torch.ones(N))
    assert (alpha >= 0).all() and (beta >= 0).all()
    # eq. 6.5-6.8 by hand for user 3
    tr = torch.stack([agg.W[i] @ p[i, 3] + agg.b[i] for i in range(K)])
    logits = torch.stack([agg.h1 @ torch.relu(agg.W1(tr[i])) for i in range(K)])
    assert torch.allclose(users[3], (torch.softmax(logits, 0)[:, None] * tr).sum(0), atol=1e-5)


@pytest.mark.parametrize("model,kind", [("BPR", "att"), ("WMF", "att"), ("LightGCN", "static"), ("WMF", "static")])
def test_trained_aggregators_keep_submodels_frozen(model, kind):
    p, q = subs()
    train = data()
    p0, q0 = p.clone(), q.clone()
    _, agg, res = train_aggregator(kind, model, {}, {"max_epochs": 2, "batch_size": 16}, p, q, train, train, 0, "cpu",
                                   "test")
    assert res.epochs_run >= 1
    assert torch.equal(agg.sub_p, p0) and torch.equal(agg.sub_q, q0)
    assert not any(name.startswith("sub_") for name, _ in agg.named_parameters())
