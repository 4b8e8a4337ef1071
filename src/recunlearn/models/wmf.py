"""WMF trained with the efficient non-sampling loss (Chen et al., ENMF / thesis chapter 3, eq. 3.9).

The weighted squared loss over all (user, item) pairs of the (sub-)dataset (weight 1 on positives, c0 on
missing entries) is computed per user batch in O((B + N) d^2 + |Y_B| d) instead of O(B N d). Dropout (keep
probability ``keep_prob``) is applied to the batch's user embeddings, as in the authors' code. The item sum
runs over the items present in the training set, so absent items keep their initial embedding. With
``optimizer: als`` an epoch is a sweep of alternating least squares on the same loss (``recunlearn.als``): exact
half-steps, no dropout, ``als_reg`` as the ridge on the squared norms.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..data import Interactions
from ..losses import l2, wmf_efficient_loss, wmf_positive_term
from .base import Recommender, embedding
from .hparams.wmf import WMFConfig


class WMF(Recommender):
    input_type = "users"

    def __init__(self, n_users: int, n_items: int, cfg: WMFConfig, train: Interactions):
        super().__init__(n_users, n_items, cfg, train)
        self.user_emb = embedding(n_users, cfg.dim, cfg.init_std)
        self.item_emb = embedding(n_items, cfg.dim, cfg.init_std)
        active = np.unique(train.item)
        self.register_buffer("active_items", torch.from_numpy(active), persistent=False)
        position = np.full(n_items, -1, dtype=np.int64)
        position[active] = np.arange(len(active))
        self.register_buffer("item_position", torch.from_numpy(position), persistent=False)

    def calculate_loss(self, batch) -> torch.Tensor:
        users, rows, items = batch
        p = F.dropout(self.user_emb[users], p=1.0 - self.cfg.keep_prob, training=self.training)
        q = self.item_emb[self.active_items]
        loss = wmf_efficient_loss(p, q, rows, self.item_position[items], self.cfg.c0)
        return loss + self.cfg.reg_weight * l2(self.user_emb[users], q, batch_size=len(users))

    def embeddings(self):
        return self.user_emb, self.item_emb

    def als_sweep(self, train: Interactions) -> float:
        """One sweep of alternating least squares (``optimizer: als``); eq. 3.9 plus the ridge after it."""
        from ..als import ALSData, objective, sweep

        data = self.__dict__.get("_als_data")
        if data is None:  # built once per fit: the training set does not change
            data = self.__dict__["_als_data"] = ALSData(train, self.user_emb.device, self.user_emb.dtype)
        sweep(self.user_emb, self.item_emb, data, self.cfg.c0, self.cfg.als_reg, self.cfg.als_cg_steps)
        return objective(self.user_emb, self.item_emb, data, self.cfg.c0, self.cfg.als_reg)

    def objective(self, data, negatives=None, ego=None, graph=None, whole=None):
        """Eq. 3.9 (its positives: ``data``'s; its missing entries: over ``whole``'s users and items) plus the ridge
        an epoch applies: ``als_reg`` on both sides under ALS; under a gradient optimizer the batches'
        ``reg_weight * (|P_B|^2 + |Q|^2) / batch_size`` summed over an epoch's batches."""
        p, q = ego if ego is not None else (self.user_emb, self.item_emb)
        whole = data if whole is None else whole
        users = torch.from_numpy(np.flatnonzero(np.bincount(whole.user, minlength=self.n_users) > 0)).to(p.device)
        pu, qa = p[users], q[torch.from_numpy(np.unique(whole.item)).to(p.device)]
        u, i = (torch.as_tensor(x, device=p.device) for x in (data.user, data.item))
        loss = wmf_positive_term((p[u] * q[i]).sum(-1), self.cfg.c0)
        loss = loss + self.cfg.c0 * ((pu.T @ pu) * (qa.T @ qa)).sum()
        if self.cfg.optimizer == "als":
            return loss + self.cfg.als_reg * (pu.pow(2).sum() + qa.pow(2).sum())
        batches = -(-len(users) // self.cfg.batch_size)
        return loss + self.cfg.reg_weight * (pu.pow(2).sum() + batches * qa.pow(2).sum()) / self.cfg.batch_size

    def touching(self, data, negatives, users, items):
        """A positive's term depends on its user's and item's rows; the missing entries' on every row (``whole``)."""
        return np.isin(data.user, users) | np.isin(data.item, items)
