"""Memory of a long sequential unlearning run: peak RSS after the first request against after the last.

Sequential unlearning retrains one sub-model per request and keeps the K sub-models' embeddings. If a retrained
sub-model stayed reachable (as it did when the stacked embeddings held an autograd graph to its parameters),
memory would grow by a sub-model and its optimiser state per request. This runs ``unlearn_sharded`` (SISA:
random shards, MeanAgg, so that the run is quick) on synthetic data for ``--requests`` timed requests and prints
the process's peak RSS after request 1 and after the last, and their difference per request.

    python benchmarks/unlearning_memory.py                    # 100 requests, 3,000 users x 2,000 items, d = 64
    python benchmarks/unlearning_memory.py --parameters-kept  # the former behaviour, for comparison
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--users", type=int, default=3000)
    ap.add_argument("--items", type=int, default=2000)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--parameters-kept", action="store_true",
                    help="hand the aggregator the sub-models' parameters themselves (the former final_embeddings)")
    args = ap.parse_args()

    import torch

    import recunlearn.unlearn as unlearn_mod
    from recunlearn.artefacts import save_state
    from recunlearn.data import Interactions, save_interactions, split_per_user
    from recunlearn.run import JobContext, RunSpec, Settings
    from recunlearn.jobs.sharding import run_partition, run_shards
    from recunlearn.synthetic import SyntheticConfig, generate
    from recunlearn.requests import sample_requests
    from recunlearn.unlearn import unlearn_sharded

    torch.set_num_threads(2)
    raw = generate(SyntheticConfig(n_users=args.users, n_items=args.items, n_communities=16, mean_interactions=40,
                                   min_interactions=10, max_interactions=400, seed=3))
    x = Interactions(raw["user"], raw["item"], args.users, args.items)
    label = split_per_user(x.user, args.users, (0.8, 0.1, 0.1), seed=1)
    k = 10
    hyper = {"dim": args.dim, "max_epochs": 2, "patience": 2, "batch_size": 1024}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = {}
        for i, split in enumerate(("train", "valid", "test")):
            data[split] = str(tmp / f"{split}.npz")
            save_interactions(data[split], Interactions(x.user[label == i], x.item[label == i], args.users,
                                                        args.items))
        save_state({"user": torch.zeros(args.users, 4), "item": torch.zeros(args.items, 4)}, tmp / "emb.pt")
        part = {"assignment": str(tmp / "assignment.npz"), "stats": str(tmp / "stats.json")}
        run_partition(RunSpec("synthetic", partition="random", n_shards=k), JobContext(seed=0), {}, data,
                      tmp / "emb.pt", part)
        spec = RunSpec("synthetic", "BPR", "random", k, "mean", "sequential")
        ctx = JobContext(seed=2022, device="cpu", threads=2)
        outs = [{key: str(tmp / f"shard{s}.{key}") for key in ("model", "embeddings", "sidecar", "history")}
                for s in range(k)]
        run_shards(spec.with_(aggregator=None, mode=None), ctx, Settings(hyper), data, part["assignment"],
                   list(range(k)), outs)
        sample_requests(data["train"], tmp / "requests.csv", args.requests, seed=2)
        peaks = []
        real = unlearn_mod.train_aggregator

        def recorded(*a, **kw):  # called once per request, after its shard was retrained
            out = real(*a, **kw)
            peaks.append(peak_rss_mb())
            return out

        unlearn_mod.train_aggregator = recorded
        if args.parameters_kept:
            def kept(model):
                with torch.no_grad():
                    p, q = model.embeddings()
                return {"user": p, "item": q}

            unlearn_mod.final_embeddings = kept
        unlearn_sharded(spec, ctx, Settings(hyper), {**data, "assignment": part["assignment"],
                                                     "requests": tmp / "requests.csv"},
                        [{"embeddings": o["embeddings"], "sidecar": o["sidecar"], "model": o["model"]} for o in outs],
                        {"dir": str(tmp / "unlearn"), "metrics": str(tmp / "m.csv"), "times": str(tmp / "t.csv"),
                         "served": str(tmp / "served.json")}, n_timed=args.requests)
    first, last = peaks[0], peaks[-1]
    print(f"sequential unlearning, {len(peaks)} requests ({'parameters kept' if args.parameters_kept else 'now'}): "
          f"peak RSS {first:.0f} MB after request 1, {last:.0f} MB after request {len(peaks)}: "
          f"{(last - first) / max(len(peaks) - 1, 1):+.2f} MB a request")


if __name__ == "__main__":
    main()
