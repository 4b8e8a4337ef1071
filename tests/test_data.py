"""Preprocessing: remapping, duplicates, the per-user split, the on-disk format and its fingerprint."""

import json

import numpy as np
import pytest

from recunlearn.data import (Interactions, interactions_sha256, load_interactions, preprocess, remap,
                             save_interactions, split_per_user)


def random_user_data(seed=0, n_users=200, n_items=300):
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 60, n_users)
    user = np.repeat(np.arange(n_users), counts)
    item = np.concatenate([rng.choice(n_items, c, replace=False) for c in counts])
    return user, item, counts


def test_remap_drops_duplicates_and_maps_sorted_ids():
    u, i, uk, ik = remap(np.array([10, 10, 5, 10, 7]), np.array(["b", "b", "a", "c", "a"]))
    assert list(uk) == [5, 7, 10] and list(ik) == ["a", "b", "c"]
    assert sorted(zip(u.tolist(), i.tolist())) == [(0, 0), (1, 0), (2, 1), (2, 2)]


def test_split_is_a_disjoint_seeded_cover_with_the_ratios():
    user, item, counts = random_user_data()
    label = split_per_user(user, len(counts), (0.8, 0.1, 0.1), seed=3)
    assert label.shape == user.shape and set(np.unique(label)) <= {0, 1, 2}  # every row in exactly one split
    again = split_per_user(user, len(counts), (0.8, 0.1, 0.1), seed=3)
    other = split_per_user(user, len(counts), (0.8, 0.1, 0.1), seed=4)
    assert np.array_equal(label, again) and not np.array_equal(label, other)
    for u, n in enumerate(counts):
        lab = label[user == u]
        if n < 3:
            assert (lab == 0).all()  # fewer than 3 interactions: all kept in train
        else:
            exp = max(1, int(np.floor(n * 0.1 + 0.5)))
            assert (lab == 2).sum() == exp and (lab == 1).sum() == exp
            assert (lab == 0).sum() == n - 2 * exp >= 1
    big = counts >= 30
    frac = np.bincount(label[np.isin(user, np.flatnonzero(big))], minlength=3) / counts[big].sum()
    assert frac == pytest.approx([0.8, 0.1, 0.1], abs=0.02)


def test_split_is_random_within_users():
    user = np.zeros(1000, dtype=np.int64)
    label = split_per_user(user, 1, (0.8, 0.1, 0.1), seed=0)
    test_pos = np.flatnonzero(label == 2)
    assert 200 < test_pos.mean() < 800  # not the first or last rows


def test_fingerprint_ignores_order_and_sees_every_pair():
    u, i = np.array([0, 1, 2]), np.array([5, 4, 3])
    h = interactions_sha256(u, i, 3, 6)
    assert h == interactions_sha256(u[::-1], i[::-1], 3, 6)
    assert h != interactions_sha256(u[:2], i[:2], 3, 6)
    assert h != interactions_sha256(u, i, 3, 7)


def test_save_load_round_trip_and_range_check(tmp_path):
    x = Interactions(np.array([0, 2]), np.array([1, 0]), 3, 2)
    save_interactions(tmp_path / "x.npz", x)
    y = load_interactions(tmp_path / "x.npz")
    assert y.sha256() == x.sha256() and (y.n_users, y.n_items) == (3, 2)
    assert [p.name for p in tmp_path.iterdir()] == ["x.npz"]  # no temporary left
    save_interactions(tmp_path / "bad.npz", Interactions(np.array([0, 3]), np.array([1, 0]), 3, 2))
    with pytest.raises(ValueError, match=r"row 1: user id 3 out of range \[0, 3\)"):
        load_interactions(tmp_path / "bad.npz")


def test_preprocess_writes_splits_maps_and_stats(tmp_path):
    user, item, counts = random_user_data(n_users=50)
    raw_user = user * 10 + 1  # sparse raw ids
    raw_user = np.concatenate([raw_user, raw_user[:5]])  # 5 duplicate rows
    raw_item = np.concatenate([item, item[:5]])
    stats = preprocess(raw_user, raw_item, tmp_path, seed=1, name="toy")
    on_disk = json.loads((tmp_path / "stats.json").read_text())
    assert on_disk == stats
    assert stats["duplicates_dropped"] == 5 and stats["interactions"] == len(user)
    parts = [load_interactions(tmp_path / f"{s}.npz") for s in ("train", "valid", "test")]
    assert sum(len(p) for p in parts) == stats["interactions"]
    keys = [set((p.user * p.n_items + p.item).tolist()) for p in parts]
    assert not (keys[0] & keys[1]) and not (keys[0] & keys[2]) and not (keys[1] & keys[2])
    assert stats["density"] == pytest.approx(len(user) / (stats["users"] * stats["items"]))
    users_csv = (tmp_path / "users.csv").read_text().splitlines()
    assert users_csv[0] == "id,raw_id" and users_csv[1] == f"0,{raw_user.min()}"


def test_stale_temporaries_of_a_killed_writer_are_removed(tmp_path):
    from recunlearn.data import atomic_path, write_atomic

    dead = tmp_path / ".x.json.999999999.tmp"  # no such pid
    dead.write_text("half")
    write_atomic(tmp_path / "x.json", "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.json"]
    assert atomic_path(tmp_path / "x.json").name.endswith(".tmp")


def test_atomic_write_replaces_on_success_and_leaves_the_old_file_on_failure(tmp_path):
    from recunlearn.data import atomic_write

    path = tmp_path / "sub" / "out.txt"
    with atomic_write(path) as tmp:
        tmp.write_text("first")
    assert path.read_text() == "first"
    with pytest.raises(RuntimeError):
        with atomic_write(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed mid-write")
    assert path.read_text() == "first"  # untouched
    assert sorted(p.name for p in path.parent.iterdir()) == ["out.txt"]  # no temporary left
