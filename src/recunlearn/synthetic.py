"""The embedded synthetic dataset: a seeded latent-factor generative model, no download.

Built to look like MovieLens-100K to a recommender (docs/guide/synthetic.md has the measurements), not to be easy.
Model (every parameter in config, ``registry.<name>.synthetic``):

- user activity: n_u = min_interactions + X with X log-normal (log-std ``activity_sigma``) and mean
  ``mean_interactions`` - min_interactions, capped at ``max_interactions`` (and at the catalogue size):
  most users have a few dozen interactions, a long tail has hundreds;
- item popularity: a log-normal weight, log pop_v ~ N(0, ``popularity_sigma``^2): a popular head, a long tail
  of items almost nobody picks (the rank curve of real data is log-normal-like, not a straight power law);
- taste: mixed memberships, theta_u and phi_v ~ Dirichlet(``membership_concentration``) over ``n_communities``
  communities; community c has strength w_c = c^-``taste_decay``, so a few broad tastes carry most of the signal
  and many finer ones the rest (the decaying spectrum of real rating matrices: the broad ones are learnt from a
  little data, the fine ones only from a lot); taste_uv = sum_c w_c (theta_uc - 1/C)(phi_vc - 1/C), standardised
  over all (user, item) pairs and scaled to standard deviation ``taste_sigma``;
- each user's n_u items are drawn without replacement with probability proportional to
  pop_v * exp(taste_uv) (Gumbel top-k, vectorised over users; a loop runs over chunks of users only).

Each component has its own random stream spawned from ``seed``, so changing one parameter (say ``taste_sigma``) does
not redraw the others (activity, popularity, memberships stay the same).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

import numpy as np

from .data import atomic_write, write_atomic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyntheticConfig:
    n_users: int = 1000
    n_items: int = 1500
    n_communities: int = 32
    mean_interactions: float = 80.0
    min_interactions: int = 20
    max_interactions: int = 500
    activity_sigma: float = 1.2
    popularity_sigma: float = 1.5
    membership_concentration: float = 0.3
    taste_sigma: float = 1.75
    taste_decay: float = 0.75
    seed: int = 7


def _top_n_per_row(keys: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) of the n[row] largest keys of every row."""
    order = np.argsort(-keys, axis=1, kind="stable")
    take = np.arange(keys.shape[1])[None, :] < n[:, None]
    rows = np.broadcast_to(np.arange(keys.shape[0])[:, None], keys.shape)[take]
    return rows, order[take]


def activity_bounds(cfg: SyntheticConfig) -> tuple[int, int]:
    """(least, most) interactions of a user: the configured ones, capped at the catalogue size."""
    hi = min(int(cfg.max_interactions), cfg.n_items)
    return min(int(cfg.min_interactions), hi), hi


def activity_mu(cfg: SyntheticConfig) -> float:
    """Log-mean of the log-normal excess X = n_u - min_interactions (so that E[X] = mean - min)."""
    excess = max(float(cfg.mean_interactions) - cfg.min_interactions, 1e-9)
    return float(np.log(excess) - cfg.activity_sigma**2 / 2)


def taste_weights(cfg: SyntheticConfig) -> np.ndarray:
    """Strength w_c = c^-taste_decay of community c = 1..C."""
    return np.arange(1, cfg.n_communities + 1, dtype=np.float64) ** -float(cfg.taste_decay)


def _taste_scale(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of (x * w) @ y.T over all pairs, from C x C Gram matrices (no users x items
    matrix)."""
    m, n = len(x), len(y)
    mean = float((x.mean(0) * w) @ y.mean(0))
    sq = float(np.sum((w[:, None] * (x.T @ x) * w[None, :]) * (y.T @ y))) / (m * n)
    return mean, float(np.sqrt(max(sq - mean * mean, 0.0)))


def generate(cfg: SyntheticConfig, chunk_users: int = 1024) -> dict[str, np.ndarray]:
    """Interactions of the synthetic dataset, ``user`` and ``item`` (int64, sorted), and its latent variables:
    ``user_activity`` (planned n_u), ``item_log_popularity``, ``user_membership`` / ``item_membership``
    (Dirichlet mixtures over the communities) and ``user_community`` / ``item_community`` (the dominant one)."""
    m, n, c = cfg.n_users, cfg.n_items, cfg.n_communities
    streams = np.random.SeedSequence(cfg.seed).spawn(5)
    r_act, r_pop, r_user, r_item, r_pick = (np.random.default_rng(s) for s in streams)

    lo, hi = activity_bounds(cfg)
    excess = r_act.lognormal(activity_mu(cfg), cfg.activity_sigma, m)
    n_u = np.clip(lo + np.round(excess), lo, hi).astype(np.int64)
    log_pop = cfg.popularity_sigma * r_pop.standard_normal(n)
    alpha = np.full(c, float(cfg.membership_concentration))
    theta = r_user.dirichlet(alpha, size=m)
    phi = r_item.dirichlet(alpha, size=n)

    w = taste_weights(cfg)
    x, y = theta - 1.0 / c, phi - 1.0 / c
    mean, sd = _taste_scale(x, y, w)
    scale = cfg.taste_sigma / sd if sd > 0 else 0.0
    xw = x * (w * scale)

    users, items = [], []
    for start in range(0, m, chunk_users):  # chunks bound memory to chunk_users x n_items
        sl = slice(start, min(start + chunk_users, m))
        keys = log_pop[None, :] + (xw[sl] @ y.T - mean * scale) + r_pick.gumbel(size=(sl.stop - start, n))
        rows, cols = _top_n_per_row(keys, n_u[sl])
        users.append(rows + start)
        items.append(cols)
    user = np.concatenate(users).astype(np.int64)
    item = np.concatenate(items).astype(np.int64)
    order = np.lexsort((item, user))
    return {"user": user[order], "item": item[order], "user_activity": n_u, "item_log_popularity": log_pop,
            "user_membership": theta, "item_membership": phi,
            "user_community": theta.argmax(1), "item_community": phi.argmax(1)}


def taste_logits(cfg: SyntheticConfig, user_membership: np.ndarray, item_membership: np.ndarray) -> np.ndarray:
    """The standardised taste term taste_uv of the users x items given (for checks and analysis)."""
    c = cfg.n_communities
    x, y = user_membership - 1.0 / c, item_membership - 1.0 / c
    w = taste_weights(cfg)
    mean, sd = _taste_scale(x, y, w)
    return cfg.taste_sigma * ((x * w) @ y.T - mean) / sd if sd > 0 else np.zeros((len(x), len(y)))


def write_synthetic(params: dict, tsv_path, communities_path) -> dict:
    """Generate the dataset from ``params`` (the registry's ``synthetic`` block) and write it atomically:
    a ``user<TAB>item`` file read back by the ordinary csv reader, and the latent structure (.npz: dominant
    communities, memberships, item log-popularity, planned user activity)."""
    cfg = SyntheticConfig(**params)
    out = generate(cfg)
    lines = io.StringIO()
    lines.write("user\titem\n")
    np.savetxt(lines, np.column_stack([out["user"], out["item"]]), fmt="%d", delimiter="\t")
    write_atomic(tsv_path, lines.getvalue())
    with atomic_write(communities_path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **{k: v for k, v in out.items() if k not in ("user", "item")})
    log.info(
        "synthetic: %d users x %d items, %d interactions (density %.4f), %d communities, taste %.2g, seed %d",
        cfg.n_users, cfg.n_items, len(out["user"]), len(out["user"]) / (cfg.n_users * cfg.n_items),
        cfg.n_communities, cfg.taste_sigma, cfg.seed)
    return {"interactions": len(out["user"])}
