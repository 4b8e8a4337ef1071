"""User-first triple sampling, sub-model validation sets and sub-model hyper-parameters (docs/report/ablation.md)."""

import numpy as np
import pytest
import torch

from recunlearn.config import submodel_hyperparameters
from recunlearn.data import Interactions
from recunlearn.models import model_config
from recunlearn.sampling import NegativeSampler, pair_batches, user_pair_batches
from recunlearn.sharded import shard_validation
from recunlearn.train import fit


def skewed():
    """User 0 has 90 interactions, users 1-9 have 2 each."""
    user = np.concatenate([np.zeros(90, dtype=np.int64), np.repeat(np.arange(1, 10), 2)])
    item = np.concatenate([np.arange(90), np.tile([90, 91], 9)])
    return Interactions(user, item, 11, 120)


def draw(fn, x, seed=0):
    g = torch.Generator().manual_seed(seed)
    parts = list(fn(x, NegativeSampler(x), 16, g))
    return [torch.cat([p[i] for p in parts]) for i in range(3)]


def test_user_sampling_weighs_users_equally_and_draws_their_own_positives():
    x = skewed()
    users, pos, neg = draw(user_pair_batches, x)
    assert len(users) == len(x)  # an epoch is |Y| triples
    counts = torch.bincount(users, minlength=11).numpy()
    assert counts[10] == 0  # a user without training interactions is never drawn
    # 108 draws over 10 users: about 10.8 each, while interaction sampling gives user 0 90 of them
    assert counts[0] < 25 and counts[1:10].sum() > 80
    keys = set((x.user * x.n_items + x.item).tolist())
    assert all(int(u) * x.n_items + int(i) in keys for u, i in zip(users, pos))
    assert not any(int(u) * x.n_items + int(j) in keys for u, j in zip(users, neg))
    assert draw(pair_batches, x)[0].bincount()[0] == 90


def test_user_sampling_is_seeded():
    x = skewed()
    a, b, c = draw(user_pair_batches, x, 3), draw(user_pair_batches, x, 3), draw(user_pair_batches, x, 4)
    assert all(torch.equal(s, t) for s, t in zip(a, b))
    assert not all(torch.equal(s, t) for s, t in zip(a, c))


def test_unknown_sampling_is_refused():
    x = skewed()
    with pytest.raises(ValueError, match="sampling 'users': expected interaction or user"):
        fit("BPR", model_config("BPR", {"sampling": "users", "max_epochs": 1}), x, x, 0, "cpu")


def test_shard_validation_keeps_what_the_sub_model_has_seen():
    shard = Interactions(np.array([0, 0, 1]), np.array([0, 1, 2]), 4, 5)
    valid = Interactions(np.array([0, 0, 1, 2, 1]), np.array([2, 3, 1, 0, 4]), 4, 5)
    users = shard_validation(valid, shard, "users")
    assert sorted(zip(users.user.tolist(), users.item.tolist())) == [(0, 2), (0, 3), (1, 1), (1, 4)]
    both = shard_validation(valid, shard, "shard")  # user and item both in the shard
    assert sorted(zip(both.user.tolist(), both.item.tolist())) == [(0, 2), (1, 1)]
    with pytest.raises(ValueError, match="expected shard or users"):
        shard_validation(valid, shard, "items")


def test_submodel_hyperparameters_override_retrains():
    config = {"hyperparameters": {"LightGCN": {"batch_size": 4096, "lr": 0.005}},
              "dataset_hyperparameters": {"d": {"LightGCN": {"lr": 0.01}}},
              "sharding": {"submodel_hyperparameters": {"LightGCN": {"batch_size": 1024}}}}
    assert submodel_hyperparameters(config, "d", "LightGCN") == {"batch_size": 1024, "lr": 0.01}
    assert submodel_hyperparameters(config, "d", "BPR") == {}


def test_the_dense_pair_table_draws_the_same_negatives_as_binary_search(monkeypatch):
    """The sampler answers "is this pair a training interaction?" from a dense bit-table when the id space is small
    enough, else by binary search in the sorted keys: the same answers, so the same seeded negatives, none of them
    a positive."""
    import recunlearn.sampling as sampling

    rng = np.random.default_rng(0)
    pairs = np.unique(np.stack([rng.integers(0, 30, 400), rng.integers(0, 25, 400)], 1), axis=0)
    x = Interactions(pairs[:, 0], pairs[:, 1], 30, 25)
    runs = []
    for limit in (1 << 28, 0):
        monkeypatch.setattr(sampling, "DENSE_PAIRS_MAX", limit)
        sampler = NegativeSampler(x)
        assert (sampler.dense is None) == (limit == 0)
        runs.append(draw(pair_batches, x, seed=3)[2])
    assert torch.equal(runs[0], runs[1])
    positives = set(zip(x.user.tolist(), x.item.tolist()))
    users, _, neg = draw(pair_batches, x, seed=3)
    assert not any((u, v) in positives for u, v in zip(users.tolist(), neg.tolist()))


def test_a_user_with_every_item_of_a_small_shard_draws_negatives_from_the_whole_catalogue():
    """A heavy user in a small shard (ml-100k's InBP at K = 20) may have every item the shard holds: its negatives
    come from the rest of the catalogue, the other users' from the shard's items as before."""
    user = np.array([0, 0, 0, 1, 2], dtype=np.int32)
    item = np.array([3, 5, 7, 3, 5], dtype=np.int32)
    shard = Interactions(user, item, 3, 10)
    sampler = NegativeSampler(shard)
    users = torch.tensor([0] * 200 + [1] * 200)
    neg = sampler.sample(users, torch.Generator().manual_seed(0))
    assert not set(neg[:200].tolist()) & {3, 5, 7} and set(neg[:200].tolist()) <= set(range(10))
    assert set(neg[200:].tolist()) <= {5, 7}  # user 1: the shard's items it has not seen
    # bits unchanged where no user has every item
    plain = Interactions(user[1:], item[1:], 3, 10)
    a = NegativeSampler(plain).sample(torch.tensor([0, 0, 1, 2]), torch.Generator().manual_seed(1))
    b = NegativeSampler(plain).sample(torch.tensor([0, 0, 1, 2]), torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="user 0 interacted with every item"):
        NegativeSampler(Interactions(np.zeros(10, dtype=np.int32), np.arange(10, dtype=np.int32), 1, 10))
