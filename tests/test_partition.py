"""Partitions: disjoint covers within their cap, seeded, the greedy's equal, planted clusters recovered."""

import math

import numpy as np
import pytest

from recunlearn.data import Interactions
from recunlearn.partition import capped_assignment, greedy_assignment, partition
from recunlearn.registry import PARTITIONS


@pytest.mark.parametrize("n,k,cap", [(50, 4, 13), (200, 7, 35), (30, 3, 10), (100, 5, 100)])
def test_deferred_acceptance_equals_global_greedy(n, k, cap):
    rng = np.random.default_rng(n + k)
    dist = rng.random((n, k))
    a = capped_assignment(dist, cap)
    assert np.array_equal(a, greedy_assignment(dist, cap))
    assert np.bincount(a, minlength=k).max() <= cap and (a >= 0).all()


def test_capped_assignment_refuses_an_impossible_cap():
    with pytest.raises(ValueError, match="no capped assignment exists"):
        capped_assignment(np.zeros((10, 3)), 3)


def planted(n_clusters=4, users_per=30, items_per=20, seed=0):
    """Users and items in planted clusters: embeddings near cluster centres, interactions within clusters."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, 8)) * 5
    uc = np.repeat(np.arange(n_clusters), users_per)
    ic = np.repeat(np.arange(n_clusters), items_per)
    user_emb = centres[uc] + rng.normal(size=(len(uc), 8)) * 0.3
    item_emb = centres[ic] + rng.normal(size=(len(ic), 8)) * 0.3
    pairs = [(u, i) for u in range(len(uc)) for i in rng.choice(np.flatnonzero(ic == uc[u]), 6, replace=False)]
    pairs = np.array(pairs)
    train = Interactions(pairs[:, 0], pairs[:, 1], len(uc), len(ic))
    return train, user_emb, item_emb, uc, ic


@pytest.mark.parametrize("name", list(PARTITIONS))
def test_disjoint_cover_within_cap_and_seeded(name):
    train, ue, ie, _, _ = planted()
    k = 4
    shard, stats = partition(name, train, k, seed=1, user_emb=ue, item_emb=ie)
    assert shard.shape == (len(train),) and shard.min() >= 0 and shard.max() < k  # each interaction in one shard
    assert sum(stats["interactions"]) == len(train)
    if name == "ot":  # UltraRE's: users whole, in groups whose sizes differ by at most one
        owner = {u: set(shard[train.user == u]) for u in np.unique(train.user)}
        assert all(len(s) == 1 for s in owner.values())
        assert max(stats["users"]) - min(stats["users"]) <= 1 and stats["group_sizes"] == stats["users"]
    elif name in ("ubp", "bekm"):
        owner = {u: set(shard[train.user == u]) for u in np.unique(train.user)}
        assert all(len(s) == 1 for s in owner.values())  # a user's interactions stay together
        assert max(stats["users"]) <= stats["cap"]
    elif name == "ibp":
        assert max(stats["items"]) <= stats["cap"]
    elif name == "inbp":
        assert max(stats["interactions"]) <= math.ceil(1.2 * len(train) / k) == stats["cap"]
    else:
        assert max(stats["interactions"]) - min(stats["interactions"]) <= 1
    again, _ = partition(name, train, k, seed=1, user_emb=ue, item_emb=ie)
    assert np.array_equal(shard, again)


@pytest.mark.parametrize("name", ["ubp", "inbp", "bekm", "ot"])
def test_planted_clusters_are_recovered(name):
    train, ue, ie, uc, _ = planted()
    shard, stats = partition(name, train, 4, seed=3, user_emb=ue, item_emb=ie)
    # every planted cluster ends up (almost) whole in one shard: purity of shards w.r.t. the users' clusters
    purity = sum(np.bincount(uc[train.user[shard == s]]).max() for s in range(4) if (shard == s).any()) / len(train)
    assert purity > 0.95, (purity, stats)


def test_random_partition_ignores_structure():
    train, ue, ie, uc, _ = planted()
    shard, _ = partition("random", train, 4, seed=3)
    purity = sum(np.bincount(uc[train.user[shard == s]]).max() for s in range(4)) / len(train)
    assert purity < 0.5


def test_scalar_centroid_bug_option_changes_the_result():
    train, ue, ie, uc, _ = planted()
    good, _ = partition("inbp", train, 4, seed=3, user_emb=ue, item_emb=ie)
    bad, _ = partition("inbp", train, 4, seed=3, user_emb=ue, item_emb=ie, scalar_bug=True)
    assert not np.array_equal(good, bad)


@pytest.mark.parametrize("name", list(PARTITIONS))
def test_each_partition_declares_the_options_it_takes(name):
    """The workflow and the benchmarks pass a partition exactly the options it declares (registry.py)."""
    from recunlearn.experiments import partition_options

    sharding = {"slack": 1.5, "rounds": 3, "bekm_rounds": 2, "scalar_centroid_bug": False}
    options = partition_options(name, sharding)
    train, ue, ie, _, _ = planted()
    shard, _ = partition(name, train, 4, seed=1, user_emb=ue, item_emb=ie, **options)  # every option is accepted
    assert len(shard) == len(train)
    with pytest.raises(ValueError, match="unknown partition 'kmeans'"):
        partition_options("kmeans", sharding)


@pytest.mark.parametrize("n,k", [(6, 2), (7, 3), (8, 4)])
def test_ot_assignment_equals_brute_force(n, k):
    """The transport assignment of n units to K groups of sizes differing by at most one has the least total cost
    of every such assignment (enumerated), and is one."""
    import itertools

    from recunlearn.partition import ot_assignment

    rng = np.random.default_rng(n * 10 + k)
    cost = rng.random((n, k))
    sizes = np.full(k, n // k) + (np.arange(k) < n % k)
    group = ot_assignment(cost, sizes)
    assert np.array_equal(np.bincount(group, minlength=k), sizes)
    best = min(cost[np.arange(n), list(g)].sum() for g in itertools.product(range(k), repeat=n)
               if np.array_equal(np.bincount(g, minlength=k), sizes))
    assert cost[np.arange(n), group].sum() == pytest.approx(best)
