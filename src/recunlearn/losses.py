"""Losses shared by the base models and the aggregators.

- ``bpr_loss``: mean of softplus(neg - pos) = -ln sigma(pos - neg), numerically stable;
- ``l2``: squared L2 of the given rows divided by the batch size (the regulariser on "ego" rows);
- ``wmf_efficient_loss``: the efficient non-sampling loss of thesis eq. (3.9) (docs/guide/method.md, section 4), and
  ``wmf_positive_term``, its positives' part;
- ``wmf_naive_loss``: the all-pairs weighted squared loss it equals up to a constant (for tests);
- ``bpr_objective``: BPR's loss and L2 summed over a whole set of triples (the influence methods' objective).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def bpr_loss(pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
    """-mean ln sigma(pos - neg)."""
    return F.softplus(neg - pos).mean()


def bpr_objective(p: torch.Tensor, q: torch.Tensor, p_ego: torch.Tensor, q_ego: torch.Tensor, users: torch.Tensor,
                  pos: torch.Tensor, neg: torch.Tensor, reg_weight: float) -> torch.Tensor:
    """sum over the triples of -ln sigma(p_u.q_v - p_u.q_j) + reg_weight * (|p_u|^2 + |q_v|^2 + |q_j|^2), the L2 on
    the ego rows: batch_size times an epoch's objective (the sum of its batches' losses) when every batch is full.
    ``p``, ``q``: the final embeddings that score (LightGCN's propagated ones), ``p_ego``, ``q_ego``: the parameters."""
    pu = p[users]
    loss = F.softplus((pu * q[neg]).sum(-1) - (pu * q[pos]).sum(-1)).sum()
    return loss + reg_weight * (p_ego[users].pow(2).sum() + q_ego[pos].pow(2).sum() + q_ego[neg].pow(2).sum())


def l2(*rows: torch.Tensor, batch_size: int) -> torch.Tensor:
    """sum of squared entries of ``rows`` / batch_size."""
    return sum(r.pow(2).sum() for r in rows) / batch_size


def wmf_efficient_loss(p_batch: torch.Tensor, q_all: torch.Tensor, pos_rows: torch.Tensor, pos_items: torch.Tensor,
                       c0: float, q_gram: torch.Tensor | None = None, y_pos: torch.Tensor | None = None) -> torch.Tensor:
    """Efficient non-sampling WMF loss for a batch of users, eq. (3.9):

        L = sum_{u in B} sum_{v in V_u+} ((1 - c0) y_uv^2 - 2 y_uv)
            + c0 * sum_{i,j} (sum_{u in B} p_ui p_uj) (sum_{v in V} q_vi q_vj)

    ``p_batch`` [B, d] user embeddings of the batch, ``q_all`` [N, d] embeddings of every item of the
    (sub-)dataset, (``pos_rows``, ``pos_items``) the batch's positives as (row in the batch, row of q_all).
    Cost O((B + N) d^2 + |Y_B| d). Equals ``wmf_naive_loss`` minus the number of positives. ``q_gram``: q_all^T q_all
    when the caller has it (item embeddings that do not change, as StaticAgg's); ``y_pos``: the positives' scores
    when the caller has a cheaper way to them (StaticAgg: w . the K frozen sub-model scores).
    """
    if y_pos is None:
        y_pos = (p_batch[pos_rows] * q_all[pos_items]).sum(-1)
    positive = wmf_positive_term(y_pos, c0)
    missing = c0 * (torch.mm(p_batch.T, p_batch) * (torch.mm(q_all.T, q_all) if q_gram is None else q_gram)).sum()
    return positive + missing


def wmf_positive_term(y_pos: torch.Tensor, c0: float) -> torch.Tensor:
    """The positives' part of eq. (3.9): sum over the batch's positives of (1 - c0) y_uv^2 - 2 y_uv."""
    return ((1.0 - c0) * y_pos.pow(2) - 2.0 * y_pos).sum()


def wmf_naive_loss(p_batch: torch.Tensor, q_all: torch.Tensor, pos_rows: torch.Tensor, pos_items: torch.Tensor,
                   c0: float) -> torch.Tensor:
    """sum_{u in B} sum_{v in V} c_uv (y_uv - p_u . q_v)^2 with c = 1 on positives and c0 elsewhere: O(B N d)."""
    scores = p_batch @ q_all.T
    target = torch.zeros_like(scores)
    target[pos_rows, pos_items] = 1.0
    weight = torch.full_like(scores, c0)
    weight[pos_rows, pos_items] = 1.0
    return (weight * (target - scores).pow(2)).sum()
