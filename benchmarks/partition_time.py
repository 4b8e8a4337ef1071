"""Seconds of a balanced partition on ml-10m-sized data (target: inbp, 8 M interactions, K = 10, <= 60 s).

Interactions are drawn within 20 planted communities and the "pretrained" embeddings are noisy community
centres (64-d), so the partition has real structure to find. Usage:
python benchmarks/partition_time.py [--interactions 8000000] [--k 10] [--algorithms inbp ubp ibp bekm random]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from recunlearn.data import Interactions
from recunlearn.partition import partition


def data(n_inter: int, n_users: int = 69878, n_items: int = 10677, c: int = 20, seed: int = 0):
    rng = np.random.default_rng(seed)
    uc, ic = rng.integers(0, c, n_users), rng.integers(0, c, n_items)
    centres = rng.normal(size=(c, 64))
    ue = (centres[uc] + rng.normal(size=(n_users, 64))).astype(np.float32)
    ie = (centres[ic] + rng.normal(size=(n_items, 64))).astype(np.float32)
    user = rng.integers(0, n_users, n_inter)
    by_comm = [np.flatnonzero(ic == k) for k in range(c)]
    own = rng.random(n_inter) < 0.8
    comm = np.where(own, uc[user], rng.integers(0, c, n_inter))
    item = np.empty(n_inter, dtype=np.int64)
    for k in range(c):  # loop over communities
        sel = np.flatnonzero(comm == k)
        item[sel] = by_comm[k][rng.integers(0, len(by_comm[k]), len(sel))]
    return Interactions(user, item, n_users, n_items), ue, ie


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--interactions", type=int, default=8_000_000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--algorithms", nargs="+", default=["inbp"])
    args = ap.parse_args()
    train, ue, ie = data(args.interactions)
    print(f"data: {train.n_users} users x {train.n_items} items, {len(train):,} interactions, K = {args.k}")
    for name in args.algorithms:
        t0 = time.perf_counter()
        _, stats = partition(name, train, args.k, seed=0, user_emb=ue, item_emb=ie)
        secs = time.perf_counter() - t0
        target = "  (target <= 60 s: " + ("ok" if secs <= 60 else "MISSED") + f"; ratio {secs / 60:.2f})" if name == "inbp" else ""
        print(f"{name:6s}: {secs:6.1f} s, {stats['rounds']} rounds (converged: {stats['converged']}), "
              f"balance {stats['balance']:.2f}{target}")


if __name__ == "__main__":
    main()
