"""IFRU: Zhang et al., "Recommendation Unlearning via Influence Function", ACM TORS 3(2), 2024.

The influence step (``influence.influence_step``) with the deletions' direct influence on the loss and their spillover
influence through the computational graph (``spillover=True``: the remaining interactions' loss on the graph without
the deleted edges, for LightGCN; nothing more for BPR and WMF, which have no graph), on the rows an importance score
selects: a deleted interaction's user and item start with (deleted interactions at the node) / (its degree), and
``k_hops`` times each node takes the degree-normalised sum of its own and its neighbours' scores on the training
graph with self-loops; the ``keep_share`` of the scored rows with the highest score are updated (importance-based
pruning; the authors' code keeps all scored rows for MF and about 60% for LightGCN).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .base import rebuild, remaining
from .influence import influence_step


def importance(full, deleted: np.ndarray, k_hops: int) -> np.ndarray:
    """The importance score of every node (users first, then items) for the deletion of ``full``'s rows ``deleted``
    (boolean mask), ``k_hops`` hops out."""
    n_users, n = full.n_users, full.n_users + full.n_items
    pairs = np.unique(np.asarray(full.user, np.int64) * full.n_items + full.item)
    u, i = pairs // full.n_items, pairs % full.n_items + n_users
    adj = sp.coo_matrix((np.ones(2 * len(u)), (np.concatenate([u, i]), np.concatenate([i, u]))), shape=(n, n)).tocsr()
    adj = adj + sp.identity(n, format="csr")
    degree = np.asarray(adj.sum(axis=1)).ravel()
    touched = np.bincount(full.user[deleted], minlength=n_users)
    score = np.concatenate([touched, np.bincount(full.item[deleted], minlength=full.n_items)]) / degree
    for _ in range(int(k_hops)):
        score = adj @ score / degree
    return score


def select(score: np.ndarray, keep_share: float) -> np.ndarray:
    """The nodes with a positive score, pruned to the ``keep_share`` with the highest (ties at the cut kept)."""
    scored = np.flatnonzero(score > 0)
    if keep_share >= 1 or len(scored) == 0:
        return scored
    cut = np.quantile(score[scored], 1.0 - keep_share)
    return scored[score[scored] >= cut]


def unlearn(model, full, deleted, valid, seed: int, device, *, damping: float, cg_iterations: int, k_hops: int,
            keep_share: float):
    deleted = np.asarray(deleted, dtype=bool)
    kept, negatives, kept_negatives = remaining(model, full, deleted, seed)
    nodes = select(importance(full, deleted, k_hops), keep_share)
    users, items = nodes[nodes < full.n_users], nodes[nodes >= full.n_users] - full.n_users
    served = rebuild(model, kept)  # a copy: the original is left as it was
    info = influence_step(served, full, kept, negatives, kept_negatives, users,
                          items, damping, cg_iterations, spillover=True)
    return served, info
