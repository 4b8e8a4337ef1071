"""Aggregators: shapes, MeanAgg = average of sub-model scores, StaticAgg weights, attention weights sum to 1."""

import numpy as np
import pytest
import torch

from recunlearn.aggregators import AggregatorConfig, build
from recunlearn.aggregators.group import user_groups
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


def test_user_groups_are_each_users_majority_shard():
    train = Interactions(np.array([0, 0, 0, 1, 1, 3]), np.array([0, 1, 2, 0, 1, 2]), 5, 3)
    # user 0: shards 2, 2, 1 -> 2; user 1: one in 0, one in 1 -> the lower, 0; users 2 and 4: none; user 3: 1
    assert user_groups(train, [2, 2, 1, 0, 1, 1], 3).tolist() == [2, 0, -1, 1, -1]
    with pytest.raises(ValueError, match="5 shard ids for 6 training interactions"):
        user_groups(train, [0, 0, 0, 0, 0], 3)


def test_group_agg_scores_each_user_with_its_own_groups_embedding_against_every_models_items():
    """UltraRE's combiner by hand: y_uv = 1/K sum_i p_u^{g(u)} . q_v^i, g(u) the user's shard; a user with no
    training interaction is scored as MeanAgg scores."""
    p, q = subs()
    full = data()
    keep = full.user != M - 1  # the last user has no training interaction
    train = Interactions(full.user[keep], full.item[keep], M, N)
    shard = train.user % K  # a user partition: all of a user's interactions in shard u mod K
    agg = build("group", p, q, AggregatorConfig(), train, "bpr", shard=shard)
    scores = agg.full_sort_predict(torch.arange(M))
    for u in range(M):
        if u in set(train.user.tolist()):
            want = torch.stack([p[u % K, u] @ q[i].T for i in range(K)]).mean(0)
        else:
            want = torch.stack([p[i, u] @ q[i].T for i in range(K)]).mean(0)
        assert torch.allclose(scores[u], want, atol=1e-5), u
    assert agg.home.tolist() == [u % K for u in range(M - 1)] + [-1]
    # its groups are part of its state: rebuilt without the shards and loaded, it scores the same
    again = build("group", p, q, AggregatorConfig(), train, "bpr")
    again.load_state_dict(agg.state_dict())
    assert torch.equal(again.full_sort_predict(torch.arange(M)), scores)
    with pytest.raises(ValueError, match="aggregator 'group' needs each training interaction's shard"):
        train_aggregator("group", "BPR", {}, {}, p, q, train, train, 0, "cpu", "no shards")


def test_memb_agg_weights_standardised_scores_by_shard_membership():
    """MembAgg by hand: y_uv = exp(s) sum_i w_ui m_vi z_uv^i, z standardised over all items per (user, sub-model),
    w_u = softmax(alpha log(a_u + eps) + c), m_vi = (b_vi + eps)^beta from the shares of interactions per shard."""
    p, q = subs()
    train = data()
    shard = (train.user + train.item) % K
    agg = build("memb", p, q, AggregatorConfig(), train, "bpr", shard=shard)
    with torch.no_grad():
        agg.alpha.fill_(0.7), agg.beta.fill_(1.3), agg.log_scale.fill_(0.2), agg.bias.copy_(torch.arange(K) / 10)
    a, b = np.zeros((M, K)), np.zeros((N, K))
    for u, i, s_ in zip(train.user, train.item, shard):
        a[u, s_] += 1
        b[i, s_] += 1
    a = torch.tensor(a / np.maximum(a.sum(1, keepdims=True), 1), dtype=torch.float32)
    b = torch.tensor(b / np.maximum(b.sum(1, keepdims=True), 1), dtype=torch.float32)
    raw = torch.stack([p[i] @ q[i].T for i in range(K)])  # [K, M, N]
    z = (raw - raw.mean(2, keepdim=True)) / raw.std(2, unbiased=False, keepdim=True)
    w = torch.softmax(0.7 * torch.log(a + 1e-3) + torch.arange(K) / 10, dim=1)  # [M, K]
    m = (b + 1e-3) ** 1.3  # [N, K]
    want = torch.exp(torch.tensor(0.2)) * torch.einsum("mk,nk,kmn->mn", w, m, z)
    assert torch.allclose(agg.full_sort_predict(torch.arange(M)), want, atol=1e-4)


