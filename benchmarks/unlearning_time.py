"""Sequential unlearning against Retrain (Table 6.4): seconds per request for SISA, GraphEraser, RecEraser and any
``partition+aggregator`` (e.g. ``inbp+memb``), with the served model's test Recall@20 after the requests.

For each dataset and base model it runs what the workflow's jobs run, through the same library calls: WMF
pretraining and the partitions (random, BEKM, InBP; K shards), every shard's sub-model (``run_shards``), the
deletion requests, then ``unlearn_sharded`` (sequential: the affected shard retrained from scratch, then the
aggregator from scratch, over the data minus every request so far) and ``unlearn_retrain`` (the base model from
scratch, same trainer, early stopping and threads). Times are training-loop seconds per request, as in Table 6.4.

    python -m recunlearn.offline ml-100k            # data/ml-100k/u.data (once)
    python benchmarks/unlearning_time.py            # real ml-100k and ml-1m-sized synthetic data, K = 10
    python benchmarks/unlearning_time.py --datasets ml-100k --models BPR --n-timed 3
    python benchmarks/unlearning_time.py --datasets ml-100k --seeds 2022 2023 2024 \
        --methods SISA GraphEraser RecEraser inbp+memb inbp+mean --out frontier_ml100k
    python benchmarks/frontier.py frontier_ml100k/unlearning_time.csv   # the table and figure of docs/report/frontier.md

One line per dataset, model and method, ending in ``speed-up N.Nx`` (Retrain's seconds per request over the
method's), with the sub-model and aggregator shares of the method's time and both sides' epochs. Settings come
from ``--config`` (default config/ml100k.yaml: the validation-chosen hyper-parameters); ``--max-epochs`` caps
every trainer alike (Retrain, sub-models, aggregators), for the ml-1m-sized data on a laptop.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from quality_ml100k import load_config  # noqa: E402

from recunlearn.config import hyperparameters, submodel_hyperparameters  # noqa: E402
from recunlearn.experiments import METHODS, partition_options  # noqa: E402

# ml-1m's shape (6,040 users, 3,706 items, ~1M ratings) from the demo's generator (docs/guide/synthetic.md)
ML1M_SIZED = {"n_users": 6040, "n_items": 3706, "n_communities": 64, "mean_interactions": 165,
              "min_interactions": 20, "max_interactions": 2000, "activity_sigma": 1.2, "popularity_sigma": 1.5,
              "membership_concentration": 0.3, "taste_sigma": 1.75, "taste_decay": 0.75, "seed": 7}


def prepare_dataset(name: str, config: dict, out: Path) -> dict:
    from recunlearn.data import file_sha256
    from recunlearn.data import prepare
    from recunlearn.synthetic import write_synthetic

    data_dir = out / name / "data"
    if not (data_dir / "train.npz").exists():
        if name == "ml-100k":
            raw = ROOT / "data" / "ml-100k" / "u.data"
            if not raw.exists():
                sys.exit(f"{raw} is missing: run `python -m recunlearn.offline ml-100k` first")
            prepare("movielens_tab", [(str(raw), None)], data_dir, config["split"], name=name)
        elif name == "ml-1m-sized":
            raw = out / name / "raw"
            raw.mkdir(parents=True, exist_ok=True)
            write_synthetic(ML1M_SIZED, raw / "interactions.tsv", raw / "communities.npz")
            prepare("synthetic", [(str(raw / "interactions.tsv"), None)], data_dir, config["split"], name=name)
        elif name in config.get("registry", {}):  # a local file of the config's registry (config/ml1m_train.yaml)
            entry = config["registry"][name]
            files = [(str(ROOT / src["url"]), src.get("member")) for src in entry["sources"]]
            for src, (path, _) in zip(entry["sources"], files):
                if not Path(path).exists():
                    sys.exit(f"{path} is missing: {entry.get('description', name)}")
                if "sha256" in src and file_sha256(path) != src["sha256"]:
                    sys.exit(f"{path}: sha256 differs from the config's registry entry {name} ({src['sha256']})")
            prepare(entry["format"], files, data_dir, config["split"], name=name)
        else:
            sys.exit(f"unknown dataset '{name}' (expected ml-100k, ml-1m-sized or a local entry of the config's "
                     f"registry)")
    return {s: str(data_dir / f"{s}.npz") for s in ("train", "valid", "test")}


def test_recall(metrics_csv) -> float:
    """Test Recall@20 of a run's metrics.csv."""
    m = pd.read_csv(metrics_csv)
    return float(m[(m["split"] == "test") & (m["metric"] == "Recall") & (m["k"] == 20)]["value"].iloc[0])


def capped(params: dict, max_epochs: int | None) -> dict:
    return params if max_epochs is None else {**params, "max_epochs": min(params.get("max_epochs", 10**9), max_epochs)}


