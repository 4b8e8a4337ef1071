"""Interaction sets: the compact on-disk format, their fingerprint, preprocessing and the per-user split.

On disk a split is ``<split>.npz`` with int32 ``user`` and ``item`` arrays and the scalars ``n_users`` and
``n_items`` (the id ranges of the whole dataset, so every split and shard shares one id space).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class Interactions:
    """A set of (user, item) pairs in a dataset with ``n_users`` users and ``n_items`` items."""

    user: np.ndarray
    item: np.ndarray
    n_users: int
    n_items: int

    def __len__(self) -> int:
        return len(self.user)

    def sha256(self) -> str:
        return interactions_sha256(self.user, self.item, self.n_users, self.n_items)

    def csr(self) -> tuple[np.ndarray, np.ndarray]:
        """(indptr, items) with each user's items contiguous and sorted; computed once and shared (callers must not
        write to them): the trainer asks for them every epoch and every validation."""
        cached = self.__dict__.get("_csr")
        if cached is None:
            order = np.lexsort((self.item, self.user))
            indptr = np.zeros(self.n_users + 1, dtype=np.int64)
            np.cumsum(np.bincount(self.user, minlength=self.n_users), out=indptr[1:])
            cached = (indptr, self.item[order].astype(np.int64))
            object.__setattr__(self, "_csr", cached)
        return cached


def interactions_sha256(user: np.ndarray, item: np.ndarray, n_users: int, n_items: int) -> str:
    """Order-independent fingerprint of an interaction set (used by every artefact's sidecar)."""
    key = np.sort(np.asarray(user, dtype=np.int64) * int(n_items) + np.asarray(item, dtype=np.int64))
    h = hashlib.sha256(f"{int(n_users)}x{int(n_items)}:".encode())
    h.update(key.astype("<i8").tobytes())
    return h.hexdigest()


def atomic_path(path: str | Path) -> Path:
    """A temporary sibling of ``path`` to write to before ``os.replace``.

    Temporaries left by a writer that was killed (SIGKILL, power loss) are removed here, when the artefact is
    written again, so an interrupted and resumed run leaves no half-written file behind.
    """
    path = Path(path)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        pid = stale.name[len(path.name) + 2 : -len(".tmp")]
        if pid.isdigit() and not _alive(int(pid)):
            stale.unlink(missing_ok=True)
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def atomic_write(path: str | Path) -> Iterator[Path]:
    """The one atomic writer: yields a temporary sibling of ``path`` (its folder made if missing) to write to. When
    the block ends normally the temporary replaces ``path`` in one rename; whatever goes wrong in it, the temporary
    is removed and ``path`` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = atomic_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: str | Path, data: bytes | str) -> None:
    with atomic_write(path) as tmp:
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)


def write_json(path: str | Path, obj) -> None:
    write_atomic(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file (hashlib's, read in chunks): what sidecars, the audit and the downloads check."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def read_json(path: str | Path):
    """A JSON artefact, or a one-line error naming the file when it is not JSON (cut short, or edited by hand)."""
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); it is "
                         "a generated file: delete it and run again to rebuild it") from None


def save_interactions(path: str | Path, x: Interactions) -> None:
    with atomic_write(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, user=x.user.astype(np.int32), item=x.item.astype(np.int32),
                 n_users=np.int64(x.n_users), n_items=np.int64(x.n_items))


def load_interactions(path: str | Path) -> Interactions:
    try:
        with np.load(path) as z:
            x = Interactions(z["user"].astype(np.int64), z["item"].astype(np.int64), int(z["n_users"]),
                             int(z["n_items"]))
    except FileNotFoundError:
        raise
    except Exception as exc:  # BadZipFile, EOFError, a missing array, ...: say which file
        raise ValueError(f"{path}: not a readable interaction set (truncated or corrupt? delete it and rerun): "
                         f"{type(exc).__name__}: {exc}") from None
    check_ids(x, str(path))
    return x


def check_ids(x: Interactions, label: str) -> None:
    """Raise ValueError if a user or item id is outside [0, n)."""
    for name, ids, n in (("user", x.user, x.n_users), ("item", x.item, x.n_items)):
        if len(ids) and (ids.min() < 0 or ids.max() >= n):
            bad = int(np.flatnonzero((ids < 0) | (ids >= n))[0])
            raise ValueError(f"{label}: row {bad}: {name} id {int(ids[bad])} out of range [0, {n})")


def remap(raw_user: np.ndarray, raw_item: np.ndarray):
    """Drop duplicate pairs and map raw ids to 0..M-1, 0..N-1. Returns ids and the maps (the raw labels in order).

    Raw ids are labels (text from the readers): distinct labels stay distinct (``01`` and ``1`` are two users). They
    are numbered in numeric order when every label is a string of digits (``_label_order``), otherwise in text order.
    """
    user_keys, user = _labels(raw_user)
    item_keys, item = _labels(raw_item)
    pairs = np.unique(user.astype(np.int64) * len(item_keys) + item, return_index=False)
    return pairs // len(item_keys), pairs % len(item_keys), user_keys, item_keys


def _labels(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct labels, index of each raw value in them)."""
    raw = np.asarray(raw)
    if raw.dtype.kind in "iu":
        return np.unique(raw, return_inverse=True)
    digits = _ascii_digits(raw.astype(str))
    # canonical decimal labels (no leading zero, at most 18 digits) map one-to-one to int64: the fast exact path
    if digits is not None and digits.shape[1] <= 18 and not ((digits[:, 0] == 48) & (digits[:, 1:] != 0).any(1)).any():
        keys, inverse = np.unique(digits.view(f"S{digits.shape[1]}").ravel().astype(np.int64), return_inverse=True)
        return keys.astype(str), inverse
    keys, inverse = np.unique(raw.astype(str), return_inverse=True)
    order = _label_order(keys)
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys))
    return keys[order], rank[inverse]


