"""The membership-inference check: its AUC against a naive count, members matched by user, a model that memorised
the members flagged, an exact retrain passed, and a learned attack that never sees a member while it trains."""

import numpy as np
import pytest
import torch

from recunlearn.data import Interactions
from recunlearn.forgetting import (
    auc, bootstrap_auc, check, features, members_and_nonmembers, shadow_pairs)
from recunlearn.metrics import embedding_scorer
from recunlearn.models import model_config
from recunlearn.train import fit
from recunlearn.requests import without

from conftest import write_synthetic_splits


def test_auc_equals_the_pairwise_count_with_ties_one_half():
    rng = np.random.default_rng(0)
    v = rng.integers(0, 5, 40).astype(float)  # many ties
    m = rng.integers(0, 2, 40).astype(bool)
    naive = np.mean([1.0 if a > b else 0.5 if a == b else 0.0 for a in v[m] for b in v[~m]])
    assert auc(v, m) == pytest.approx(naive)
    value, lo, hi = bootstrap_auc(v, m, seed=1, n_boot=200)
    assert value == pytest.approx(naive) and lo <= value <= hi
    assert auc(np.r_[2.0, 3.0, 0.0, 1.0], np.r_[True, True, False, False]) == 1.0


def test_non_members_are_test_interactions_of_the_same_users():
    test = Interactions(np.array([0, 0, 1, 2]), np.array([5, 6, 7, 8]), 4, 10)
    deleted = Interactions(np.array([0, 0, 0, 1, 3]), np.array([1, 2, 3, 4, 9]), 4, 10)
    p = members_and_nonmembers(deleted, test, seed=0)
    non = ~p.member.astype(bool)
    assert p.member.sum() == 5 and non.sum() == 5
    assert sorted(p.item[non][:3]) in ([5, 5, 6], [5, 6, 6])  # user 0: both test items, then one again
    assert p.user[non][3] == 1 and p.item[non][3] == 7
    assert (p.user[non][4], p.item[non][4]) in set(zip(test.user, test.item))  # user 3 has none: any test pair


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from recunlearn.data import load_interactions

    paths = write_synthetic_splits(tmp_path_factory.mktemp("f"), 120, 150, 30)
    train, valid, test = (load_interactions(paths[s]) for s in ("train", "valid", "test"))
    rows = np.random.default_rng(3).choice(len(train.user), 300, replace=False)
    cfg = model_config("BPR", {"dim": 16, "max_epochs": 30, "patience": 30, "lr": 0.2, "reg_weight": 0.0,
                               "keep": "last"})
    original = fit("BPR", cfg, train, valid, 0, "cpu").model
    retrain = fit("BPR", cfg, without(train, rows), valid, 0, "cpu").model
    return train, valid, test, rows, original, retrain


def scorer(model):
    with torch.no_grad():
        return embedding_scorer(*model.embeddings())


def test_the_original_model_is_flagged_and_an_exact_retrain_is_not(trained):
    train, valid, test, rows, original, retrain = trained
    out = {r["method"]: r for r in check({"original": scorer(original), "Retrain": scorer(retrain)}, train, rows,
                                          valid, test, seed=0, n_shadow=2000, n_boot=300)}
    o, r = out["original"], out["Retrain"]
    assert o["members"] == 300
    assert o["score_auc_low"] > 0.5 and o["rank_auc_low"] > 0.5 and o["learned_auc_low"] > 0.5  # memorised
    assert r["score_auc_low"] <= 0.5 <= r["score_auc_high"] and r["rank_auc_low"] <= 0.5 <= r["rank_auc_high"]
    # MIO, trained on each served model's own shadow scores: it judges the members of the model trained with them
    # members far more often than Retrain's, and Retrain's members about as often as its non-members
    assert o["mio_members"] > o["mio_nonmembers"] + 0.1 and o["mio_members"] > r["mio_members"] + 0.1
    assert abs(r["mio_members"] - r["mio_nonmembers"]) < 0.1


def test_a_planted_memorising_model_is_flagged(trained):
    """A served model that was in effect trained with the members (their scores raised) is caught."""
    train, valid, test, rows, original, retrain = trained
    base = scorer(retrain)
    member = torch.zeros(train.n_users, train.n_items)
    member[torch.from_numpy(train.user[rows]), torch.from_numpy(train.item[rows])] = 1.0

    def planted(users):
        return base(users) + 5.0 * member[users]

    out = {r["method"]: r for r in check({"original": scorer(original), "planted": planted, "Retrain": base},
                                          train, rows, valid, test, seed=0, n_shadow=2000, n_boot=300)}
    assert out["planted"]["score_auc_low"] > 0.9 and out["planted"]["learned_auc_low"] > 0.5
    assert out["Retrain"]["score_auc_low"] <= 0.5


def test_the_learned_attack_never_trains_on_a_member(trained):
    train, valid, test, rows, original, retrain = trained
    kept = without(train, rows)
    shadow = shadow_pairs(kept, valid, 5000, seed=1)
    members = set(zip(train.user[rows].tolist(), train.item[rows].tolist()))
    assert not members & set(zip(shadow.user.tolist(), shadow.item.tolist()))
    assert shadow.member.sum() == min(5000, len(kept.user)) and (~shadow.member.astype(bool)).sum() > 0


def test_rank_percentile_counts_the_items_outside_the_training_set_above_a_pair():
    train = Interactions(np.array([0, 0]), np.array([0, 1]), 1, 5)
    scores = torch.tensor([[9.0, 1.0, 3.0, 2.0, 0.0]])
    x = features(lambda users: scores[users], np.array([0, 0, 0]), np.array([1, 2, 4]), train,
                 np.ones(5), np.ones(1))
    # candidates: items 2, 3, 4 (items 0 and 1 are training items); above item 1 (score 1): 2 and 3
    assert x[:, 0].tolist() == [1.0, 3.0, 0.0] and x[:, 1].tolist() == [2 / 3, 0.0, 2 / 3]
    # the score standardised over the candidates' scores (3, 2, 0: mean 5/3, population std sqrt(14/9))
    assert np.allclose(x[:, 4], (np.array([1.0, 3.0, 0.0]) - 5 / 3) / np.sqrt(14 / 9))
