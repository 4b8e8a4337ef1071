"""GroupAgg, UltraRE's combiner (beyond the paper): each user's own group's embedding against every group
model's items, averaged."""

from __future__ import annotations

import numpy as np
import torch

from ..data import Interactions
from .base import AggregatorConfig, _Aggregator

def user_groups(train: Interactions, shard, k: int) -> np.ndarray:
    """Each user's group: the shard holding the most of the user's training interactions (``shard``: each
    interaction's shard, aligned with ``train``), the lowest such shard on a tie; -1 for a user with none. Under a
    user partition (``ot``, ``ubp``, ``bekm``) a user's interactions are all in one shard."""
    shard = np.asarray(shard, dtype=np.int64)
    if len(shard) != len(train):
        raise ValueError(f"{len(shard)} shard ids for {len(train)} training interactions")
    counts = np.zeros((train.n_users, k), dtype=np.int64)
    np.add.at(counts, (np.asarray(train.user, dtype=np.int64), shard), 1)
    return np.where(counts.sum(1) > 0, counts.argmax(1), -1)


class GroupAgg(_Aggregator):
    """UltraRE's combiner (Li et al., NeurIPS 2023): every group model scores a user with the user embedding of the
    user's own group's model, and the K scores are averaged. Nothing is learned; the users' groups (a buffer, saved
    with the state) come from the shard of each training interaction (``shard``), so after a deletion they are
    those of the reduced data. A user with no training interaction (no group) is scored as MeanAgg scores."""

    def __init__(self, sub_p, sub_q, cfg: AggregatorConfig, train: Interactions, shard=None, **kwargs):
        super().__init__(sub_p, sub_q, cfg, train, **kwargs)
        # without ``shard`` the groups are unknown until a saved state is loaded (forgetting.aggregator_scorer)
        home = user_groups(train, shard, self.k) if shard is not None else np.full(self.n_users, -1)
        self.register_buffer("home", torch.from_numpy(np.asarray(home, dtype=np.int64)))

    def users(self, idx):
        home = self.home.index_select(0, idx)
        own = self.sub_p[home.clamp(min=0), idx]  # [B, d]: each user's own group's embedding
        mean = self.sub_p.index_select(1, idx).permute(1, 0, 2)  # [B, K, d]
        rows = torch.where((home >= 0)[:, None, None], own[:, None, :].expand_as(mean), mean)
        return rows.reshape(len(idx), -1) / self.k

    def items(self, idx):
        return self.sub_q.index_select(1, idx).permute(1, 0, 2).reshape(len(idx), -1)
