"""Seconds per training epoch of each base model on synthetic data of ml-1m's size.

6,040 users x 3,706 items x ~1 M interactions, 80% used for training, at the batch sizes of config/config.yaml
(or the model defaults), through the trainer's own epoch loop; and a sweep of WMF's alternating least squares
(``optimizer: als``, ``recunlearn.als``) beside its mini-batch epoch. Targets on a 2-core machine: BPR <= 3 s, WMF
<= 2 s, LightGCN <= 30 s; an ALS sweep at most a WMF epoch.
Usage: python benchmarks/epoch_time.py [--epochs 2] [--models BPR WMF LightGCN] [--threads 2]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from recunlearn.config import load_yaml
from recunlearn.data import Interactions, split_per_user
from recunlearn.models import model_class, model_config
from recunlearn.sampling import NegativeSampler
from recunlearn.synthetic import SyntheticConfig, generate
from recunlearn.train import epoch_batches, make_optimizer, seed_everything, train_epoch

TARGETS = {"BPR": 3.0, "WMF": 2.0, "LightGCN": 30.0}
ROOT = Path(__file__).resolve().parents[1]


def ml1m_like() -> Interactions:
    out = generate(SyntheticConfig(n_users=6040, n_items=3706, n_communities=20, mean_interactions=166,
                                   min_interactions=20, max_interactions=2000, seed=1))
    x = Interactions(out["user"], out["item"], 6040, 3706)
    label = split_per_user(x.user, x.n_users, (0.8, 0.1, 0.1), seed=1)
    return Interactions(x.user[label == 0], x.item[label == 0], x.n_users, x.n_items), len(x)


def epoch_seconds(name: str, params: dict, train: Interactions, epochs: int) -> float:
    """The fastest of ``epochs`` epochs of the trainer's own loop (``train.epoch_batches``, ``train.train_epoch``)."""
    cfg = model_config(name, params)
    gen = seed_everything(0)
    model = model_class(name)(train.n_users, train.n_items, cfg, train)
    opt = make_optimizer(cfg, [p for p in model.parameters() if p.requires_grad])
    sampler = NegativeSampler(train) if model.input_type == "pairs" else None
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        if opt is None:  # optimizer: als, a sweep
            model.als_sweep(train)
        else:
            train_epoch(model, opt, epoch_batches(model, cfg, train, sampler, gen), "cpu")
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--models", nargs="+", default=list(TARGETS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--config", default=str(ROOT / "config" / "config.yaml"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    hyper = load_yaml(args.config).get("hyperparameters", {})
    train, total = ml1m_like()
    print(f"data: {train.n_users} users x {train.n_items} items, {total:,} interactions, {len(train):,} in train; "
          f"{torch.get_num_threads()} threads")
    for name in args.models:
        params = dict(hyper.get(name, {}))
        secs = epoch_seconds(name, params, train, args.epochs)
        bs = model_config(name, params).batch_size
        print(f"{name:9s} batch {bs:5d}: {secs:6.2f} s/epoch  (target <= {TARGETS[name]:.0f} s: "
              f"{'ok' if secs <= TARGETS[name] else 'MISSED'}; ratio {secs / TARGETS[name]:.2f})")
        if name == "WMF":
            sweep = epoch_seconds(name, {**params, "optimizer": "als"}, train, args.epochs)
            print(f"{'WMF als':9s}           : {sweep:6.2f} s/sweep  (target <= one WMF epoch, {secs:.2f} s: "
                  f"{'ok' if sweep <= secs else 'MISSED'}; ratio {sweep / secs:.2f})")


if __name__ == "__main__":
    main()