def test_refit_users_minimises_each_users_weighted_squares_over_its_shards_items():
    """refit_users by hand: for sub-model i and user u, the p minimising sum_{v in V_i} c_uv (r_uv - p . q_v^i)^2 +
    lambda_i |p|^2 (c = 1 on the user's training items, c0 elsewhere; V_i the items of shard i; lambda_i = reg x the
    mean squared coordinate sum_{v in V_i} q_v^2 / D), in float64."""
    from recunlearn.aggregators.membership import refit_users

    p, q = subs()
    train = data()
    shard = (train.user * 3 + train.item) % K
    c0, reg = 0.3, 0.5
    got = refit_users(q, train, shard, c0, reg)
    r = np.zeros((M, N))
    r[train.user, train.item] = 1
    for i in range(K):
        held = np.unique(train.item[shard == i])
        qi = q[i].double().numpy()[held]  # [|V_i|, D]
        for u in range(M):
            c = np.where(r[u, held] > 0, 1.0, c0)
            a = (qi * c[:, None]).T @ qi + reg * (qi ** 2).sum() / D * np.eye(D)
            want = np.linalg.solve(a, (qi * (c * r[u, held])[:, None]).sum(0))
            assert np.allclose(got[i, u].numpy(), want, atol=1e-4), (i, u)
    assert got.shape == (K, M, D)


def test_refit_users_after_a_request_solves_only_what_changed_and_gives_the_same_bits(monkeypatch):
    """The re-fit after a deletion and one retrained sub-model reuses the last re-fit's rows whose inputs did not
    change: bit for bit the re-fit from nothing, and far fewer systems solved."""
    from recunlearn.aggregators import membership as aggregate
    from recunlearn.partition import random_partition

    train, _ = planted(n_users=400, n_items=120, per_user=15)
    shard, _ = random_partition(train, K, 0)
    g = torch.Generator().manual_seed(3)
    q = torch.randn(K, train.n_items, D, generator=g)
    cache = {}  # what a sequential unlearning run keeps between its re-fits
    aggregate.refit_users(q, train, shard, 0.2, 2.0, cache=cache)  # the state before the request
    gone = np.flatnonzero(train.user == 7)[:3]  # three interactions of user 7
    keep = np.setdiff1d(np.arange(len(train)), gone)
    reduced = Interactions(train.user[keep], train.item[keep], train.n_users, train.n_items)
    retrained = int(shard[gone[0]])
    q2 = q.clone()
    q2[retrained] = torch.randn(train.n_items, D, generator=g)
    solved = []
    real = aggregate._solve_rows
    monkeypatch.setattr(aggregate, "_solve_rows", lambda *a: solved.append(len(a[3])) or real(*a))
    again = aggregate.refit_users(q2, reduced, shard[keep], 0.2, 2.0, cache=cache)
    assert sum(solved) < 2 * train.n_users  # the retrained sub-model's users, and user 7 in the others
    solved.clear()
    fresh = aggregate.refit_users(q2, reduced, shard[keep], 0.2, 2.0)  # no cache: no state between calls
    assert sum(solved) == K * train.n_users
    assert torch.equal(again, fresh)


