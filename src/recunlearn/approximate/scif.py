"""SCIF: Li et al., "Selective and Collaborative Influence Function for Efficient Recommendation Unlearning",
arXiv 2304.10199 (Expert Systems with Applications).

The influence step (``influence.influence_step``) with the deletions' direct influence on the loss only
(``spillover=False``: the graph a model propagates over is the one it was trained on), selective: only the
embedding rows of the users whose interactions are deleted; collaborative: the Hessian block is that of the
objective over every remaining interaction of those users, so each row's update accounts for the items it still
shares with the rest (docs/guide/method.md, section 10, says what the paper leaves open and what is chosen here).
"""

from __future__ import annotations

import numpy as np

from .base import rebuild, remaining
from .influence import influence_step


def unlearn(model, full, deleted, valid, seed: int, device, *, damping: float, cg_iterations: int):
    deleted = np.asarray(deleted, dtype=bool)
    kept, negatives, kept_negatives = remaining(model, full, deleted, seed)
    users = np.unique(full.user[deleted])
    served = rebuild(model, kept)  # a copy: the original is left as it was
    info = influence_step(served, full, kept, negatives, kept_negatives, users, np.empty(0, np.int64), damping,
                          cg_iterations, spillover=False)
    return served, info
