"""The first thing to run on a machine with a GPU: every model, every aggregator and an unlearning step on CUDA,
checked against the CPU, in a few minutes.

    python benchmarks/gpu_smoke.py                 # synthetic data of the demo's kind (2,000 users x 1,500 items)
    python benchmarks/gpu_smoke.py --users 300     # smaller and faster

For each base model (BPR, WMF, LightGCN and any registered one): trained on the CPU and twice on CUDA with the same
seed; then each registered aggregator over sub-models of an InBP partition, and one unlearning step (a shard
retrained without a deleted interaction, then the aggregator). Printed per line: validation Recall@20 on each
device, the CPU-vs-CUDA difference against ``--tolerance`` (CUDA's kernels add in other orders than the CPU's, so
the runs differ in the last bits and, over many epochs, in their early-stopping epoch: the metrics agree to a
tolerance, not bit for bit), the difference between the two CUDA runs (CUDA runs are not bit-reproducible:
dropout and atomic adds), and seconds per epoch on each device. Exit status 1 if a difference exceeds the tolerance.

On a machine without CUDA it runs the CPU part and says, in one line, that the CUDA part is skipped (CI runs it so).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--items", type=int, default=1500)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--shards", type=int, default=3)
    ap.add_argument("--tolerance", type=float, default=0.03, help="largest CPU-vs-CUDA difference of Recall@20")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2022)
    args = ap.parse_args(argv)

    import numpy as np
    import torch

    from recunlearn.data import Interactions, split_per_user
    from recunlearn.metrics import embedding_scorer, evaluate
    from recunlearn.models import MODELS, model_config
    from recunlearn.partition import partition
    from recunlearn.registry import AGGREGATORS
    from recunlearn.sharded import final_embeddings, shard_interactions, train_aggregator, train_submodel
    from recunlearn.synthetic import SyntheticConfig, generate
    from recunlearn.train import device_info, fit
    from recunlearn.requests import without

    torch.set_num_threads(args.threads)
    raw = generate(SyntheticConfig(n_users=args.users, n_items=args.items, n_communities=8, mean_interactions=30,
                                   min_interactions=8, max_interactions=300, seed=args.seed))
    x = Interactions(raw["user"], raw["item"], args.users, args.items)
    label = split_per_user(x.user, args.users, (0.8, 0.1, 0.1), seed=1)
    train, valid = (Interactions(x.user[label == k], x.item[label == k], args.users, args.items) for k in (0, 1))
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += ["cuda", "cuda"]  # twice: the two CUDA runs are compared
        print(f"CUDA: {device_info('cuda')}")
    else:
        print("CUDA: not available on this machine (torch.cuda.is_available() is False): the CUDA part is skipped; "
              "the CPU part runs")
    print(f"data: {len(train):,} training interactions, {args.users} users, {args.items} items; "
          f"{args.epochs} epochs at most; tolerance {args.tolerance} (Recall@20)")
    failures, results = [], {}

    def recall(model) -> float:
        with torch.no_grad():
            p, q = model.embeddings()
        return evaluate(embedding_scorer(p, q), valid, [train], [20], device=p.device)[("Recall", 20)]

    def report(what: str, values: list[float], seconds: list[float]) -> None:
        line = f"{what}: Recall@20 " + " / ".join(f"{d} {v:.4f}" for d, v in zip(devices, values))
        line += "; s/epoch " + " / ".join(f"{s:.3f}" for s in seconds)
        if len(values) > 1:
            diff = abs(values[1] - values[0])
            line += f"; CPU-vs-CUDA {diff:.4f} ({'ok' if diff <= args.tolerance else 'ABOVE TOLERANCE'})"
            line += f"; CUDA run 1 vs 2 {abs(values[2] - values[1]):.4f}"
            if diff > args.tolerance:
                failures.append(what)
        print(line, flush=True)

    hyper = {"dim": 32, "max_epochs": args.epochs, "patience": 5, "batch_size": 1024}
    for name in MODELS:
        values, seconds = [], []
        for device in devices:
            res = fit(name, model_config(name, hyper), train, valid, args.seed, device, label=f"{name} on {device}")
            values.append(recall(res.model))
            seconds.append(res.train_seconds / max(res.epochs_run, 1))
        report(f"{name} (best epoch {res.best_epoch} of {res.epochs_run})", values, seconds)

    emb = {"user": torch.randn(args.users, 8, generator=torch.Generator().manual_seed(0)),
           "item": torch.randn(args.items, 8, generator=torch.Generator().manual_seed(1))}
    shard, _ = partition("inbp", train, args.shards, args.seed, user_emb=emb["user"].numpy(),
                         item_emb=emb["item"].numpy(), rounds=10)
    parts = [shard_interactions(train, None, s, shard) for s in range(args.shards)]
    agg_params = {"max_epochs": min(args.epochs, 10), "patience": 5}
    for name in MODELS:
        for device_i, device in enumerate(devices):
            subs = [final_embeddings(train_submodel(name, hyper, part, valid, args.seed, device, f"{name} shard")[1]
                                     .model) for part in parts]
            sub_p = torch.stack([s["user"] for s in subs])
            sub_q = torch.stack([s["item"] for s in subs])
            for aggregator in AGGREGATORS:
                t0 = time.perf_counter()
                _, model, res = train_aggregator(aggregator, name, hyper, agg_params, sub_p, sub_q, train, valid,
                                                 args.seed, device, label=f"{name} {aggregator}", shard=shard)
                key = (name, aggregator)
                store = results.setdefault(key, ([], []))
                store[0].append(recall(model))
                store[1].append((res.train_seconds / max(res.epochs_run, 1)) if res else time.perf_counter() - t0)
            # one unlearning step on this device: shard 0 without its first interaction, then AttAgg again
            reduced = without(train, np.array([int(np.flatnonzero(shard == 0)[0])]))
            reduced_shard = np.delete(shard, int(np.flatnonzero(shard == 0)[0]))
            _, res = train_submodel(name, hyper, shard_interactions(reduced, None, 0, reduced_shard), valid,
                                    args.seed, device, f"{name} shard 0 unlearned")
            sub_p[0], sub_q[0] = (final_embeddings(res.model)[k].to(sub_p.device) for k in ("user", "item"))
            _, model, res = train_aggregator("att", name, hyper, agg_params, sub_p, sub_q, reduced, valid,
                                             args.seed, device, label=f"{name} att unlearned")
            store = results.setdefault((name, "att (after one unlearning step)"), ([], []))
            store[0].append(recall(model))
            store[1].append(res.train_seconds / max(res.epochs_run, 1))
        for (model_name, aggregator), (values, seconds) in results.items():
            if model_name == name:
                report(f"{name} + {aggregator} over {args.shards} InBP sub-models", values, seconds)
    if failures:
        print(f"FAILED: {len(failures)} CPU-vs-CUDA difference(s) above {args.tolerance}: {', '.join(failures)}")
        return 1
    print("gpu_smoke: every check ran" + ("" if len(devices) > 1 else " (CPU only)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
