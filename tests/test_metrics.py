"""Recall@K / NDCG@K against hand-computed cases and a naive per-user implementation."""

import math

import numpy as np
import pytest
import torch

from recunlearn.data import Interactions
from recunlearn.metrics import evaluate, mostpop_scorer


def table(scores):
    s = torch.tensor(scores, dtype=torch.float32)
    return lambda users: s[users]


def inter(pairs, n_users, n_items):
    pairs = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return Interactions(pairs[:, 0], pairs[:, 1], n_users, n_items)


# user 0: train {0}; held-out {1, 3}. Scores rank (item 0 masked): 3, 5, 1, 4, 2 -> hits at ranks 1 and 3.
# user 1: no held-out item -> not evaluated.
# user 2: train {3}; held-out {2}. Ranking (3 masked): 2, 0, ... -> hit at rank 1.
SCORES = [
    [9, 5, 1, 8, 2, 7],
    [1, 2, 3, 4, 5, 6],
    [5, 1, 6, 9, 0, 2],
]
TRAIN = inter([(0, 0), (1, 1), (2, 3)], 3, 6)
HELD = inter([(0, 1), (0, 3), (2, 2)], 3, 6)


def test_hand_computed_k_below_heldout_size():
    m = evaluate(table(SCORES), HELD, [TRAIN], [1, 2])
    # K=1: user0 top {3} -> 1 hit of 2: recall .5, ndcg 1/1 (IDCG over min(2,1)=1 position); user2: recall 1, ndcg 1
    assert m[("Recall", 1)] == pytest.approx((0.5 + 1) / 2)
    assert m[("NDCG", 1)] == pytest.approx((1 + 1) / 2)
    # K=2: user0 top {3, 5} -> 1 hit: recall .5, DCG 1, IDCG 1 + 1/log2(3)
    idcg2 = 1 + 1 / math.log2(3)
    assert m[("Recall", 2)] == pytest.approx((0.5 + 1) / 2)
    assert m[("NDCG", 2)] == pytest.approx((1 / idcg2 + 1) / 2)


def test_hand_computed_k_above_heldout_size():
    m = evaluate(table(SCORES), HELD, [TRAIN], [5])
    # user0: hits at ranks 1 and 3: DCG 1 + 1/2, IDCG over min(2, 5) = 2 positions
    ndcg0 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert m[("Recall", 5)] == pytest.approx(1.0)
    assert m[("NDCG", 5)] == pytest.approx((ndcg0 + 1) / 2)


def test_masking_excludes_training_and_validation_items():
    # without masking both users' top-1 is their training item (0 and 3) -> no hit
    unmasked = evaluate(table(SCORES), HELD, [], [1])
    assert unmasked[("Recall", 1)] == 0.0
    assert evaluate(table(SCORES), HELD, [TRAIN], [1])[("Recall", 1)] == pytest.approx(0.75)
    # masking a validation item (3 of user 0) moves the held-out item 1 up
    valid = inter([(0, 3), (0, 5)], 3, 6)
    held = inter([(0, 1), (2, 2)], 3, 6)
    m = evaluate(table(SCORES), held, [TRAIN, valid], [1])
    assert m[("Recall", 1)] == pytest.approx(1.0)


def test_users_without_heldout_are_excluded():
    only0 = inter([(0, 1), (0, 3)], 3, 6)
    m = evaluate(table(SCORES), only0, [TRAIN], [2])
    assert m[("Recall", 2)] == pytest.approx(0.5)


def naive(scores, train, held, k):
    recalls, ndcgs = [], []
    for u in range(scores.shape[0]):
        h = set(held.get(u, ()))
        if not h:
            continue
        cand = [i for i in np.argsort(-scores[u], kind="stable") if i not in train.get(u, ())]
        top = cand[:k]
        hits = [1.0 if i in h else 0.0 for i in top]
        recalls.append(sum(hits) / len(h))
        dcg = sum(x / math.log2(r + 2) for r, x in enumerate(hits))
        idcg = sum(1 / math.log2(r + 2) for r in range(min(len(h), k)))
        ndcgs.append(dcg / idcg)
    return float(np.mean(recalls)), float(np.mean(ndcgs))


@pytest.mark.parametrize("batch", [1, 7, 1000])
def test_matches_naive_on_random_data(batch):
    rng = np.random.default_rng(0)
    n_users, n_items = 40, 30
    scores = rng.permutation(n_users * n_items).reshape(n_users, n_items).astype(np.float32)  # no ties
    pairs = np.unique(rng.integers(0, [n_users, n_items], size=(300, 2)), axis=0)
    is_held = rng.random(len(pairs)) < 0.3
    train, held = pairs[~is_held], pairs[is_held]
    tr = {u: set(train[train[:, 0] == u, 1]) for u in range(n_users)}
    hd = {u: list(held[held[:, 0] == u, 1]) for u in range(n_users)}
    m = evaluate(table(scores), inter(held, n_users, n_items), [inter(train, n_users, n_items)], [5, 10],
                 batch_users=batch)
    for k in (5, 10):
        r, n = naive(scores, tr, hd, k)
        assert m[("Recall", k)] == pytest.approx(r)
        assert m[("NDCG", k)] == pytest.approx(n)


def test_mostpop_ranks_by_training_popularity():
    train = inter([(0, 2), (1, 2), (2, 2), (0, 1), (1, 1), (2, 0)], 4, 4)
    scores = mostpop_scorer(train)(torch.tensor([3]))
    assert torch.equal(scores[0], torch.tensor([1.0, 2.0, 3.0, 0.0]))
    held = inter([(3, 2)], 4, 4)
    assert evaluate(mostpop_scorer(train), held, [train], [1])[("Recall", 1)] == 1.0