def test_refit_agg_is_membership_aggregation_of_the_refitted_raw_scores():
    """RefitAgg = MembAgg over refit_users' vectors, on the raw scores over their root mean square; refit_reg > 0
    and the shards are needed."""
    from recunlearn.aggregators.membership import refit_users

    p, q = subs()
    train = data()
    shard = (train.user + train.item) % K
    agg = build("refit", p, q, AggregatorConfig(refit_reg=2.0), train, "wmf", shard=shard, c0=0.2)
    with torch.no_grad():
        agg.alpha.fill_(0.7), agg.beta.fill_(1.3), agg.log_scale.fill_(0.2), agg.bias.copy_(torch.arange(K) / 10)
    memb = build("memb", refit_users(q, train, shard, 0.2, 2.0), q, AggregatorConfig(), train, "wmf", shard=shard)
    w = torch.softmax(0.7 * memb.log_a + torch.arange(K) / 10, dim=1)  # [M, K], the shares' logs as MembAgg's
    m = torch.exp(1.3 * memb.log_b)  # [N, K]
    raw = torch.einsum("kmd,knd->kmn", memb.sub_p, q)
    raw = raw / raw.pow(2).mean().sqrt()  # one scale for all: the scores' root mean square
    want = torch.exp(torch.tensor(0.2)) * torch.einsum("mk,nk,kmn->mn", w, m, raw)
    assert torch.allclose(agg.full_sort_predict(torch.arange(M)), want, atol=1e-4)
    assert torch.equal(agg.mu, torch.zeros(K, M)) and len(agg.sigma.unique()) == 1
    with pytest.raises(ValueError, match="refit_reg 0.0: expected a number > 0"):
        build("refit", p, q, AggregatorConfig(refit_reg=0.0), train, "wmf", shard=shard)
    with pytest.raises(ValueError, match="needs each training interaction's shard"):
        build("refit", p, q, AggregatorConfig(), train, "wmf")


@pytest.mark.determinism
def test_memb_agg_solve_lowers_its_loss_and_is_deterministic_at_two_threads():
    from recunlearn.partition import random_partition

    train, valid = planted()
    shard, _ = random_partition(train, 3, 0)
    g = torch.Generator().manual_seed(1)
    p, q = torch.randn(3, train.n_users, 8, generator=g), torch.randn(3, train.n_items, 8, generator=g)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        runs = [train_aggregator("memb", "BPR", {}, {"triples": 500}, p, q, train, valid, 3, "cpu", "memb",
                                 shard=shard) for _ in range(2)]
    finally:
        torch.set_num_threads(previous)
    (_, one, res), (_, two, _) = runs
    assert res.epochs_run >= 1 and res.train_seconds > 0
    assert all(torch.equal(x, y) for x, y in zip(one.state_dict().values(), two.state_dict().values()))
    start = build("memb", p, q, AggregatorConfig(), train, "bpr", shard=shard)
    assert any(not torch.equal(x, y) for x, y in zip(one.state_dict().values(), start.state_dict().values()))


def test_memb_agg_fit_stays_finite_or_says_so(monkeypatch):
    """MembAgg's weights exp(beta log b) and scale exp(s) are bounded (exp(30)), so a line search that overshoots
    (RefitAgg over ALS sub-models went to beta = -7, exp(50), and ended NaN) keeps finite trials; a fit that still
    ends non-finite raises instead of serving NaN weights."""
    from recunlearn.aggregators import membership

    assert torch.isfinite(membership._exp(torch.tensor([1e4]))).all()
    assert membership._exp(torch.tensor([2.0])).item() == pytest.approx(torch.exp(torch.tensor(2.0)).item())
    train, _ = planted()
    from recunlearn.partition import random_partition

    shard, _ = random_partition(train, 3, 0)
    g = torch.Generator().manual_seed(1)
    p, q = torch.randn(3, train.n_users, 8, generator=g), torch.randn(3, train.n_items, 8, generator=g)
    agg = build("memb", p, q, AggregatorConfig(triples=200), train, "bpr", shard=shard)

    def diverging(params, closure, **_):
        closure()
        with torch.no_grad():
            params[0].fill_(float("nan"))
        return 1

    monkeypatch.setattr(membership, "lbfgs", diverging)
    with pytest.raises(FloatingPointError, match="non-finite"):
        agg.solve(0)


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


