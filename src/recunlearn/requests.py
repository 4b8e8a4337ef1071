"""Deletion requests, torch-free (docs/guide/method.md, section 8): the interactions Table 6.4 times (``sample_requests``),
the forgetting check's members (``sample_members``), whole users (``sample_user_requests``, CURE4Rec's protocol), and
the steps a sequential or batch run deletes them in.

Every set is written in one format (request, row, user, item[, scope]) so that every unlearning job reads it the
same way; a set that would leave nothing to train on, or too few members for the forgetting check's intervals, is a
one-line error naming its key.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import MIN_MEMBERS
from .data import Interactions, load_interactions, write_atomic


# ---------------------------------------------------------------------------- requests
def sample_requests(train_path, out_csv, n_requests: int, seed: int) -> pd.DataFrame:
    """R distinct training interactions, drawn uniformly with a seed: (request, row, user, item)."""
    train = load_interactions(train_path)
    if n_requests >= len(train):
        raise ValueError(f"unlearning.n_requests = {n_requests}: {'exceeds' if n_requests > len(train) else 'equals'} "
                         f"the {len(train)} training interactions, which would leave none to train on (expected fewer)")
    rows = np.random.default_rng(seed).choice(len(train), size=n_requests, replace=False)
    df = pd.DataFrame({"request": np.arange(n_requests), "row": rows, "user": train.user[rows], "item": train.item[rows]})
    write_atomic(out_csv, df.to_csv(index=False))
    return df


def n_members(members: float, n_train: int) -> int:
    """The forgetting check's number of members: a fraction of the ``n_train`` training interactions (``members``
    below 1) or a count (1 or more), from ``MIN_MEMBERS`` to fewer than all of them."""
    n = int(round(members * n_train)) if members < 1 else int(members)
    what = f"{members} of the {n_train} training interactions is {n}" if members < 1 else f"{n} members"
    if n < MIN_MEMBERS:
        raise ValueError(f"forgetting.members = {members}: {what}, fewer than the {MIN_MEMBERS} the check needs for "
                         f"its AUC intervals to say anything (expected a fraction of at least "
                         f"{MIN_MEMBERS / n_train:.2g} or a count from {MIN_MEMBERS})")
    if n >= n_train:
        raise ValueError(f"forgetting.members = {members}: {what}, which would leave no training interaction "
                         f"(expected fewer than {n_train})")
    return n


def sample_members(train_path, out_csv, members: float, seed: int) -> pd.DataFrame:
    """The forgetting check's deletion set (``forgetting.members`` of the training interactions, drawn with a
    seed), in the requests' format so every unlearning job reads it as it reads the timed requests."""
    return sample_requests(train_path, out_csv, n_members(members, len(load_interactions(train_path))), seed)


def without(x: Interactions, rows: np.ndarray) -> Interactions:
    """``x`` minus the interactions at ``rows`` (row indices into ``x``)."""
    keep = np.ones(len(x), dtype=bool)
    keep[rows] = False
    return Interactions(x.user[keep], x.item[keep], x.n_users, x.n_items)


def unlearning_steps(mode: str, rows: np.ndarray, n_timed: int, request=None) -> list[list[int]]:
    """The training rows deleted at each step: sequential, one request per step for the first ``n_timed``
    requests (each step also keeps the earlier deletions); batch, all R requests in one step. ``request``: the
    request id of each row (a user-level request deletes many rows at once); None, one request per row."""
    rows = np.asarray(rows, dtype=np.int64)
    if mode == "sequential":
        if request is None:
            return [[int(r)] for r in rows[:n_timed]]
        request = np.asarray(request)
        _, first = np.unique(request, return_index=True)
        order = request[np.sort(first)][:n_timed]  # the requests in the order the file lists them
        return [rows[request == r].tolist() for r in order]
    if mode == "batch":
        return [rows.tolist()]
    raise ValueError(f"unknown unlearning mode '{mode}' (expected sequential or batch)")


def request_steps(mode: str, requests_csv, n_timed: int) -> list[list[int]]:
    """``unlearning_steps`` of a requests file (interaction-level: a row each; user-level: a user each)."""
    req = pd.read_csv(requests_csv)
    return unlearning_steps(mode, req["row"].to_numpy(), n_timed, req["request"].to_numpy())


def deleted_users(requests_csv) -> np.ndarray:
    """The users a user-level requests file deletes whole (they leave the evaluation); none for interactions."""
    req = pd.read_csv(requests_csv)
    if "scope" not in req or not (req["scope"] == "user").any():
        return np.empty(0, dtype=np.int64)
    return np.unique(req.loc[req["scope"] == "user", "user"].to_numpy(np.int64))


def drop_users(x: Interactions, users: np.ndarray) -> Interactions:
    """``x`` without any interaction of ``users``."""
    keep = ~np.isin(x.user, users)
    return Interactions(x.user[keep], x.item[keep], x.n_users, x.n_items)


# ---------------------------------------------------------------------------- user-level requests
SELECTIONS = ("random", "core", "edge")


def n_deleted_users(users: float, n_users: int, key: str = "user_unlearning.users") -> int:
    """How many users a user-level request set deletes: a share in (0, 1) of the ``n_users`` users with training
    interactions, or a count (a whole number of at least 1)."""
    if 0 < users < 1:
        n = max(1, int(round(users * n_users)))
    elif users >= 1 and float(users).is_integer():
        n = int(users)
    else:
        raise ValueError(f"{key} = {users}: expected a share in (0, 1) or a whole count of at least 1")
    if n >= n_users:
        raise ValueError(f"{key} = {users}: deletes {n} of the {n_users} users with training interactions, which "
                         "would leave none to train on (expected fewer)")
    return n


def sample_user_requests(train_path, out_csv, users: float, selection: str, seed: int) -> pd.DataFrame:
    """A user-level request set (CURE4Rec's protocol, docs/report/user_unlearning.md): ``users`` users (a share or a count)
    chosen ``random``ly, among the most active (``core``) or the least active (``edge``; ties in activity broken
    by a seeded draw); one request per user, deleting every training interaction of that user. Written in the
    requests' format (request, row, user, item) with ``scope`` = user."""
    if selection not in SELECTIONS:
        raise ValueError(f"user_unlearning.selections: '{selection}' is not one of {', '.join(SELECTIONS)}")
    train = load_interactions(train_path)
    activity = np.bincount(train.user, minlength=train.n_users)
    active = np.flatnonzero(activity > 0)
    n = n_deleted_users(users, len(active))
    rng = np.random.default_rng(seed)
    if selection == "random":
        chosen = rng.choice(active, size=n, replace=False)
    else:
        tie = rng.permutation(len(active))  # a seeded order among users of equal activity
        sign = -1 if selection == "core" else 1
        chosen = active[np.lexsort((tie, sign * activity[active]))][:n]
    request_of = np.full(train.n_users, -1, dtype=np.int64)
    request_of[chosen] = np.arange(n)
    rows = np.flatnonzero(request_of[train.user] >= 0)
    rows = rows[np.lexsort((rows, request_of[train.user[rows]]))]
    df = pd.DataFrame({"request": request_of[train.user[rows]], "row": rows, "user": train.user[rows],
                       "item": train.item[rows], "scope": "user"})
    write_atomic(out_csv, df.to_csv(index=False))
    return df
