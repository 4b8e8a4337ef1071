"""When a Retrain first reaches a validation Recall@20 (docs/guide/method.md, section 4): WMF by ALS against WMF by
Adagrad. Re-trains the run's Retrain, as its sidecar records it (settings, seed), for 1, 2, ... epochs (sweeps) with
``keep: last``, evaluates validation Recall@20 after each, and reads the seconds at that epoch from the run's
``history.csv``. The trajectory is the run's own: the same seed and settings give the same parameters epoch by
epoch, so the Recall@10 printed beside matches the history's. Validation only: nothing here reads the test split.

    snakemake --cores 2 results/ml-1m-receraser-train/WMF/seed2022/retrain/metrics.csv \\
        results/ml-1m-receraser-train-als/WMF/seed2022/retrain/metrics.csv \\
        --configfile config/ml1m_train.yaml config/wmf_als_ml1m.yaml config/wmf_tuned_ml1m.yaml
    python experiments/time_to_quality.py results/ml-1m-receraser-train-als/WMF/seed2022/retrain \\
        --target 0.2125 --max-epochs 10
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("retrain", help="a Retrain folder of a workflow run (model.json, history.csv)")
    ap.add_argument("--target", type=float, required=True, help="the validation Recall@20 to reach")
    ap.add_argument("--max-epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import torch

    from recunlearn.data import load_interactions
    from recunlearn.metrics import evaluate
    from recunlearn.models import model_config
    from recunlearn.train import fit

    torch.set_num_threads(args.threads)
    folder = Path(args.retrain)
    sidecar = json.loads((folder / "model.json").read_text())
    train = load_interactions(sidecar["trained_on"]["path"])
    valid = load_interactions(sidecar["validated_on"]["path"])
    seconds = {int(row["epoch"]): float(row["seconds"]) for row in csv.DictReader(open(folder / "history.csv"))}
    print("| epoch | valid Recall@10 | valid Recall@20 | seconds in the run |")
    print("|---|---|---|---|")
    for epochs in range(1, args.max_epochs + 1):
        cfg = model_config(sidecar["model"], {**sidecar["config"], "max_epochs": epochs, "keep": "last"})
        model = fit(sidecar["model"], cfg, train, valid, seed=sidecar["seed"]).model.eval()
        with torch.no_grad():
            recall = evaluate(model.validation_scorer(), valid, [train], [10, 20])
        print(f"| {epochs} | {recall[('Recall', 10)]:.4f} | {recall[('Recall', 20)]:.4f} | {seconds[epochs]:.2f} |")
        if recall[("Recall", 20)] >= args.target:
            break


if __name__ == "__main__":
    main()