def _ascii_digits(labels: np.ndarray) -> np.ndarray | None:
    """The labels as a [n, width] uint8 matrix (NUL-padded) if every one is a non-empty string of ASCII digits."""
    try:
        raw = labels.astype("S")
    except UnicodeEncodeError:
        return None
    if len(raw) == 0 or raw.dtype.itemsize == 0:
        return None
    b = raw.view(np.uint8).reshape(len(raw), raw.dtype.itemsize)
    ok = (((b >= 48) & (b <= 57)) | (b == 0)).all() and (b[:, 0] != 0).all()
    return b if ok else None


def _label_order(keys: np.ndarray) -> np.ndarray:
    """Numeric order of digit labels of any length (by value, then as text: ``01`` before ``1``); text order else."""
    if _ascii_digits(keys) is None:
        return np.arange(len(keys))
    stripped = np.char.lstrip(keys, "0")
    return np.lexsort((keys, stripped, np.char.str_len(stripped)))


def split_per_user(user: np.ndarray, n_users: int, ratios: tuple[float, float, float], seed: int,
                   min_user_interactions: int = 3) -> np.ndarray:
    """Split label (0 train, 1 valid, 2 test) of each interaction: each user's interactions at random.

    A user with n >= min_user_interactions interactions gets max(1, round(n * valid)) validation and
    max(1, round(n * test)) test interactions (when that ratio is > 0) and keeps the rest, always at least one,
    for training; a user with fewer keeps everything in train.
    """
    _, r_valid, r_test = ratios
    n = len(user)
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    order = order[np.argsort(user[order], kind="stable")]  # grouped by user, random within a user
    counts = np.bincount(user, minlength=n_users)
    starts = np.cumsum(counts) - counts
    rank = np.arange(n) - np.repeat(starts, counts)
    eligible = counts >= min_user_interactions

    def share(r):
        k = np.floor(counts * r + 0.5).astype(np.int64)
        return np.where(eligible & (r > 0), np.maximum(k, 1), 0)

    n_test = share(r_test)
    n_valid = share(r_valid)
    over = np.maximum(n_test + n_valid - (counts - 1), 0)  # keep >= 1 training interaction
    n_valid = np.maximum(n_valid - over, 0)
    user_sorted = user[order]
    label_sorted = np.zeros(n, dtype=np.int8)
    label_sorted[rank < n_test[user_sorted]] = 2
    label_sorted[(rank >= n_test[user_sorted]) & (rank < (n_test + n_valid)[user_sorted])] = 1
    label = np.empty(n, dtype=np.int8)
    label[order] = label_sorted
    return label


def check_evaluation_splits(label: np.ndarray, user: np.ndarray, n_users: int, ratios, min_user_interactions: int,
                            name: str = "") -> None:
    """Refuse a split whose validation or test set is empty: early stopping would run on nothing and every metric
    would be 0, so nothing is written and nothing is trained."""
    for code, split in ((1, "valid"), (2, "test")):
        if not (label == code).any():
            eligible = int((np.bincount(user, minlength=n_users) >= min_user_interactions).sum())
            raise ValueError(
                f"{name}: the {split} split would be empty (split.{split} = {ratios[code]}; {eligible} of {n_users} "
                f"users have split.min_user_interactions = {min_user_interactions} or more interactions, the others "
                f"keep all theirs in train); validation and test need at least one interaction"
            )


