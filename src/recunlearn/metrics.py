"""Full-ranking evaluation (docs/guide/method.md, section 3): Recall@K and NDCG@K, batched over users.

For every evaluated user (one with at least one held-out item) all items are scored, the user's training
items (and, when scoring test, validation items) are excluded, and the top K are compared with the held-out
items. Recall@K = hits / |held-out|; NDCG@K = DCG / IDCG with binary relevance, DCG = sum over hit ranks r
(from 1) of 1 / log2(r + 1), IDCG over the first min(|held-out|, K) positions. Both are averaged over users.
Memory is bounded by ``batch_users x n_items`` scores.
"""

from __future__ import annotations

import logging
from typing import Callable, Iterable

import numpy as np
import torch

from .data import Interactions

log = logging.getLogger(__name__)

Scorer = Callable[[torch.Tensor], torch.Tensor]
"""Maps a LongTensor of user ids [B] to scores [B, n_items]."""


def _rows(indptr: np.ndarray, items: np.ndarray, users: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """(row within the batch, item) of every entry of the rows ``users`` of a CSR matrix."""
    start, counts = indptr[users], indptr[users + 1] - indptr[users]
    rows = np.repeat(np.arange(len(users)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return torch.from_numpy(rows), torch.from_numpy(items[np.repeat(start, counts) + offsets])


def evaluate(scorer: Scorer, heldout: Interactions, exclude: Iterable[Interactions], ks: Iterable[int],
             batch_users: int = 1024, device: str | torch.device = "cpu") -> dict[tuple[str, int], float]:
    """Mean Recall@K and NDCG@K over users with held-out items: ``{("Recall", 10): 0.1, ...}``."""
    ks = sorted(set(int(k) for k in ks))
    kmax = min(max(ks), heldout.n_items)
    n_items = heldout.n_items
    h_ptr, h_items = heldout.csr()
    ex = [x.csr() for x in exclude]
    n_held = np.diff(h_ptr)
    evaluated = np.flatnonzero(n_held > 0)
    sums = {(m, k): 0.0 for m in ("Recall", "NDCG") for k in ks}
    discount = 1.0 / torch.log2(torch.arange(2, kmax + 2, dtype=torch.float64))
    ideal_cum = torch.cumsum(discount, 0)
    for lo in range(0, len(evaluated), batch_users):  # only users with held-out items are scored
        batch = evaluated[lo : lo + batch_users]
        users = torch.from_numpy(batch)
        with torch.no_grad():
            # masked and ranked where the scores are (the GPU for a CUDA model): only the top-k indices come back
            scores = scorer(users.to(device)).detach().to(torch.float32)
        if scores.shape != (len(batch), n_items):
            raise ValueError(f"scorer returned shape {tuple(scores.shape)}, expected {(len(batch), n_items)}")
        if scores._is_view() or not scores.is_contiguous():  # never write into the scorer's own tensors
            scores = scores.clone()
        for ptr, items in ex:
            r, c = _rows(ptr, items, batch)
            scores[r.to(scores.device), c.to(scores.device)] = -torch.inf
        truth = torch.zeros(len(batch), n_items, dtype=torch.bool)
        r, c = _rows(h_ptr, h_items, batch)
        truth[r, c] = True
        top = torch.topk(scores, kmax, dim=1, sorted=True).indices.cpu()
        hits = torch.gather(truth, 1, top).to(torch.float64)
        nh = torch.from_numpy(n_held[batch]).to(torch.float64)
        for k in ks:
            kk = min(k, kmax)
            h = hits[:, :kk]
            sums[("Recall", k)] += float((h.sum(1) / nh).sum())
            dcg = (h * discount[:kk]).sum(1)
            idcg = ideal_cum[(torch.clamp(nh, max=kk) - 1).long()]
            sums[("NDCG", k)] += float((dcg / idcg).sum())
    n_eval = max(len(evaluated), 1)
    return {key: value / n_eval for key, value in sums.items()}


def mostpop_scorer(train: Interactions) -> Scorer:
    """The MostPop reference: every user gets the items ranked by training popularity."""
    pop = torch.from_numpy(np.bincount(train.item, minlength=train.n_items).astype(np.float32))

    def score(users: torch.Tensor) -> torch.Tensor:
        return pop.expand(len(users), -1)

    return score


def embedding_scorer(user_emb: torch.Tensor, item_emb: torch.Tensor) -> Scorer:
    """Scores p_u . q_v for the three base models."""

    def score(users: torch.Tensor) -> torch.Tensor:
        return user_emb[users] @ item_emb.T

    return score



def evaluate_splits(scorer: Scorer, train: Interactions, valid: Interactions, test: Interactions, ks,
                    batch_users: int = 1024, device="cpu", **labels):
    """Long-form metric rows on validation and on test (test also masks the validation items)."""
    import pandas as pd

    from .results import metric_rows

    frames = []
    for split, heldout, exclude in (("valid", valid, [train]), ("test", test, [train, valid])):
        values = evaluate(scorer, heldout, exclude, ks, batch_users, device=device)
        frames.append(metric_rows(values, split, **labels))
        log.info("%s %s %s: %s", labels.get("dataset"), labels.get("model"), split,
                 ", ".join(f"{m}@{k}={v:.4f}" for (m, k), v in sorted(values.items())))
    return pd.concat(frames, ignore_index=True)


def run_mostpop(data: dict, out_csv, dataset: str, ks, batch_users: int = 1024):
    """Evaluate MostPop on validation and test of a preprocessed dataset; write long-form metric rows."""
    from .data import load_interactions, write_atomic

    train, valid, test = (load_interactions(data[s]) for s in ("train", "valid", "test"))
    rows = evaluate_splits(mostpop_scorer(train), train, valid, test, ks, batch_users, dataset=dataset,
                           model="MostPop", method="MostPop")
    write_atomic(out_csv, rows.to_csv(index=False, float_format="%.6f"))
    return rows


def active_users(train: Interactions, top: float = 0.05) -> np.ndarray:
    """The ``top`` share of users with the most training interactions (at least one user; ties broken by id), as
    a boolean mask over users: the advantaged group of user-oriented fairness (Li et al., WWW 2021), which CURE4Rec
    uses for its fairness gap."""
    activity = np.bincount(train.user, minlength=train.n_users)
    with_data = np.flatnonzero(activity > 0)
    n = max(1, int(round(top * len(with_data))))
    order = with_data[np.lexsort((with_data, -activity[with_data]))]
    mask = np.zeros(train.n_users, dtype=bool)
    mask[order[:n]] = True
    return mask


def fairness_gap(scorer: Scorer, heldout: Interactions, exclude: Iterable[Interactions], active: np.ndarray,
                 k: int = 20, batch_users: int = 1024, device="cpu") -> dict[str, float]:
    """Recall@k and NDCG@k of the ``active`` users and of the rest (each the mean over that group's users with
    held-out items), and the gap (active minus the rest): CURE4Rec's fairness gap between active and inactive
    users."""
    out = {}
    for name, mask in (("active", active), ("inactive", ~active)):
        keep = mask[heldout.user]
        group = Interactions(heldout.user[keep], heldout.item[keep], heldout.n_users, heldout.n_items)
        values = evaluate(scorer, group, exclude, [k], batch_users, device) if len(group) else {}
        for metric in ("Recall", "NDCG"):
            out[f"{metric}@{k} {name}"] = values.get((metric, k), float("nan"))
    for metric in ("Recall", "NDCG"):
        out[f"{metric}@{k} gap"] = out[f"{metric}@{k} active"] - out[f"{metric}@{k} inactive"]
    return out