def planted(n_users=300, n_items=200, groups=4, per_user=30, seed=0):
    """Users who draw most of their items from their own group of items, split 80/10/10 per user."""
    from recunlearn.data import split_per_user

    rng = np.random.default_rng(seed)
    g_user = rng.integers(0, groups, n_users)
    g_item = np.arange(n_items) % groups
    own = rng.random((n_users, n_items)) + 2.0 * (g_user[:, None] == g_item[None, :])
    pop = np.log(np.arange(1, n_items + 1))[rng.permutation(n_items)] * 0.3  # some items more popular
    keys = own - pop[None, :]
    item = np.argsort(-keys, axis=1)[:, :per_user].ravel()
    user = np.repeat(np.arange(n_users), per_user)
    label = split_per_user(user, n_users, (0.8, 0.1, 0.1), seed)
    return [Interactions(user[label == s], item[label == s], n_users, n_items) for s in (0, 1)]


@pytest.mark.parametrize("model", ["BPR", "WMF"])
def test_trained_att_agg_is_not_below_mean_agg_and_lowers_its_loss(model):
    """Regression: AttAgg trained over the same sub-models reaches at least MeanAgg's validation Recall@10, and
    its training loss falls (it once ended far below MeanAgg for WMF on real data; docs/report/ablation.md)."""
    from recunlearn.metrics import embedding_scorer, evaluate
    from recunlearn.partition import random_partition
    from recunlearn.sharded import shard_interactions, train_submodel

    torch.set_num_threads(1)
    train, valid = planted()
    k = 3
    assign, _ = random_partition(train, k, 0)
    params = {"max_epochs": 40, "patience": 5, "lr": 0.05, "batch_size": 128}
    ps, qs = [], []
    for i in range(k):
        _, res = train_submodel(model, params, shard_interactions(train, None, i, assign=assign), valid, 0, "cpu", "t")
        p, q = res.model.embeddings()
        ps.append(p.detach()), qs.append(q.detach())
    sub_p, sub_q = torch.stack(ps), torch.stack(qs)

    def recall(agg):
        p, q = agg.embeddings()
        return evaluate(embedding_scorer(p.detach(), q.detach()), valid, [train], [10])[("Recall", 10)]

    _, mean, _ = train_aggregator("mean", model, params, {}, sub_p, sub_q, train, valid, 0, "cpu", "mean")
    _, att, res = train_aggregator("att", model, params, {"max_epochs": 15, "patience": 15}, sub_p, sub_q, train,
                                   valid, 0, "cpu", "att")
    losses = [h["loss"] for h in res.history if h["epoch"] > 0]
    assert losses[-1] < losses[0]
    assert res.best_epoch > 0, "the trained attention never beat its untrained start"
    assert recall(att) >= recall(mean) > 0.05


def test_att_agg_options_start_regularise_and_drop_out_as_configured():
    p, q = subs()
    torch.manual_seed(0)
    agg = build("att", p, q, AggregatorConfig(), data(), "bpr")  # the authors' start: normal W_i, h = 0.01
    alpha = agg.user_weights(torch.arange(M))
    assert torch.allclose(alpha, torch.full_like(alpha, 1 / K), atol=0.05)  # attention starts (nearly) uniform
    assert not torch.allclose(agg.W[0], torch.eye(D), atol=0.3)
    assert torch.allclose(agg.regulariser(), agg.W.pow(2).sum() + agg.b.pow(2).sum())  # attention MLPs not in it
    full = build("att", p, q, AggregatorConfig(reg_attention=True), data(), "bpr")
    assert full.regulariser() > full.W.pow(2).sum() + full.b.pow(2).sum()
    ident = build("att", p, q, AggregatorConfig(init="identity"), data(), "bpr")
    assert torch.allclose(ident.W[0], torch.eye(D), atol=0.1) and ident.b.abs().max() == 0
    # dropout (keep 0.7) on the aggregated users while training only
    agg.train()
    dropped = agg.aggregated_users(torch.arange(M))
    assert (dropped == 0).float().mean() > 0.1
    agg.eval()
    assert torch.equal(agg.aggregated_users(torch.arange(M)), agg.users(torch.arange(M)))
    with pytest.raises(ValueError, match="expected identity or normal"):
        build("att", p, q, AggregatorConfig(init="xavier"), data(), "bpr")