def _dataset_stats(name: str, n_users: int, n_items: int, n_interactions: int, n_raw: int) -> dict:
    """The head of stats.json: sizes, density and the duplicates dropped from the raw rows."""
    return {"dataset": name, "users": n_users, "items": n_items, "interactions": int(n_interactions),
            "density": float(n_interactions / (n_users * n_items)), "raw_rows": int(n_raw),
            "duplicates_dropped": int(n_raw - n_interactions)}


def _write_splits(out_dir: Path, user, item, label, n_users: int, n_items: int, user_keys, item_keys,
                  stats: dict) -> None:
    """Write train/valid/test (``label`` 0/1/2 of each interaction), the id maps and ``stats.json`` (each split's
    counts and sha256 added to ``stats``)."""
    for code, split in enumerate(SPLITS):
        sel = label == code
        part = Interactions(user[sel], item[sel], n_users, n_items)
        save_interactions(out_dir / f"{split}.npz", part)
        stats[split] = {
            "interactions": int(sel.sum()),
            "users": int(len(np.unique(part.user))),
            "items": int(len(np.unique(part.item))),
            "sha256": part.sha256(),
        }
    for kind, keys in (("users", user_keys), ("items", item_keys)):
        frame = pd.DataFrame({"id": np.arange(len(keys)), "raw_id": keys})
        write_atomic(out_dir / f"{kind}.csv", frame.to_csv(index=False))
    write_json(out_dir / "stats.json", stats)


def preprocess(raw_user, raw_item, out_dir: str | Path, ratios=(0.8, 0.1, 0.1), seed: int = 2022,
               min_user_interactions: int = 3, name: str = "") -> dict:
    """Implicit 1s, duplicates dropped, ids remapped, per-user split; writes the splits, maps and stats.json."""
    out_dir = Path(out_dir)
    n_raw = len(raw_user)
    log.info("%s: %d raw interactions; remapping ids and dropping duplicates", name, n_raw)
    user, item, user_keys, item_keys = remap(raw_user, raw_item)
    n_users, n_items = len(user_keys), len(item_keys)
    log.info("%s: %d users, %d items, %d interactions (%d duplicates dropped); splitting with seed %d",
             name, n_users, n_items, len(user), n_raw - len(user), seed)
    label = split_per_user(user, n_users, ratios, seed, min_user_interactions)
    check_evaluation_splits(label, user, n_users, ratios, min_user_interactions, name)
    stats = {
        **_dataset_stats(name, n_users, n_items, len(user), n_raw),
        "split": {"ratios": list(ratios), "seed": seed, "min_user_interactions": min_user_interactions},
    }
    _write_splits(out_dir, user, item, label, n_users, n_items, user_keys, item_keys, stats)
    log.info("%s: train %d / valid %d / test %d", name, stats["train"]["interactions"],
             stats["valid"]["interactions"], stats["test"]["interactions"])
    return stats


def split_given(user: np.ndarray, n_users: int, in_test: np.ndarray, valid: float, seed: int,
                min_user_interactions: int = 3) -> np.ndarray:
    """Split label (0 train, 1 valid, 2 test) of each interaction under the ``given`` protocol (docs/report/protocol.md):
    the interactions of the test file (``in_test``) are the test set; each user's train-file interactions give
    max(1, round(n * valid)) validation interactions at random (seeded; a user with fewer than
    ``min_user_interactions`` of them, or with one, keeps them all in train) and the rest train."""
    label = np.full(len(user), 2, dtype=np.int8)
    train = ~np.asarray(in_test, dtype=bool)
    label[train] = split_per_user(user[train], n_users, (1.0 - valid, valid, 0.0), seed, min_user_interactions)
    return label


