"""Can the forgetting check see that RecEraser's partition was computed from embeddings that saw the deletions?

RecEraser's InBP partition is computed once, from WMF embeddings pretrained on the whole training set, and unlearning
keeps it: the served sub-models and aggregator never saw a deleted interaction, but which shard each remaining
interaction sits in depends on the deleted ones. This script serves RecEraser both ways for the forgetting check's
members of a finished workflow run and attacks both with the check of the table (docs/report/forgetting.md):

- as the pipeline serves it: the workflow's batch unlearning of the members (its ``served.json``), partition kept;
- clean: WMF pretrained on the training set minus the members, InBP recomputed on it, sub-models and AttAgg trained
  on it, with the same seed and settings: nothing of the members anywhere.

    snakemake results/tables/forgetting.md --cores 2 --configfile config/ml100k.yaml config/forgetting_ml100k.yaml
    python experiments/forgetting_partition.py --results results --dataset ml-100k-offline --model BPR \\
        --config config/ml100k.yaml config/forgetting_ml100k.yaml
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from recunlearn.config import hyperparameters, load_yaml, merge_configs, submodel_hyperparameters  # noqa: E402
from recunlearn.config import validate_config  # noqa: E402
from recunlearn.data import load_interactions  # noqa: E402
from recunlearn.experiments import partition_options  # noqa: E402
from recunlearn.forgetting import check, model_scorer, sharded_scorer  # noqa: E402
from recunlearn.metrics import embedding_scorer, evaluate  # noqa: E402
from recunlearn.models import model_config  # noqa: E402
from recunlearn.partition import partition  # noqa: E402
from recunlearn.sharded import shard_interactions, train_aggregator, train_submodel  # noqa: E402
from recunlearn.train import fit  # noqa: E402
from recunlearn.requests import without  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, default=Path("results"))
    ap.add_argument("--dataset", default="ml-100k-offline")
    ap.add_argument("--model", default="BPR")
    ap.add_argument("--config", type=Path, nargs="+", default=[ROOT / "config" / "ml100k.yaml"])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    config = validate_config(merge_configs(*(load_yaml(p) for p in [ROOT / "config" / "config.yaml", *args.config])),
                             ROOT / "workflow" / "schemas" / "config.schema.yaml")
    seed, k, s, f = config["training"]["seeds"][0], config["sharding"]["n_shards"], config["sharding"], \
        config["forgetting"]
    res = args.results / args.dataset
    train, valid, test = (load_interactions(res / "data" / f"{x}.npz") for x in ("train", "valid", "test"))
    rows = pd.read_csv(res / "forgetting" / "members.csv")["row"].to_numpy(np.int64)
    reduced = without(train, rows)
    run = res / args.model / f"seed{seed}"
    t0 = time.perf_counter()
    served, _ = sharded_scorer(run / f"inbp_K{k}" / "att" / "forget_batch" / "served.json", train)
    original = model_scorer(args.model, run / "retrain" / "model.pt", run / "retrain" / "model.json", train)

    pre = fit("WMF", model_config("WMF", hyperparameters(config, args.dataset, "WMF")), reduced, valid, seed, "cpu")
    user_emb, item_emb = (e.detach().numpy() for e in pre.model.embeddings())
    assign, _ = partition("inbp", reduced, k, seed, user_emb=user_emb, item_emb=item_emb,
                          **partition_options("inbp", s))
    sub = submodel_hyperparameters(config, args.dataset, args.model)
    ps, qs = [], []
    for i in range(k):
        _, r = train_submodel(args.model, sub, shard_interactions(reduced, None, i, assign=assign), valid, seed, "cpu",
                              f"clean shard {i}", valid_mode=s["submodel_validation"])
        p, q = r.model.embeddings()
        ps.append(p.detach()), qs.append(q.detach())
    _, agg, _ = train_aggregator("att", args.model, sub, dict(config["aggregation"]), torch.stack(ps), torch.stack(qs),
                                 reduced, valid, seed, "cpu", "clean att")
    with torch.no_grad():
        clean = embedding_scorer(*agg.embeddings())
    out = check({"original": original, "RecEraser (partition kept)": served, "RecEraser (clean)": clean}, train,
                rows, valid, test, int(f["seed"]), n_shadow=int(f["n_shadow"]), n_boot=int(f["n_boot"]))
    print(f"{args.dataset} {args.model}: {len(rows)} members, K = {k}, seed {seed} ({time.perf_counter() - t0:.0f} s)")
    print("| served | score AUC [95%] | rank AUC [95%] | learned AUC [95%] | test Recall@20 |")
    print("|---|---|---|---|---|")
    for r, scorer, seen in ((out[0], original, train), (out[1], served, reduced), (out[2], clean, reduced)):
        recall = evaluate(scorer, test, [seen, valid], [20])[("Recall", 20)]
        cells = [f"{r[n + '_mean']:.3f} [{r[n + '_low']:.3f}, {r[n + '_high']:.3f}]"
                 for n in ("score_auc", "rank_auc", "learned_auc")]
        print(f"| {r['method']} | " + " | ".join(cells) + f" | {recall:.4f} |")


if __name__ == "__main__":
    main()