def run(dataset: str, config: dict, models: list[str], methods: list[str], n_timed: int, threads: int,
        max_epochs: int | None, out: Path, seed: int) -> list[dict]:
    from recunlearn.run import JobContext, RunSpec, Settings
    from recunlearn.jobs.sharding import run_partition, run_pretrain, run_shards
    from recunlearn.requests import sample_requests
    from recunlearn.unlearn import unlearn_retrain, unlearn_sharded

    data = prepare_dataset(dataset, config, out)
    work = out / dataset / f"seed{seed}"
    ctx = JobContext(seed=seed, device="cpu", threads=threads)
    s, k = config["sharding"], config["sharding"]["n_shards"]
    agg_params = capped(dict(config["aggregation"]), max_epochs)
    pre = {"embeddings": work / "pretrain.pt", "sidecar": work / "pretrain.json"}
    if not pre["embeddings"].exists():
        run_pretrain(RunSpec(dataset, "WMF"), ctx, Settings(capped(hyperparameters(config, dataset, "WMF"), max_epochs)),
                     data, pre)
    requests = work / "requests.csv"
    sample_requests(data["train"], requests, max(n_timed, 1), config["unlearning"]["seed"])
    lines = []
    for model in models:
        base = capped(hyperparameters(config, dataset, model), max_epochs)
        sub = capped(submodel_hyperparameters(config, dataset, model), max_epochs)
        rdir = work / model / "retrain"
        rdir.mkdir(parents=True, exist_ok=True)
        retrain = unlearn_retrain(RunSpec(dataset, model, mode="sequential"), ctx, Settings(base),
                                  {**data, "requests": requests},
                                  {k_: rdir / f"{k_}.{ext}" for k_, ext in
                                   (("model", "pt"), ("sidecar", "json"), ("metrics", "csv"), ("times", "csv"))},
                                  n_timed)
        settings = Settings(sub, agg_params, s["submodel_validation"])
        r_sec, r_ep = retrain["retrain_seconds"].mean(), retrain["epochs_run"].mean()
        r_recall = test_recall(rdir / "metrics.csv")
        for method in methods:
            part, agg = METHODS[method] if method in METHODS else method.split("+")
            pdir = work / f"{part}_K{k}"
            assignment = pdir / "assignment.npz"
            if not assignment.exists():
                opts = partition_options(part, s)
                pdir.mkdir(parents=True, exist_ok=True)
                run_partition(RunSpec(dataset, partition=part, n_shards=k), ctx, opts, data, pre["embeddings"],
                              {"assignment": assignment, "stats": pdir / "stats.json"})
            mdir = work / model / f"{part}_K{k}"
            submodels = []
            for i in range(k):
                files = {"model": mdir / f"shard_{i}.pt", "embeddings": mdir / f"shard_{i}.embeddings.pt",
                         "sidecar": mdir / f"shard_{i}.json", "history": mdir / f"shard_{i}.history.csv"}
                if not files["sidecar"].exists():
                    run_shards(RunSpec(dataset, model, part, k), ctx, settings, data, assignment, [i], [files])
                submodels.append({"embeddings": files["embeddings"], "sidecar": files["sidecar"], "model": files["model"]})
            udir = mdir / f"unlearn_{agg}"
            t = unlearn_sharded(RunSpec(dataset, model, part, k, agg, "sequential"), ctx, settings,
                                {**data, "assignment": assignment, "requests": requests}, submodels,
                                {"dir": udir, "metrics": udir / "metrics.csv", "times": udir / "times.csv",
                                 "served": udir / "served.json"}, n_timed)
            sub_s, agg_s = t["submodel_seconds"].mean(), t["aggregator_seconds"].mean()
            total = sub_s + agg_s
            recall = test_recall(udir / "metrics.csv")
            line = {"dataset": dataset, "seed": seed, "model": model, "method": method, "retrain_s": r_sec,
                    "retrain_epochs": r_ep,
                    "submodel_s": sub_s, "submodel_epochs": t["submodel_epochs"].mean(), "aggregator_s": agg_s,
                    "aggregator_epochs": t["aggregator_epochs"].mean(), "unlearn_s": total,
                    "speedup": r_sec / total if total > 0 else float("inf"), "requests": len(t),
                    "test_recall20": recall, "retrain_test_recall20": r_recall}
            lines.append(line)
            print(f"{dataset} seed {seed} {model} {method}: Retrain {r_sec:.2f} s/request ({r_ep:.0f} epochs, "
                  f"test Recall@20 {r_recall:.4f}); unlearning "
                  f"{total:.2f} s/request: sub-model {sub_s:.2f} s ({sub_s / total:.0%}, {line['submodel_epochs']:.0f} "
                  f"epochs), aggregator {agg_s:.2f} s ({agg_s / total:.0%}, {line['aggregator_epochs']:.0f} epochs); "
                  f"test Recall@20 {recall:.4f}; speed-up {line['speedup']:.1f}x", flush=True)
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=ROOT / "config" / "ml100k.yaml")
    ap.add_argument("--datasets", nargs="+", default=["ml-100k", "ml-1m-sized"])
    ap.add_argument("--models", nargs="+", default=["BPR", "WMF", "LightGCN"])
    ap.add_argument("--methods", nargs="+", default=list(METHODS),
                    help=f"{', '.join(METHODS)} or partition+aggregator (e.g. inbp+memb)")
    ap.add_argument("--seeds", nargs="+", type=int, default=None,
                    help="training seeds, one run each (default: the config's first)")
    ap.add_argument("--n-timed", type=int, default=3, help="sequential requests timed (the paper: 100)")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default: the config's training.threads)")
    ap.add_argument("--max-epochs", type=int, default=None, help="cap on every trainer's epochs (default: none)")
    ap.add_argument("--out", type=Path, default=Path("unlearning_time"))
    ap.add_argument("-v", "--verbose", action="store_true", help="the trainers' progress lines")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    config = load_config(args.config)
    threads = args.threads or config["training"]["threads"]
    import torch

    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    lines = []
    for dataset in args.datasets:
        for seed in args.seeds or config["training"]["seeds"][:1]:
            lines += run(dataset, config, args.models, args.methods, args.n_timed, threads, args.max_epochs, args.out,
                         seed)
    args.out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(lines).to_csv(args.out / "unlearning_time.csv", index=False, float_format="%.4f")
    print(f"wrote {args.out / 'unlearning_time.csv'} ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
