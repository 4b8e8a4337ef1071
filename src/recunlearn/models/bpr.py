"""BPR-MF: Rendle et al., "BPR: Bayesian Personalized Ranking from Implicit Feedback", UAI 2009.

loss = -mean ln sigma(p_u.q_v - p_u.q_j) + reg_weight * (|p_u|^2 + |q_v|^2 + |q_j|^2) / B, one uniform negative j
per positive, drawn from the items the user has no training interaction with.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..registry import register_model
from .hparams import ModelConfig


@register_model("BPR", impl="recunlearn.models.bpr:BPR", description="BPR-MF")
@dataclass(frozen=True)
class BPRConfig(ModelConfig):
    search_space = {**ModelConfig.search_space, "sampling": {"choices": ["interaction", "user"]}}


# --- model (below: torch; the workflow reads only the part above, docs/extending.md)
import warnings  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from ..data import Interactions  # noqa: E402
from ..losses import bpr_loss, l2  # noqa: E402
from .base import Recommender, embedding  # noqa: E402


# torch warns once per process that sparse-gradient invariants are unchecked; they hold by construction here
warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")


class BPR(Recommender):
    input_type = "pairs"

    def __init__(self, n_users: int, n_items: int, cfg: BPRConfig, train: Interactions):
        super().__init__(n_users, n_items, cfg, train)
        self.user_emb = embedding(n_users, cfg.dim, cfg.init_std)
        self.item_emb = embedding(n_items, cfg.dim, cfg.init_std)
        # row-sparse gradients: Adagrad/SGD then touch only the batch's rows (2x faster on ml-1m, same maths)
        self.sparse = cfg.optimizer.lower() in ("adagrad", "sgd")

    def calculate_loss(self, batch) -> torch.Tensor:
        users, pos, neg = batch
        p = F.embedding(users, self.user_emb, sparse=self.sparse)
        qp = F.embedding(pos, self.item_emb, sparse=self.sparse)
        qn = F.embedding(neg, self.item_emb, sparse=self.sparse)
        loss = bpr_loss((p * qp).sum(-1), (p * qn).sum(-1))
        return loss + self.cfg.reg_weight * l2(p, qp, qn, batch_size=len(users))

    def embeddings(self):
        return self.user_emb, self.item_emb