def preprocess_given(train_raw: tuple[np.ndarray, np.ndarray], test_raw: tuple[np.ndarray, np.ndarray],
                     out_dir: str | Path, valid: float = 0.1, seed: int = 2022, min_user_interactions: int = 3,
                     name: str = "") -> dict:
    """Like :func:`preprocess`, for a dataset that ships its own train and test files (split mode ``given``).

    Ids are remapped over both files together, so train and test share one id space (as in the LightGCN and
    RecEraser code). The test file's distinct pairs are exactly the test set; a pair in both files stays in test
    and leaves train (counted in ``stats.json`` as ``given.in_both_files``). Test interactions whose user or
    item has no training interaction are kept, as the authors' code keeps them, and counted (``given.cold_*``).
    """
    out_dir = Path(out_dir)
    n_train_raw, n_test_raw = len(train_raw[0]), len(test_raw[0])
    raw_user = np.concatenate([np.asarray(train_raw[0]), np.asarray(test_raw[0])])
    raw_item = np.concatenate([np.asarray(train_raw[1]), np.asarray(test_raw[1])])
    log.info("%s: %d train-file and %d test-file interactions; remapping ids over both", name, n_train_raw, n_test_raw)
    user_keys, user_all = np.unique(raw_user, return_inverse=True)
    item_keys, item_all = np.unique(raw_item, return_inverse=True)
    n_users, n_items = len(user_keys), len(item_keys)
    key_all = user_all.astype(np.int64) * n_items + item_all
    test_keys = np.unique(key_all[n_train_raw:])
    train_keys = np.unique(key_all[:n_train_raw])
    key = np.union1d(train_keys, test_keys)  # sorted distinct pairs, as remap() returns them
    in_test = np.isin(key, test_keys, assume_unique=True)
    user, item = key // n_items, key % n_items
    label = split_given(user, n_users, in_test, valid, seed, min_user_interactions)
    train_sel = label == 0
    test_users, test_items = user[in_test], item[in_test]
    has_train_user = np.bincount(user[train_sel], minlength=n_users) > 0
    has_train_item = np.bincount(item[train_sel], minlength=n_items) > 0
    in_train_file = np.zeros(n_items, dtype=bool)
    in_train_file[item[np.isin(key, train_keys, assume_unique=True)]] = True
    cold_user, cold_item = ~has_train_user[test_users], ~has_train_item[test_items]
    stats = {
        **_dataset_stats(name, n_users, n_items, len(user), n_train_raw + n_test_raw),
        "split": {"mode": "given", "given_valid": valid, "seed": seed, "min_user_interactions": min_user_interactions},
        "given": {
            "train_file_interactions": int(len(train_keys)),
            "test_file_interactions": int(len(test_keys)),
            "in_both_files": int(len(train_keys) + len(test_keys) - len(key)),
            "cold_users": int(len(np.unique(test_users[cold_user]))),
            "cold_user_test_interactions": int(cold_user.sum()),
            "cold_items": int(len(np.unique(test_items[cold_item]))),
            "cold_item_test_interactions": int(cold_item.sum()),
            "cold_items_absent_from_train_file": int(len(np.unique(test_items[~in_train_file[test_items]]))),
        },
    }
    g = stats["given"]
    for code, split in enumerate(SPLITS):  # checked as the random split is: nothing is written for an empty one
        if not (label == code).any():
            why = {0: f"all {g['train_file_interactions']} distinct pairs of the train file are in the test file "
                      f"too, and a pair in both stays in test (expected a train file and a test file that differ)",
                   1: f"no user has split.min_user_interactions = {min_user_interactions} or more train-file "
                      f"interactions (expected a lower minimum or more interactions per user)",
                   2: "the test file has no interaction (expected the test file second among the sources)"}[code]
            raise ValueError(f"{name}: split mode 'given': the {split} split would be empty: {why}")
    _write_splits(out_dir, user, item, label, n_users, n_items, user_keys, item_keys, stats)
    log.info("%s: train %d / valid %d / test %d (the test file); %d pairs in both files kept in test; test "
             "interactions without training data: %d of %d users, %d of %d items", name, stats["train"]["interactions"],
             stats["valid"]["interactions"], stats["test"]["interactions"], g["in_both_files"],
             g["cold_user_test_interactions"], g["cold_users"], g["cold_item_test_interactions"], g["cold_items"])
    return stats


def prepare(fmt: str, files: list[tuple[str, str | None]], out_dir: str | Path, split: dict, name: str,
            csv_options: dict | None = None) -> dict:
    """Read a dataset's raw files in its format and preprocess it into ``out_dir`` (the rule's one call).

    ``split``: the config's split block; with ``mode: given`` the two files are the train file and the test file.
    """
    from .readers import read_raw

    if fmt == "synthetic":  # the generator writes a user<TAB>item file
        fmt, csv_options = "csv", {"sep": "\t", "header": True, "user_col": "user", "item_col": "item"}
    if split.get("mode", "random") == "given":
        if len(files) != 2:
            raise ValueError(f"{name}: split mode 'given' reads two files (the train file, then the test file), "
                             f"got {len(files)}: {[f for f, _ in files]}")
        return preprocess_given(read_raw(fmt, files[:1], csv_options), read_raw(fmt, files[1:], csv_options),
                                out_dir, split["given_valid"], split["seed"], split["min_user_interactions"], name)
    raw_user, raw_item = read_raw(fmt, files, csv_options)
    return preprocess(raw_user, raw_item, out_dir, (split["train"], split["valid"], split["test"]),
                      split["seed"], split["min_user_interactions"], name)
