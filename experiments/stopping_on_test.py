"""What early stopping on the test split is worth: Retrain's test Recall@20 at the epoch validation picks, against
its best test Recall@20 over the epochs (what stopping on test, as the paper's code does, reports).

It trains the base model on a dataset's training split with the library's trainer pieces, evaluating validation
Recall@10 (the pipeline's early-stopping criterion), validation Recall@20 and test Recall@20 after every epoch, for
``--epochs`` epochs. Use it on a split whose test is not a held-back judge (e.g. ``config/ml1m_train.yaml``'s, carved
from the authors' training file): it reads the test split.

With ``--train-on-validation`` the model trains on the training and validation splits together, as the paper's code
trains on every interaction that is not test (it has no validation split), and only test Recall@20 is printed: run
it with ``--epochs`` set to the epoch validation picked, beside the plain run, for what holding validation out costs.

    python experiments/stopping_on_test.py results/ml-1m-receraser-train --model BPR --epochs 90 \\
        --params '{"optimizer": "adagrad", "lr": 0.0498, "batch_size": 512, "reg_weight": 0.01, "sampling": "user"}'
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", help="a dataset's results folder, holding data/{train,valid,test}.npz")
    ap.add_argument("--model", default="BPR")
    ap.add_argument("--params", default="{}", help="JSON over the model's defaults")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--patience", type=int, default=10, help="the pipeline's early stopping, for its epoch")
    ap.add_argument("--seed", type=int, default=2022)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train-on-validation", action="store_true",
                    help="train on train + valid (no early stopping), print test Recall@20 only")
    args = ap.parse_args()

    import numpy as np
    import torch

    from recunlearn.data import Interactions, load_interactions
    from recunlearn.metrics import embedding_scorer, evaluate
    from recunlearn.models import model_class, model_config
    from recunlearn.sampling import NegativeSampler
    from recunlearn.train import epoch_batches, make_optimizer, seed_everything, train_epoch

    torch.set_num_threads(args.threads)
    split = {s: load_interactions(Path(args.run) / "data" / f"{s}.npz") for s in ("train", "valid", "test")}
    train = split["train"]
    if args.train_on_validation:
        v = split["valid"]
        train = Interactions(np.concatenate([train.user, v.user]), np.concatenate([train.item, v.item]),
                             train.n_users, train.n_items)
    cfg = model_config(args.model, {**json.loads(args.params), "max_epochs": args.epochs})
    gen = seed_everything(args.seed)
    model = model_class(args.model)(train.n_users, train.n_items, cfg, train)
    opt = make_optimizer(cfg, [p for p in model.parameters() if p.requires_grad])
    sampler = NegativeSampler(train) if model.input_type == "pairs" else None
    rows, best, stale, stop = [], -1.0, 0, None
    for epoch in range(1, args.epochs + 1):
        train_epoch(model, opt, epoch_batches(model, cfg, train, sampler, gen), "cpu")
        model.eval()
        if args.train_on_validation:
            with torch.no_grad():
                t = evaluate(embedding_scorer(*model.embeddings()), split["test"], [train], [20])
            rows.append((epoch, t[("Recall", 20)]))
            print(f"epoch {epoch}: test Recall@20 {rows[-1][1]:.4f} (trained on train + valid, "
                  f"{len(train)} interactions)", flush=True)
            continue
        with torch.no_grad():
            score = embedding_scorer(*model.embeddings())
            v = evaluate(score, split["valid"], [train], [10, 20])
            t = evaluate(score, split["test"], [train, split["valid"]], [20])
        rows.append((epoch, v[("Recall", 10)], v[("Recall", 20)], t[("Recall", 20)]))
        if v[("Recall", 10)] > best:
            best, stale = v[("Recall", 10)], 0
        else:
            stale += 1
        if stop is None and stale >= args.patience:
            stop = epoch
        print(f"epoch {epoch}: valid Recall@10 {rows[-1][1]:.4f}, Recall@20 {rows[-1][2]:.4f}; "
              f"test Recall@20 {rows[-1][3]:.4f}", flush=True)
    if args.train_on_validation:
        print(f"{args.model}, trained on train + valid: test Recall@20 {rows[-1][1]:.4f} at epoch {rows[-1][0]}")
        return
    seen = rows[: stop or len(rows)]
    chosen = max(seen, key=lambda r: r[1])
    on_test = max(rows, key=lambda r: r[3])
    print(f"{args.model}: validation picks epoch {chosen[0]} (test Recall@20 {chosen[3]:.4f}); the best test epoch "
          f"is {on_test[0]} (test Recall@20 {on_test[3]:.4f}): stopping on test adds {on_test[3] - chosen[3]:+.4f} "
          f"({(on_test[3] - chosen[3]) / chosen[3]:+.1%})")


if __name__ == "__main__":
    main()
