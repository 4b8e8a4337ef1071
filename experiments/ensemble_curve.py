"""SISA's MeanAgg as its sub-models train on: validation Recall@20 of the mean of the K sub-models every few epochs.

The K sub-models of a partition are trained side by side for a fixed number of epochs (no early stopping; what
``keep: last`` trains), with the library's own model, optimiser, sampler and metric, and the mean of their scores
(MeanAgg) is evaluated on the validation split every ``--every`` epochs, beside the first sub-model alone (every
training item of the user excluded from its ranking, as for the mean). It shows whether a sub-model's own best
epoch is the one its ensemble needs (``docs/report/ablation_ml1m.md``: it is not, on the ml-1m training file).

    python experiments/ensemble_curve.py results/ml-1m-receraser-train \\
        results/ml-1m-receraser-train/seed2022/partitions/random_K10/assignment.npz \\
        --model BPR --params '{"reg_weight": 0.05}' --epochs 80 --every 10

``--params`` goes over the model's defaults and ``config/config.yaml``'s sub-model settings for BPR (Adagrad 0.05,
batch 1024, reg 1e-4, interaction sampling); ``--authors-negatives`` draws negatives as the authors' code does
(rejecting an item the user has in any shard: not exact unlearning, measured only).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

SUBMODEL = {"BPR": {"optimizer": "adagrad", "lr": 0.05, "batch_size": 1024, "reg_weight": 1e-4,
                    "sampling": "interaction"},
            "WMF": {"optimizer": "adagrad", "lr": 0.02, "batch_size": 256, "reg_weight": 0.0}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", help="a dataset's results folder, holding data/train.npz and data/valid.npz")
    ap.add_argument("assignment", help="a partition's assignment.npz")
    ap.add_argument("--model", default="BPR")
    ap.add_argument("--params", default="{}", help="JSON over the sub-model settings")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--every", type=int, default=10)
    ap.add_argument("--seed", type=int, default=2022)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--authors-negatives", action="store_true")
    args = ap.parse_args()

    import numpy as np
    import torch

    from recunlearn.data import load_interactions
    from recunlearn.metrics import embedding_scorer, evaluate
    from recunlearn.models import model_class, model_config
    from recunlearn.sampling import NegativeSampler
    from recunlearn.sharded import shard_interactions
    from recunlearn.train import epoch_batches, make_optimizer, seed_everything, train_epoch

    torch.set_num_threads(args.threads)
    train = load_interactions(Path(args.run) / "data" / "train.npz")
    valid = load_interactions(Path(args.run) / "data" / "valid.npz")
    with np.load(args.assignment) as z:
        assign, k = z["shard"], int(z["n_shards"])
    params = {**SUBMODEL.get(args.model, {}), **json.loads(args.params), "max_epochs": args.epochs}
    cfg = model_config(args.model, params)
    runs = []
    for s in range(k):
        part = shard_interactions(train, None, s, assign)
        g = seed_everything(args.seed + s)
        m = model_class(args.model)(train.n_users, train.n_items, cfg, part)
        sampler = NegativeSampler(part) if m.input_type == "pairs" else None
        if sampler is not None and args.authors_negatives:
            sampler.keys = NegativeSampler(train).keys  # reject the user's items of every shard
        runs.append((m, make_optimizer(cfg, [p for p in m.parameters() if p.requires_grad]), sampler, part, g))
    print(f"{args.model} {Path(args.assignment).parent.name}: K = {k}, {params}"
          + (", the authors' negatives" if args.authors_negatives else ""), flush=True)
    t0 = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        for m, opt, sampler, part, g in runs:
            train_epoch(m, opt, epoch_batches(m, cfg, part, sampler, g), "cpu")
        if epoch % args.every and epoch != args.epochs:
            continue
        with torch.no_grad():
            for m, *_ in runs:
                m.eval()
            embs = [m.embeddings() for m, *_ in runs]
            p, q = torch.cat([e[0] for e in embs], 1) / k, torch.cat([e[1] for e in embs], 1)
            mean = evaluate(embedding_scorer(p, q), valid, [train], [20])[("Recall", 20)]
            first = evaluate(embedding_scorer(*embs[0]), valid, [train], [20])[("Recall", 20)]
        print(f"epoch {epoch}: MeanAgg valid Recall@20 {mean:.4f}, sub-model 0 alone {first:.4f}, "
              f"{time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
