"""StaticAgg (GraphEraser's aggregator): seconds per epoch, validation included, against one sub-model's epoch.

Synthetic data of ml-100k's and of ml-1m's size (943 x 1,682 and 6,040 x 3,706 users x items, ~100 K and ~1 M
interactions, 80% for training), K = 10 sub-models of d = 64 (random embeddings: the cost does not depend on their
values). An epoch is what ``train.fit`` does per epoch: one pass over the training set, then Recall@10 on
validation. StaticAgg learns K weights over frozen sub-models, so every score it needs is w . (K frozen scores):
with its score table (K x M x N, computed once, up to ``STATIC_SCORES_MAX``) training and validation only weigh
them; the former path, which ml-1m took (its 224 M scores were above the former 64 M limit), scores the pairs from
the sub-models' embedding rows and validates on the concatenated embeddings' dot product (K d per score). Printed,
per size and loss: StaticAgg's seconds per epoch on the former path and now, its one-off setup (the first epoch's
extra seconds), and a sub-model's epoch on a shard of a tenth of the data, as the ratio the aggregator should stay
under (an unlearning request retrains one sub-model, then the aggregator).

    python benchmarks/static_agg_time.py [--epochs 3] [--threads 2] [--sizes ml-100k ml-1m]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

SIZES = {"ml-100k": (943, 1682, 106), "ml-1m": (6040, 3706, 166)}  # users, items, mean interactions per user


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    args = ap.parse_args()

    import numpy as np
    import torch

    import recunlearn.aggregators.static as agg_mod
    from recunlearn.data import Interactions, split_per_user
    from recunlearn.models import model_class, model_config
    from recunlearn.sharded import train_aggregator
    from recunlearn.synthetic import SyntheticConfig, generate
    from recunlearn.train import fit, seed_everything

    torch.set_num_threads(args.threads)
    seed_everything(0)  # once: its first call imports torch's compiler stack (seconds), which no epoch should carry
    k, d = 10, 64
    for size in args.sizes:
        m, n, mean = SIZES[size]
        out = generate(SyntheticConfig(n_users=m, n_items=n, n_communities=20, mean_interactions=mean,
                                       min_interactions=20, max_interactions=2000, seed=1))
        x = Interactions(out["user"], out["item"], m, n)
        label = split_per_user(x.user, m, (0.8, 0.1, 0.1), seed=1)
        train, valid = (Interactions(x.user[label == s], x.item[label == s], m, n) for s in (0, 1))
        g = torch.Generator().manual_seed(0)
        sub_p, sub_q = torch.randn(k, m, d, generator=g) * 0.1, torch.randn(k, n, d, generator=g) * 0.1
        in_shard = np.random.default_rng(0).integers(0, k, len(train)) == 0
        shard = Interactions(train.user[in_shard], train.item[in_shard], m, n)
        print(f"{size}-sized: {len(train):,} training interactions, K = {k}, d = {d}, {args.threads} threads; "
              f"{k * m * n / 1e6:.0f} M scores in StaticAgg's table")
        budget = {"max_epochs": args.epochs, "patience": args.epochs + 1, "eval_every": 1}

        def per_epoch(history) -> tuple[float, float]:
            """(mean seconds of epochs 2.., the first epoch's extra seconds) from ``fit``'s history."""
            t = [h["seconds"] for h in history]  # cumulative, from epoch 0 (the start's validation)
            steps = np.diff(t)
            return float(np.mean(steps[1:])), float(steps[0] - np.mean(steps[1:]) + t[0])

        for name in ("BPR", "WMF"):
            base = {"batch_size": 256} if name == "WMF" else {}
            agg = {**budget, "batch_size": 4096, "lr": 0.05, "optimizer": "adagrad"}
            runs = {}
            for path, limit in (("former", 0), ("now", agg_mod.STATIC_SCORES_MAX)):
                kept = agg_mod.STATIC_SCORES_MAX
                agg_mod.STATIC_SCORES_MAX = limit
                try:
                    _, _, res = train_aggregator("static", name, base, agg, sub_p, sub_q, train, valid, 0, "cpu",
                                                 f"StaticAgg {path}")
                finally:
                    agg_mod.STATIC_SCORES_MAX = kept
                runs[path] = per_epoch(res.history)
            cfg = model_config(name, {**budget, **({"batch_size": 1024} if name == "BPR" else {})})
            res = fit(lambda: model_class(name)(m, n, cfg, shard), cfg, shard, valid, 0, "cpu", label="sub-model",
                      eval_at_start=True)
            sub = per_epoch(res.history)[0]
            (former, former_setup), (now, now_setup) = runs["former"], runs["now"]
            print(f"  {name}: StaticAgg epoch {former:.3f} s on the former path, {now:.3f} s now "
                  f"({former / now:.1f}x; one-off setup {former_setup:.2f} s -> {now_setup:.2f} s); a sub-model "
                  f"epoch {sub:.3f} s: StaticAgg / sub-model {former / sub:.2f} before, {now / sub:.2f} now")


if __name__ == "__main__":
    main()
