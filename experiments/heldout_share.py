"""Recall@K and NDCG@K of one model as the held-out test share goes from 10% to 22% (docs/report/protocol.md).

The paper's text describes a random 80/10/10 split per user; the authors' released ml-1m files are a 78/22
train/test split (validation carved from train). This script measures, on the demo's synthetic data
(config/demo.yaml), what that difference does to the metrics, with the library's own split, training and
evaluation code:

1. two protocols, each trained and evaluated: ``random`` 80/10/10 per user (config/config.yaml) and ``given`` with
   a 22% test file per user and 10% of the rest for validation (config/paper_splits.yaml's protocol);
2. one model, two test sets: the model trained under (1)'s 78/22 protocol, evaluated on its whole 22% test set and
   on a per-user random subset of it holding 10% of the interactions (same scores, same training data: only the
   number of held-out items per user changes).

MostPop (no training) is evaluated alongside as a model-free check.

    python experiments/heldout_share.py                       # WMF, seeds 2022 2023 2024 (under a minute, 1 core)
    python experiments/heldout_share.py --seeds 2022 2023 2024 2025 2026      # docs/report/protocol.md's WMF rows
    python experiments/heldout_share.py --model BPR --seeds 2022 2023 2024    # and its BPR rows
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from recunlearn.config import hyperparameters, load_yaml, validate_config  # noqa: E402
from recunlearn.data import Interactions, split_given, split_per_user  # noqa: E402
from recunlearn.metrics import embedding_scorer, evaluate, mostpop_scorer  # noqa: E402
from recunlearn.models import model_config  # noqa: E402
from recunlearn.synthetic import SyntheticConfig, generate  # noqa: E402
from recunlearn.train import fit  # noqa: E402

KS = (20,)


def subsample_per_user(test: Interactions, share: float, seed: int) -> Interactions:
    """A per-user random subset of ``test`` with round(share * |test_u|) items (at least one) of every user."""
    keep = split_per_user(test.user, test.n_users, (1.0 - share, 0.0, share), seed, min_user_interactions=1) == 2
    return Interactions(test.user[keep], test.item[keep], test.n_users, test.n_items)


def splits(user, item, n_users, n_items, protocol: str, seed: int, min_user: int):
    """(train, valid, test) under ``random`` 80/10/10 or ``given`` (a 22% test file per user, then 10% of the train
    file for validation), as recunlearn.data splits them."""
    if protocol == "random":
        label = split_per_user(user, n_users, (0.8, 0.1, 0.1), seed, min_user)
    else:
        in_test = split_per_user(user, n_users, (0.78, 0.0, 0.22), seed, min_user) == 2  # the "test file"
        label = split_given(user, n_users, in_test, 0.1, seed + 1, min_user)
    return tuple(Interactions(user[label == c], item[label == c], n_users, n_items) for c in (0, 1, 2))


def held_out_profile(test: Interactions) -> dict:
    n = np.bincount(test.user, minlength=test.n_users)
    n = n[n > 0]
    return {"mean |test_u|": n.mean(), "median |test_u|": float(np.median(n)),
            "users with |test_u| > 20": float((n > 20).mean())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=ROOT / "config" / "demo.yaml")
    ap.add_argument("--model", default="WMF", choices=["BPR", "WMF", "LightGCN"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[2022, 2023, 2024])
    ap.add_argument("--out", type=Path, default=None, help="write the per-seed rows here (CSV)")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    config = validate_config(load_yaml(args.config), ROOT / "workflow" / "schemas" / "config.schema.yaml")
    dataset = config["datasets"][0]
    raw = generate(SyntheticConfig(**config["registry"][dataset]["synthetic"]))
    # the same remapping preprocessing does: an item nobody picked is dropped
    _, user = np.unique(raw["user"], return_inverse=True)
    _, item = np.unique(raw["item"], return_inverse=True)
    n_users, n_items = int(user.max()) + 1, int(item.max()) + 1
    split_seed, min_user = config["split"]["seed"], config["split"]["min_user_interactions"]
    print(f"{dataset}: {n_users} users, {n_items} items, {len(user)} interactions; model {args.model}, "
          f"seeds {args.seeds}", flush=True)

    data = {p: splits(user, item, n_users, n_items, p, split_seed, min_user) for p in ("random", "given")}
    given_test = data["given"][2]
    sub_test = subsample_per_user(given_test, 10 / 22, split_seed + 2)
    cfg = model_config(args.model, hyperparameters(config, dataset, args.model))

    rows, profiles = [], []
    for name, test in (("random 80/10/10: test", data["random"][2]), ("given 78/22: test", given_test),
                       ("given 78/22: test subset", sub_test)):
        prof = held_out_profile(test)
        prof.update({"held-out set": name, "test share": len(test) / len(user)})
        profiles.append(prof)

    def score(label, scorer, train, valid, test, seed):
        values = evaluate(scorer, test, [train, valid], KS)
        rows.append({"setting": label, "seed": seed, "test share": len(test) / len(user),
                     "Recall@20": values[("Recall", 20)], "NDCG@20": values[("NDCG", 20)]})

    for protocol in ("random", "given"):  # MostPop: no seed
        train, valid, test = data[protocol]
        score(f"MostPop, {protocol}", mostpop_scorer(train), train, valid, test, -1)
    score("MostPop, given, test subset", mostpop_scorer(data["given"][0]), *data["given"][:2], sub_test, -1)
    for seed in args.seeds:
        for protocol in ("random", "given"):
            t0 = time.perf_counter()
            train, valid, test = data[protocol]
            res = fit(args.model, cfg, train, valid, seed, "cpu", label=f"{protocol}/{seed}")
            with torch.no_grad():
                scorer = embedding_scorer(*(e.detach() for e in res.model.embeddings()))
            score(f"{args.model}, {protocol}", scorer, train, valid, test, seed)
            if protocol == "given":
                score(f"{args.model}, given, test subset", scorer, train, valid, sub_test, seed)
            print(f"{protocol} seed {seed}: best epoch {res.best_epoch}, {time.perf_counter() - t0:.0f} s", flush=True)

    df = pd.DataFrame(rows)
    if args.out:
        df.to_csv(args.out, index=False)
    print("\nheld-out sets:\n")
    print(pd.DataFrame(profiles)[["held-out set", "test share", "mean |test_u|", "median |test_u|",
                                  "users with |test_u| > 20"]].to_markdown(index=False, floatfmt=".3f"))
    summary = df.groupby("setting", sort=False).agg(
        **{"test share": ("test share", "first"), "seeds": ("seed", "size"),
           "Recall@20": ("Recall@20", "mean"), "Recall@20 std": ("Recall@20", "std"),
           "NDCG@20": ("NDCG@20", "mean"), "NDCG@20 std": ("NDCG@20", "std")}).reset_index()
    print("\ntest metrics (mean and sample std over seeds):\n")
    print(summary.to_markdown(index=False, floatfmt=".4f"))


if __name__ == "__main__":
    main()
