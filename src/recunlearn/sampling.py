"""Training batches: shuffled positives with uniform negatives, and shuffled user batches. Vectorised, seeded."""

from __future__ import annotations

import numpy as np
import torch

from .data import Interactions

# the sampler looks a (user, item) pair up in a dense bit-table of the training pairs when the id space holds at
# most this many pairs (ml-1m: 22 M, 22 MB), else by binary search in the sorted pair keys (the same answers)
DENSE_PAIRS_MAX = 1 << 28


class NegativeSampler:
    """Uniform negatives: items of the (sub-)dataset the user has no training interaction with.

    Candidates are the items that occur in the training set (``active items``), so an item absent from a shard
    never receives a gradient and keeps its initial embedding. Collisions with a user's positives are redrawn,
    all at once, until none is left. A user who has every active item (a heavy user in a small shard: ml-100k's InBP
    at K = 20) draws from the whole catalogue instead, the only items left to it.
    """

    def __init__(self, train: Interactions):
        self.n_items = train.n_items
        self.keys = torch.from_numpy(np.unique(train.user * train.n_items + train.item))
        self.active = torch.from_numpy(np.unique(train.item))
        self.dense = None
        if train.n_users * train.n_items <= DENSE_PAIRS_MAX:
            self.dense = torch.zeros(train.n_users * train.n_items, dtype=torch.bool)
            self.dense[self.keys] = True
        counts = np.bincount(train.user, minlength=train.n_users)
        self.full = None  # users who have every active item: they draw from the whole catalogue
        if len(self.active) and counts.max(initial=0) >= len(self.active):
            if counts.max() >= train.n_items:
                user = int(np.flatnonzero(counts >= train.n_items)[0])
                raise ValueError(f"user {user} interacted with every item: no negative to sample")
            self.full = torch.from_numpy(counts >= len(self.active))

    def is_positive(self, key: torch.Tensor) -> torch.Tensor:
        """Whether each pair key (user * n_items + item) is a training interaction."""
        if self.dense is not None:
            return self.dense[key]
        pos = torch.searchsorted(self.keys, key).clamp(max=max(len(self.keys) - 1, 0))
        return self.keys[pos] == key if len(self.keys) else torch.zeros_like(key, dtype=torch.bool)

    def sample(self, users: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        neg = self._draw(users, generator)
        todo = torch.arange(len(users))
        while len(todo):
            todo = todo[self.is_positive(users[todo] * self.n_items + neg[todo])]
            if len(todo):
                neg[todo] = self._draw(users[todo], generator)
        return neg

    def _draw(self, users: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        neg = self.active[torch.randint(len(self.active), (len(users),), generator=generator)]
        if self.full is not None:
            full = self.full[users]
            if full.any():
                neg[full] = torch.randint(self.n_items, (int(full.sum()),), generator=generator).to(neg.dtype)
        return neg


def pair_batches(train: Interactions, sampler: NegativeSampler, batch_size: int, generator: torch.Generator):
    """One epoch of (users, positives, negatives) batches: every training interaction once, shuffled."""
    user = torch.from_numpy(train.user)
    item = torch.from_numpy(train.item)
    order = torch.randperm(len(user), generator=generator)
    neg = sampler.sample(user[order], generator)
    for lo in range(0, len(order), batch_size):
        idx = order[lo : lo + batch_size]
        yield user[idx], item[idx], neg[lo : lo + batch_size]


def user_pair_batches(train: Interactions, sampler: NegativeSampler, batch_size: int, generator: torch.Generator):
    """One epoch of |Y| (user, positive, negative) triples drawn user-first, as the authors' code samples: a user
    uniformly among those with training interactions, then one of the user's positives uniformly. Every user
    weighs the same, as in the user-averaged Recall@K, instead of in proportion to its activity."""
    indptr, items = train.csr()
    counts = np.diff(indptr)
    active = torch.from_numpy(np.flatnonzero(counts > 0))
    n = len(train)
    user = active[torch.randint(len(active), (n,), generator=generator)]
    offset = (torch.rand(n, generator=generator, dtype=torch.float64) * torch.from_numpy(counts)[user]).long()
    pos = torch.from_numpy(items)[torch.from_numpy(indptr)[user] + offset]
    neg = sampler.sample(user, generator)
    for lo in range(0, n, batch_size):
        yield user[lo : lo + batch_size], pos[lo : lo + batch_size], neg[lo : lo + batch_size]


def user_batches(train: Interactions, batch_size: int, generator: torch.Generator):
    """One epoch of user batches for non-sampling WMF: (users, positive rows in batch, positive items).

    Only users with training interactions are visited (the others keep their initial embedding).
    """
    indptr, items = train.csr()
    users = np.flatnonzero(np.diff(indptr) > 0)
    perm = users[torch.randperm(len(users), generator=generator).numpy()]
    items_t = torch.from_numpy(items)
    for lo in range(0, len(perm), batch_size):
        batch = perm[lo : lo + batch_size]
        counts = indptr[batch + 1] - indptr[batch]
        rows = np.repeat(np.arange(len(batch)), counts)
        # gather the CSR slices of the batch without a Python loop over users
        starts = np.repeat(indptr[batch], counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        yield torch.from_numpy(batch), torch.from_numpy(rows), items_t[torch.from_numpy(starts + offsets)]
