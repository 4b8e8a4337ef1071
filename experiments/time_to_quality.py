"""When a Retrain first reaches a validation Recall@20 (docs/guide/method.md, section 4): WMF by ALS against WMF by
Adagrad. Re-trains the run's Retrain once, as its sidecar records it (settings, seed), evaluates validation Recall@20
after each epoch (sweep) until it reaches ``--target``, and reads the seconds at that epoch from the run's
``history.csv``. The trajectory is the run's own: the same seed and settings give the same parameters epoch by
epoch, so the Recall@10 printed beside matches the history's. Validation only: nothing here reads the test split.

    snakemake --cores 2 results/ml-1m-receraser-train/WMF/seed2022/retrain/metrics.csv \\
        results/ml-1m-receraser-train-als/WMF/seed2022/retrain/metrics.csv \\
        --configfile config/ml1m_train.yaml config/wmf_als_ml1m.yaml config/wmf_tuned_ml1m.yaml
    python experiments/time_to_quality.py results/ml-1m-receraser-train-als/WMF/seed2022/retrain \\
        --target 0.2125
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
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import torch

    from recunlearn.data import load_interactions
    from recunlearn.metrics import evaluate
    from recunlearn.models import model_class, model_config
    from recunlearn.train import fit

    torch.set_num_threads(args.threads)
    folder = Path(args.retrain)
    sidecar = json.loads((folder / "model.json").read_text())
    train = load_interactions(sidecar["trained_on"]["path"])
    valid = load_interactions(sidecar["validated_on"]["path"])
    seconds = {int(row["epoch"]): float(row["seconds"]) for row in csv.DictReader(open(folder / "history.csv"))}
    cfg = model_config(sidecar["model"], sidecar["config"])
    built = []

    def build():
        built.append(model_class(sidecar["model"])(train.n_users, train.n_items, cfg, train))
        return built[0]

    def on_eval(epoch: int, recall10: float) -> None:
        with torch.no_grad():
            recall20 = evaluate(built[0].validation_scorer(), valid, [train], [20])[("Recall", 20)]
        print(f"| {epoch} | {recall10:.4f} | {recall20:.4f} | {seconds[epoch]:.2f} |", flush=True)
        if recall20 >= args.target:
            raise Reached

    print("| epoch | valid Recall@10 | valid Recall@20 | seconds in the run |")
    print("|---|---|---|---|")
    try:
        fit(build, cfg, train, valid, seed=sidecar["seed"], on_eval=on_eval)
        print(f"not reached: the run ended below {args.target}")
    except Reached:
        pass


class Reached(Exception):
    """The target is reached: ends the training early (``fit``'s ``on_eval`` may raise)."""


if __name__ == "__main__":
    main()
