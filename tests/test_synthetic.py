"""The embedded synthetic dataset: seeded, sized as configured, and with the statistics its parameters say.

The demo's data must look like MovieLens-100K to a recommender (docs/guide/synthetic.md): long-tailed user activity
with a floor, a long-tailed item popularity, and a weak, overlapping community structure.
"""

import dataclasses

import numpy as np
import pytest

from recunlearn.readers import read_raw
from recunlearn.synthetic import (SyntheticConfig, activity_bounds, activity_mu, generate, taste_logits,
                                  write_synthetic)


@pytest.fixture(scope="module")
def default():
    cfg = SyntheticConfig()
    return cfg, generate(cfg)


def gini(counts):
    x = np.sort(counts.astype(np.float64))
    n = len(x)
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * x.sum()))


def test_seeded_and_sized(default):
    cfg, a = default
    b = generate(cfg)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    c = generate(SyntheticConfig(seed=cfg.seed + 1))
    assert not np.array_equal(a["item"], c["item"])
    n = len(a["user"])
    assert 60_000 <= n <= 85_000  # the demo's size: ~1,000 users x ~1,500 items, <= ~80k interactions
    assert 0.04 <= n / (cfg.n_users * cfg.n_items) <= 0.07  # ml-100k: 6.3%
    pairs = a["user"] * cfg.n_items + a["item"]
    assert len(np.unique(pairs)) == n  # no duplicates
    assert np.all(np.diff(pairs) > 0)  # sorted by user, then item


def test_chunking_does_not_change_the_data(default):
    cfg, a = default
    b = generate(cfg, chunk_users=97)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_one_parameter_does_not_redraw_the_others(default):
    cfg, a = default
    b = generate(dataclasses.replace(cfg, taste_sigma=0.5))
    for key in ("user_activity", "item_log_popularity", "user_membership", "item_membership"):
        assert np.array_equal(a[key], b[key]), key
    assert not np.array_equal(a["item"], b["item"])


def test_user_activity_is_the_configured_long_tail(default):
    cfg, out = default
    per_user = np.bincount(out["user"], minlength=cfg.n_users)
    assert np.array_equal(per_user, out["user_activity"])  # every user gets exactly its planned n_u
    lo, hi = activity_bounds(cfg)
    assert per_user.min() >= lo and per_user.max() <= hi
    excess = per_user - cfg.min_interactions
    inside = (excess >= 1) & (per_user < hi)  # neither rounded to the floor nor capped
    # log-normal excess: its log has the configured median and spread
    assert abs(np.median(np.log(excess[inside])) - activity_mu(cfg)) < 0.15
    assert abs(np.log(excess[inside]).std() - cfg.activity_sigma) < 0.15
    assert abs(per_user.mean() - cfg.mean_interactions) < 0.15 * cfg.mean_interactions
    # like ml-100k (min 20, median 65, mean 106, max 737): a floor, a median well below the mean, a long tail
    assert np.median(per_user) < 0.75 * per_user.mean()
    assert per_user.max() > 5 * np.median(per_user)


def test_item_popularity_is_long_tailed(default):
    cfg, out = default
    counts = np.bincount(out["item"], minlength=cfg.n_items)
    pop = np.sort(counts)[::-1]
    top_share = pop[: cfg.n_items // 10].sum() / pop.sum()
    assert 0.35 <= top_share <= 0.55  # ml-100k: the top 10% of items hold 43% of the ratings
    assert 0.5 <= gini(counts) <= 0.7  # ml-100k: 0.63
    assert (counts < 5).mean() >= 0.08  # a long tail of items almost nobody picks (ml-100k: 20%)
    # the realised popularity follows the latent one: rank correlation of counts with log pop_v
    rank = lambda v: np.argsort(np.argsort(v))
    assert np.corrcoef(rank(counts), rank(out["item_log_popularity"]))[0, 1] > 0.8
    assert abs(out["item_log_popularity"].std() - cfg.popularity_sigma) < 0.1 * cfg.popularity_sigma


def test_taste_has_the_configured_scale_and_drives_choices():
    cfg = SyntheticConfig(n_users=300, n_items=400, mean_interactions=40, seed=3)
    out = generate(cfg)
    taste = taste_logits(cfg, out["user_membership"], out["item_membership"])
    assert abs(taste.std() - cfg.taste_sigma) < 1e-6 and abs(taste.mean()) < 1e-6
    chosen = taste[out["user"], out["item"]].mean()
    assert chosen > 0.5 * cfg.taste_sigma  # users pick items they like
    flat = generate(dataclasses.replace(cfg, taste_sigma=0.0))
    assert abs(taste[flat["user"], flat["item"]].mean()) < 0.1  # no taste: choices ignore the memberships


def test_communities_are_weak_and_overlapping(default):
    cfg, out = default
    theta = out["user_membership"]
    assert np.allclose(theta.sum(1), 1) and np.allclose(out["item_membership"].sum(1), 1)
    assert np.array_equal(out["user_community"], theta.argmax(1))
    assert 0.1 < np.median(theta.max(1)) < 0.6  # mixed memberships: the dominant community is no monopoly
    same = out["user_community"][out["user"]] == out["item_community"][out["item"]]
    # more than chance (1/C), far from the old generator's hard blocks (80% in-community)
    assert 2.0 / cfg.n_communities < same.mean() < 0.4


def test_small_and_degenerate_configs():
    out = generate(SyntheticConfig(n_users=5, n_items=8, n_communities=1, min_interactions=3, max_interactions=20,
                                   mean_interactions=6, seed=0))  # capped at the catalogue; one community: no taste
    per_user = np.bincount(out["user"], minlength=5)
    assert per_user.min() >= 3 and per_user.max() <= 8


def test_written_file_reads_back(tmp_path):
    params = {"n_users": 50, "n_items": 80, "n_communities": 4, "mean_interactions": 10, "min_interactions": 3,
              "max_interactions": 30, "seed": 1}
    write_synthetic(params, tmp_path / "x.tsv", tmp_path / "c.npz")
    u, i = read_raw("csv", [(str(tmp_path / "x.tsv"), None)], {"sep": "\t"})
    ref = generate(SyntheticConfig(**params))
    assert np.array_equal(u, ref["user"].astype(str)) and np.array_equal(i, ref["item"].astype(str))  # ids are labels
    with np.load(tmp_path / "c.npz") as z:
        assert np.array_equal(z["user_community"], ref["user_community"])
        assert np.array_equal(z["item_membership"], ref["item_membership"])
