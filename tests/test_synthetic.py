"""The embedded synthetic dataset: seeded, sized as configured, and really structured."""

import numpy as np

from recunlearn.synthetic import SyntheticConfig, generate, write_synthetic
from recunlearn.readers import read_raw


def test_seeded_and_sized():
    cfg = SyntheticConfig()
    a, b = generate(cfg), generate(cfg)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    c = generate(SyntheticConfig(seed=cfg.seed + 1))
    assert not np.array_equal(a["item"], c["item"])
    n = len(a["user"])
    assert 60_000 <= n <= 100_000  # the demo's size (issue: ~1,000 x 1,500 x 60-100k)
    pairs = a["user"] * cfg.n_items + a["item"]
    assert len(np.unique(pairs)) == n  # no duplicates
    per_user = np.bincount(a["user"], minlength=cfg.n_users)
    assert per_user.min() >= cfg.min_interactions and per_user.max() <= cfg.max_interactions


def test_planted_communities_and_power_law_popularity():
    cfg = SyntheticConfig()
    out = generate(cfg)
    same = out["user_community"][out["user"]] == out["item_community"][out["item"]]
    assert abs(same.mean() - cfg.in_community) < 0.03  # versus 1/8 for structureless data
    pop = np.sort(np.bincount(out["item"], minlength=cfg.n_items))[::-1]
    top_share = pop[: cfg.n_items // 10].sum() / pop.sum()
    assert top_share > 0.25  # the top 10% of items hold far more than 10% of interactions
    # a log-log popularity curve that falls: slope of log(count) against log(rank) clearly negative
    ranks = np.arange(1, len(pop) + 1)
    keep = pop > 0
    slope = np.polyfit(np.log(ranks[keep]), np.log(pop[keep]), 1)[0]
    assert slope < -0.4


def test_written_file_reads_back(tmp_path):
    params = {"n_users": 50, "n_items": 80, "n_communities": 4, "mean_interactions": 10, "min_interactions": 3,
              "max_interactions": 30, "seed": 1}
    write_synthetic(params, tmp_path / "x.tsv", tmp_path / "c.npz")
    u, i = read_raw("csv", [(str(tmp_path / "x.tsv"), None)], {"sep": "\t"})
    ref = generate(SyntheticConfig(**params))
    assert np.array_equal(u, ref["user"]) and np.array_equal(i, ref["item"])
    with np.load(tmp_path / "c.npz") as z:
        assert np.array_equal(z["user_community"], ref["user_community"])
