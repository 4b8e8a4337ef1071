"""WMF trained with the efficient non-sampling loss (Chen et al., ENMF / thesis chapter 3, eq. 3.9).

The weighted squared loss over all (user, item) pairs of the (sub-)dataset (weight 1 on positives, c0 on
missing entries) is computed per user batch in O((B + N) d^2 + |Y_B| d) instead of O(B N d). Dropout (keep
probability ``keep_prob``) is applied to the batch's user embeddings, as in the authors' code. The item sum
runs over the items present in the training set, so absent items keep their initial embedding.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..registry import register_model
from .hparams import ModelConfig, hp, like


@register_model("WMF", impl="recunlearn.models.wmf:WMF", description="WMF with the efficient non-sampling loss")
@dataclass(frozen=True)
class WMFConfig(ModelConfig):
    loss = "wmf"
    search_space = {**ModelConfig.search_space, "batch_size": {"choices": [64, 128, 256, 512, 1024]},
                    "c0": {"low": 0.02, "high": 0.5, "log": True}, "keep_prob": {"low": 0.5, "high": 1.0}}

    lr: float = like(ModelConfig, "lr", 0.02)
    batch_size: int = like(ModelConfig, "batch_size", 256, "users per batch")
    reg_weight: float = like(ModelConfig, "reg_weight", 0.0)
    c0: float = hp(0.2, "weight of missing entries (0.2 MovieLens, 0.05 yelp2018 in the authors' code)", minimum=0,
                   maximum=1)
    keep_prob: float = hp(0.7, "keep probability of the dropout on user embeddings", exclusiveMinimum=0, maximum=1)

    def loss_options(self) -> dict:
        return {"c0": self.c0}


# --- model (below: torch; the workflow reads only the part above, docs/extending.md)
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from ..data import Interactions  # noqa: E402
from ..losses import l2, wmf_efficient_loss  # noqa: E402
from .base import Recommender, embedding  # noqa: E402


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
