"""StaticAgg (GraphEraser's aggregator): seconds per training epoch against one sub-model's epoch, at ml-1m's size.

6,040 users x 3,706 items x ~1 M interactions (80% for training), K = 10 sub-models of d = 64 (random embeddings:
the cost does not depend on their values). Past ``STATIC_SCORES_MAX`` scores (K x M x N; ml-1m has 224 M) StaticAgg
cannot precompute every (user, item) score and scores each batch from the sub-models' embedding rows; it now scores
the training interactions once and looks them up (``StaticAgg._positive_scores``). This prints, per loss (BPR, WMF):
an epoch without that cache (the former path), with it, and one sub-model's epoch on a shard of a tenth of the
data (the cost the aggregator should stay under), as seconds and ratios.

    python benchmarks/static_agg_time.py [--epochs 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import numpy as np
    import torch

    from epoch_time import ml1m_like
    from recunlearn.aggregate import AggregatorConfig, StaticAgg, build
    from recunlearn.data import Interactions
    from recunlearn.models import model_class, model_config
    from recunlearn.sampling import NegativeSampler
    from recunlearn.train import epoch_batches, make_optimizer, seed_everything, train_epoch

    torch.set_num_threads(args.threads)
    train, _ = ml1m_like()
    k, d = 10, 64
    g = torch.Generator().manual_seed(0)
    sub_p = torch.randn(k, train.n_users, d, generator=g) * 0.1
    sub_q = torch.randn(k, train.n_items, d, generator=g) * 0.1
    shard = np.random.default_rng(0).integers(0, k, len(train)) == 0
    part = Interactions(train.user[shard], train.item[shard], train.n_users, train.n_items)
    print(f"{len(train):,} training interactions, K = {k}, d = {d}, {args.threads} threads; "
          f"{k * train.n_users * train.n_items / 1e6:.0f} M scores (above STATIC_SCORES_MAX: the row path)")

    def seconds(make, data, cfg) -> float:
        gen = seed_everything(0)
        model = make()
        opt = make_optimizer(cfg, [p for p in model.parameters() if p.requires_grad])
        sampler = NegativeSampler(data) if model.input_type == "pairs" else None
        times = []
        for _ in range(args.epochs + 1):  # the first epoch builds what is cached: timed, reported apart
            t0 = time.perf_counter()
            train_epoch(model, opt, epoch_batches(model, cfg, data, sampler, gen), "cpu")
            times.append(time.perf_counter() - t0)
        return times[0], float(np.mean(times[1:]))

    for name in ("BPR", "WMF"):
        base = model_config(name, {"batch_size": 256} if name == "WMF" else {})
        cfg = AggregatorConfig(batch_size=base.batch_size if base.loss == "wmf" else 4096)

        def static():
            return build("static", sub_p, sub_q, cfg, train, base.loss, **base.loss_options())

        cached_first, cached = seconds(static, train, cfg)
        kept = StaticAgg._positive_scores
        StaticAgg._positive_scores = StaticAgg._submodel_scores  # the former path: every pair scored afresh
        try:
            _, former = seconds(static, train, cfg)
        finally:
            StaticAgg._positive_scores = kept
        sub_cfg = model_config(name, {"batch_size": 1024} if name == "BPR" else {})
        _, sub = seconds(lambda: model_class(name)(train.n_users, train.n_items, sub_cfg, part), part, sub_cfg)
        print(f"{name}: StaticAgg epoch {former:.2f} s before, {cached:.2f} s now (first epoch {cached_first:.2f} s, "
              f"scoring the training interactions once): {former / cached:.1f}x faster; a sub-model epoch "
              f"{sub:.2f} s: StaticAgg / sub-model {former / sub:.1f} before, {cached / sub:.1f} now")


if __name__ == "__main__":
    main()
