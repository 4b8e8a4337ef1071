"""RefitAgg's ridge chosen on validation (docs/report/frontier.md): MembAgg against RefitAgg at each ``refit_reg`` of its
declared search space, over the InBP sub-models of a workflow run.

Reads ``results/<dataset>/data``, the InBP assignment (``results/<dataset>/seed<S>/partitions/inbp_K<K>``) and the
sub-models (``results/<dataset>/<MODEL>/seed<S>/inbp_K<K>/shard_<i>/embeddings.pt``) of a finished run, and prints
validation Recall@20 of each, the seconds of each fit, and test Recall@20 of MembAgg and of RefitAgg at the config's
own ridge only (the report; nothing is chosen on it).

    snakemake --cores 2 results/tables/table_6_3.md --configfile config/ml100k.yaml config/frontier_ml100k.yaml
    python experiments/refit_aggregation.py results ml-100k-offline WMF --seed 2022
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", help="the results/ folder of a workflow run")
    ap.add_argument("dataset")
    ap.add_argument("model")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--seed", type=int, default=2022)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import numpy as np
    import torch

    from recunlearn.aggregators import AggregatorConfig
    from recunlearn.artefacts import load_state
    from recunlearn.data import load_interactions
    from recunlearn.metrics import embedding_scorer, evaluate
    from recunlearn.registry import AGGREGATORS
    from recunlearn.sharded import train_aggregator
    from recunlearn.requests import without

    torch.set_num_threads(args.threads)
    root = Path(args.results) / args.dataset
    train, valid, test = (load_interactions(root / "data" / f"{name}.npz") for name in ("train", "valid", "test"))
    with np.load(root / f"seed{args.seed}" / "partitions" / f"inbp_K{args.k}" / "assignment.npz") as z:
        shard = z["shard"].astype(np.int64)
    run = root / args.model / f"seed{args.seed}" / f"inbp_K{args.k}"
    subs = [load_state(run / f"shard_{i}" / "embeddings.pt") for i in range(args.k)]
    P = torch.stack([s["user"] for s in subs]).float()
    Q = torch.stack([s["item"] for s in subs]).float()

    def fit(name, params):
        t0 = time.perf_counter()
        _, agg, _ = train_aggregator(name, args.model, {}, params, P, Q, train, valid, args.seed, "cpu", name,
                                     shard=shard)
        seconds = time.perf_counter() - t0
        with torch.no_grad():
            scorer = embedding_scorer(*agg.embeddings())
        return scorer, seconds

    def recall(scorer, heldout, exclude):
        return evaluate(scorer, heldout, exclude, [20], batch_users=256)[("Recall", 20)]

    fit("memb", {})  # the first L-BFGS step of a process loads torch.optim: not a fit's cost
    print(f"{args.dataset} {args.model} seed {args.seed}, InBP K = {args.k}: Recall@20")
    scorer, seconds = fit("memb", {})
    print(f"  MembAgg: validation {recall(scorer, valid, [train]):.4f}, test {recall(scorer, test, [train, valid]):.4f}"
          f" (fit {seconds:.2f} s)")
    own = AggregatorConfig.refit_reg
    for reg in AGGREGATORS["refit"].search_space["refit_reg"]["choices"]:
        scorer, seconds = fit("refit", {"refit_reg": reg})
        line = f"  RefitAgg, refit_reg {reg:g}: validation {recall(scorer, valid, [train]):.4f}"
        if reg == own:
            line += f", test {recall(scorer, test, [train, valid]):.4f} (the config's)"
        print(line + f" (fit {seconds:.2f} s)", flush=True)

    # the re-fit alone: from nothing, and after one more sequential request (one interaction deleted, its shard's
    # sub-model changed), which re-solves only the rows whose inputs changed
    from recunlearn.aggregators.membership import refit_users
    from recunlearn.models import model_config

    c0 = model_config(args.model, {}).loss_options().get("c0", 0.2)
    row = int(np.flatnonzero(train.user == train.user[0])[0])
    after, after_shard = without(train, np.array([row])), np.delete(shard, [row])
    changed = Q.clone()
    changed[int(shard[row])] = changed[int(shard[row])] * 1.01  # a stand-in for its retrained sub-model
    times, got, cache = {}, {}, {}
    for name, q, data, assign, kept in (("from nothing", Q, train, shard, None), ("primed", Q, train, shard, cache),
                                        ("after a request", changed, after, after_shard, cache)):
        t0 = time.perf_counter()
        got[name] = refit_users(q, data, assign, c0, own, cache=kept)
        times[name] = time.perf_counter() - t0
    same = torch.equal(got["after a request"], refit_users(changed, after, after_shard, c0, own))
    print(f"  the re-fit of {args.k} x {train.n_users} users: from nothing {times['from nothing']:.3f} s, after a "
          f"request {times['after a request']:.3f} s (same bits as from nothing: {same})")


if __name__ == "__main__":
    main()