def test_untrained_start_is_kept_when_no_epoch_beats_it():
    """StaticAgg starts as MeanAgg; with a zero learning rate no epoch can beat it, and epoch 0 is what is kept."""
    p, q = subs()
    train = data()
    _, agg, res = train_aggregator("static", "BPR", {}, {"max_epochs": 3, "patience": 3, "lr": 1e-12,
                                                         "batch_size": 16}, p, q, train, train, 0, "cpu", "t")
    assert res.history[0]["epoch"] == 0 and res.best_epoch == 0
    assert torch.allclose(agg.weights(), torch.full((K,), 1 / K))


@pytest.mark.parametrize("kind", ["static", "att"])
@pytest.mark.parametrize("per_pair", [0, 10**9])  # the row-wise and the score-matrix ways of scoring a BPR batch
def test_bpr_batch_loss_equals_the_naive_loss(kind, per_pair, monkeypatch):
    """However a batch is scored (rows, one score matrix, StaticAgg's frozen per-sub-model scores of the pairs or
    of every (user, item)), the loss is
    mean softplus(y_uj - y_ui) + reg of the aggregated embeddings, as computed naively from embeddings()."""
    import recunlearn.aggregators.base as agg_base
    import recunlearn.aggregators.static as agg_mod
    from recunlearn.aggregators import AggregatorConfig, build

    monkeypatch.setattr(agg_base, "SCORE_MATRIX_PER_PAIR", per_pair)
    monkeypatch.setattr(agg_mod, "STATIC_SCORES_MAX", 0 if per_pair else 1 << 26)  # StaticAgg: rows, all scores
    torch.manual_seed(0)
    k, m, n, d = 3, 9, 11, 4
    train = Interactions(np.arange(m).repeat(2), (np.arange(2 * m) * 5) % n, m, n)
    model = build(kind, torch.randn(k, m, d), torch.randn(k, n, d), AggregatorConfig(keep_prob=1.0), train, "bpr")
    if kind == "static":
        model.logits.data = torch.tensor([0.3, -0.2, 0.5])
    users = torch.tensor([0, 1, 1, 4, 8, 8, 2])
    pos, neg = torch.tensor([0, 5, 5, 9, 1, 7, 2]), torch.tensor([3, 3, 10, 0, 1, 6, 4])
    p, q = model.embeddings()
    naive = torch.nn.functional.softplus((p[users] * q[neg]).sum(-1) - (p[users] * q[pos]).sum(-1)).mean()
    naive = naive + model.cfg.reg_weight * model.regulariser()
    assert torch.allclose(model.calculate_loss((users, pos, neg)), naive, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("table", [0, 1 << 26])  # the pairs' scores from embedding rows, or from the full table
def test_static_agg_wmf_loss_with_its_cached_item_gram_equals_the_plain_loss(table, monkeypatch):
    import recunlearn.aggregators.static as agg_mod
    from recunlearn.aggregators.base import _Aggregator
    from recunlearn.aggregators.static import StaticAgg
    from recunlearn.sampling import user_batches

    monkeypatch.setattr(agg_mod, "STATIC_SCORES_MAX", table)

    train = data()
    model = build("static", *subs(), AggregatorConfig(), train, "wmf")
    model.logits.data = torch.tensor([0.3, -0.2, 0.5, 0.0])
    for batch in user_batches(train, 5, torch.Generator().manual_seed(0)):
        got = StaticAgg.calculate_loss(model, batch)
        got.backward()
        grad, model.logits.grad = model.logits.grad.clone(), None
        want = _Aggregator.calculate_loss(model, batch)
        want.backward()
        assert torch.allclose(got, want, rtol=1e-6) and torch.allclose(grad, model.logits.grad, rtol=1e-5)
        model.logits.grad = None


@pytest.mark.parametrize("loss", ["bpr", "wmf"])
@pytest.mark.parametrize("table", [0, 1 << 26])
def test_static_agg_trains_to_the_same_bits_with_its_cached_positive_scores(loss, table, monkeypatch):
    """StaticAgg scores the training interactions once and looks their scores up; an epoch of training gives the
    same weights, bit for bit, as scoring every pair of every batch afresh (the path it replaces)."""
    import recunlearn.aggregators.static as agg_mod
    from recunlearn.aggregators.static import StaticAgg
    from recunlearn.sampling import NegativeSampler
    from recunlearn.train import epoch_batches, make_optimizer, train_epoch

    monkeypatch.setattr(agg_mod, "STATIC_SCORES_MAX", table)
    train = data()
    cfg = AggregatorConfig(batch_size=7 if loss == "bpr" else 5, lr=0.5)
    runs = []
    for cached in (True, False):
        if not cached:
            monkeypatch.setattr(StaticAgg, "_positive_scores", StaticAgg._submodel_scores)
        torch.manual_seed(0)
        model = build("static", *subs(), cfg, train, loss)
        opt = make_optimizer(cfg, [model.logits])
        g = torch.Generator().manual_seed(3)
        sampler = NegativeSampler(train) if loss == "bpr" else None
        for _ in range(2):
            train_epoch(model, opt, epoch_batches(model, cfg, train, sampler, g), "cpu")
        runs.append(model.logits.detach().clone())
    assert not torch.equal(runs[0], torch.zeros_like(runs[0]))
    assert torch.equal(runs[0], runs[1])


@pytest.mark.determinism
def test_softmax_is_torchs_and_the_same_bits_at_one_and_two_threads():
    """aggregators.softmax equals torch.softmax; unlike it (over K = 10 sub-models of 3,000 users: forward over a
    non-last dim, backward over any), its values and gradients do not depend on the number of CPU threads. This
    bit-identity across threads is asserted because the function pins what it depends on: element-wise kernels and
    K-term sums over a non-last dim (the threads split the users, never one user's K terms), no BLAS call."""
    from recunlearn.aggregators import softmax

    previous, out = torch.get_num_threads(), {}
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            g = torch.Generator().manual_seed(1)
            x = torch.randn(10, 3000, generator=g, requires_grad=True)
            y = softmax(x, dim=0)
            (y * torch.randn(10, 3000, generator=g)).sum().backward()
            out[threads] = (y.detach(), x.grad)
            assert torch.allclose(y, torch.softmax(x, dim=0), atol=1e-6)
            assert torch.allclose(softmax(x.T, dim=-1), torch.softmax(x.T, dim=-1), atol=1e-6)
    finally:
        torch.set_num_threads(previous)
    assert torch.equal(out[1][0], out[2][0]) and torch.equal(out[1][1], out[2][1])


@pytest.mark.determinism
@pytest.mark.parametrize("aggregator", ["static", "att", "memb", "refit"])
def test_aggregators_train_to_the_same_bits_twice_at_each_thread_count(aggregator):
    """Same seed, data and thread count: the same aggregator twice, bit for bit, with the same validation history.
    Between 1 and 2 threads the bits may differ (MKL's code path decides: docs/guide/running.md, "Reproducibility"); the validation
    Recall@20 agrees within the stated tolerance."""
    from recunlearn.metrics import embedding_scorer, evaluate
    from recunlearn.partition import random_partition
    from recunlearn.reproducibility import TOLERANCE

    train, valid = planted(n_users=3000, n_items=400, per_user=12)
    shard, _ = random_partition(train, 10, 0)
    g = torch.Generator().manual_seed(1)
    p, q = torch.randn(10, train.n_users, 16, generator=g), torch.randn(10, train.n_items, 16, generator=g)
    previous, recall = torch.get_num_threads(), {}
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            runs = []
            for _ in range(2):
                _, agg, res = train_aggregator(aggregator, "BPR", {}, {"max_epochs": 2, "triples": 2000}, p, q,
                                               train, valid, 3, "cpu", aggregator, shard=shard)
                runs.append((agg.state_dict(), [h["valid_recall@10"] for h in res.history]))
            (one, history), (two, again) = runs
            assert all(torch.equal(x, y) for x, y in zip(one.values(), two.values())) and history == again
            with torch.no_grad():
                recall[threads] = evaluate(embedding_scorer(*agg.embeddings()), valid, [train], [20])[("Recall", 20)]
    finally:
        torch.set_num_threads(previous)
    assert recall[1] > 0 and abs(recall[1] - recall[2]) <= TOLERANCE


def _informative(m=40, n=30, d=4, k=4, seed=0):
    """Interactions drawn from one low-rank truth; sub-model 0 is the truth, the others ever noisier copies."""
    g = torch.Generator().manual_seed(seed)
    p, q = torch.randn(m, d, generator=g), torch.randn(n, d, generator=g)
    top = torch.topk(p @ q.T + 0.5 * torch.randn(m, n, generator=g), 8, dim=1).indices.numpy()
    users, items = np.repeat(np.arange(m), 8), top.reshape(-1)
    label = np.tile(np.array([0, 0, 0, 0, 0, 0, 1, 1]), m)
    train = Interactions(users[label == 0], items[label == 0], m, n)
    valid = Interactions(users[label == 1], items[label == 1], m, n)
    sub_p = torch.stack([p + 1.5 * i * torch.randn(m, d, generator=g) for i in range(k)])
    sub_q = torch.stack([q + 1.5 * i * torch.randn(n, d, generator=g) for i in range(k)])
    return sub_p, sub_q, train, valid


@pytest.mark.parametrize("model", ["BPR", "WMF"])
def test_static_agg_fit_through_its_score_table_equals_the_embedding_path(model, monkeypatch):
    """With the score table, StaticAgg trains and validates on w . (K frozen scores) read from it; without it (past
    STATIC_SCORES_MAX) on the sub-models' embedding rows and the concatenated embeddings' dot product. Both give the
    same validation history and best epoch, and the same weights up to float rounding."""
    import recunlearn.aggregators.static as agg_mod

    sub_p, sub_q, train, valid = _informative()
    agg = {"lr": 0.5, "max_epochs": 8, "patience": 8, "batch_size": 16}
    base = {"batch_size": 8} if model == "WMF" else {}
    runs = []
    for table in (1 << 28, 0):
        monkeypatch.setattr(agg_mod, "STATIC_SCORES_MAX", table)
        _, fitted, res = train_aggregator("static", model, base, agg, sub_p, sub_q, train, valid, 0, "cpu", "t")
        assert (fitted._table() is None) == (table == 0)
        runs.append(([h["valid_recall@10"] for h in res.history], res.best_epoch, fitted.weights().detach()))
    (recalls, best, w), (recalls_rows, best_rows, w_rows) = runs
    assert len(set(recalls)) > 1 and best > 0 and w[0] > 0.5  # it learns: sub-model 0, the truth, gains weight
    assert recalls == recalls_rows and best == best_rows
    assert torch.allclose(w, w_rows, rtol=1e-5, atol=1e-7)


def test_static_agg_validation_scorer_reads_the_score_table():
    """Its validation scores are w . the K sub-models' scores, as the concatenated embeddings' dot product gives."""
    sub_p, sub_q, train, _ = _informative()
    model = build("static", sub_p, sub_q, AggregatorConfig(), train, "bpr")
    model.logits.data = torch.tensor([0.3, -0.2, 0.5, 0.0])
    users = torch.tensor([5, 0, 39, 7])
    p, q = model.embeddings()
    assert torch.allclose(model.validation_scorer()(users), p[users] @ q.T, rtol=1e-5, atol=1e-5)
    naive = sum(model.weights()[i] * sub_p[i, users] @ sub_q[i].T for i in range(4))
    assert torch.allclose(model.validation_scorer()(users), naive, rtol=1e-5, atol=1e-5)
