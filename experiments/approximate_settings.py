"""The approximate methods' settings chosen on validation (docs/guide/method.md, section 10): SCIF and IFRU at each
damping (and IFRU at each k_hops) on the forgetting check's members of a workflow run, unlearned at once from its
Retrain model; validation Recall@20 after the deletion beside Retrain's without them, the seconds and the solve.

Reads ``results/<dataset>/data``, ``results/<dataset>/forgetting/members.csv`` and the Retrain model and its
validation-split reference (``results/<dataset>/<MODEL>/seed<S>/retrain`` and its ``forget_batch``) of a finished
run; prints one row per setting (validation only: nothing here reads the test split).

    snakemake --cores 2 results/tables/forgetting.md --configfile config/ml100k.yaml
    python experiments/approximate_settings.py results ml-100k-offline WMF --seed 2022
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", help="the results/ folder of a workflow run")
    ap.add_argument("dataset")
    ap.add_argument("model")
    ap.add_argument("--seed", type=int, default=2022)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--damping", type=float, nargs="+", default=[1e-3, 1e-2, 1e-1, 1.0, 10.0])
    ap.add_argument("--k-hops", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--cg-iterations", type=int, default=100)
    args = ap.parse_args()

    import numpy as np
    import pandas as pd
    import torch

    from recunlearn.approximate import unlearn
    from recunlearn.data import load_interactions
    from recunlearn.metrics import embedding_scorer, evaluate
    from recunlearn.requests import without
    from recunlearn.unlearn import load_model

    torch.set_num_threads(args.threads)
    root = Path(args.results) / args.dataset
    train, valid = (load_interactions(root / "data" / f"{name}.npz") for name in ("train", "valid"))
    rows = pd.read_csv(root / "forgetting" / "members.csv")["row"].to_numpy(np.int64)
    deleted = np.zeros(len(train), dtype=bool)
    deleted[rows] = True
    kept = without(train, rows)
    run = root / args.model / f"seed{args.seed}" / "retrain"

    def recall(model):
        with torch.no_grad():
            p, q = model.embeddings()
        return evaluate(embedding_scorer(p, q), valid, [kept], [20])[("Recall", 20)]

    original, _ = load_model(args.model, run / "model.pt", run / "model.json", train)
    reference, _ = load_model(args.model, run / "forget_batch" / "model.pt", run / "forget_batch" / "model.json", kept)
    print(f"{args.dataset} {args.model}: {len(rows)} members; validation Recall@20: original {recall(original):.4f}, "
          f"Retrain without them {recall(reference):.4f}")
    out = []
    settings = [("scif", {"damping": d}) for d in args.damping]
    settings += [("ifru", {"damping": d, "k_hops": k}) for k in args.k_hops for d in args.damping]
    for method, options in settings:
        served, info = unlearn(method, original, train, deleted, valid, args.seed, "cpu",
                               {**options, "cg_iterations": args.cg_iterations})
        out.append({"method": method, **options, "valid_recall20": recall(served), "seconds": info["seconds"],
                    "cg_iterations": info["cg_iterations"], "residual": info["residual"],
                    "users": info["users_updated"], "items": info["items_updated"]})
        print(out[-1], flush=True)
    print(pd.DataFrame(out).to_markdown(index=False, floatfmt=".4g"))


if __name__ == "__main__":
    main()
