"""Quality of Retrain and the sharded methods on real MovieLens-100K over seeds, in one process per (model, seed).

The same library calls as the workflow's retrain / pretrain / partition / train_shard / aggregate jobs, with the
settings of a config file (default config/ml100k.yaml), without Snakemake's per-job start-up and without the
unlearning experiments: a quick way to see Table 6.3 and Figs. 6.2-6.3 with mean ± std over seeds and paired
t-tests (docs/report/results_ml100k.md was made with it).

    python -m recunlearn.offline ml-100k                         # data/ml-100k/u.data (once)
    python benchmarks/quality_ml100k.py --seeds 2022 2023 2024 --jobs 2 --out /tmp/quality
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from recunlearn.config import hyperparameters, submodel_hyperparameters, validate_config  # noqa: E402
from recunlearn.experiments import method_name, partition_options  # noqa: E402
from recunlearn.stats import paired_t_test  # noqa: E402

COMBOS = {"random": ["mean", "att"], "ubp": ["att"], "ibp": ["att"], "inbp": ["mean", "static", "att"],
          "bekm": ["static"]}
ORDER = ["Retrain", "SISA", "GraphEraser", "RecEraser", "inbp+mean", "inbp+static", "random+att", "ubp+att",
         "ibp+att"]


def load_config(path: Path) -> dict:
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    overlay = yaml.safe_load(path.read_text())

    def merge(a, b):
        for key, value in b.items():
            a[key] = merge(a.get(key, {}), value) if isinstance(value, dict) and isinstance(a.get(key), dict) else value
        return a

    return validate_config(merge(config, overlay), ROOT / "workflow" / "schemas" / "config.schema.yaml")


def run_one(args) -> pd.DataFrame:
    import torch

    from recunlearn.data import load_interactions
    from recunlearn.metrics import embedding_scorer, evaluate_splits
    from recunlearn.models import model_config
    from recunlearn.partition import partition
    from recunlearn.sharded import shard_interactions, train_aggregator, train_submodel
    from recunlearn.train import fit

    config, data_dir, model, seed = args
    torch.set_num_threads(1)
    dataset = config["datasets"][0]
    train, valid, test = (load_interactions(Path(data_dir) / f"{s}.npz") for s in ("train", "valid", "test"))
    k, ks = config["sharding"]["n_shards"], config["evaluation"]["ks"]
    frames, t0 = [], time.perf_counter()

    def emit(p, q, method, part="", agg="", n=0):
        rows = evaluate_splits(embedding_scorer(p.detach(), q.detach()), train, valid, test, ks, dataset=dataset,
                               model=model, method=method, partition=part, aggregator=agg, n_shards=n)
        rows["seed"] = seed
        frames.append(rows)
        r20 = rows[(rows.metric == "Recall") & (rows.k == 20)].set_index("split").value
        print(f"{model} seed {seed} {method}: Recall@20 valid {r20['valid']:.4f} test {r20['test']:.4f} "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)

    res = fit(model, model_config(model, hyperparameters(config, dataset, model)), train, valid, seed, "cpu")
    emit(*res.model.embeddings(), "Retrain")
    pre = fit("WMF", model_config("WMF", hyperparameters(config, dataset, "WMF")), train, valid, seed, "cpu")
    user_emb, item_emb = (e.detach().numpy() for e in pre.model.embeddings())
    s = config["sharding"]
    sub = submodel_hyperparameters(config, dataset, model)
    for name, aggregators in COMBOS.items():
        opts = partition_options(name, s)
        assign, _ = partition(name, train, k, seed, user_emb=user_emb, item_emb=item_emb, **opts)
        ps, qs = [], []
        for i in range(k):
            _, r = train_submodel(model, sub, shard_interactions(train, None, i, assign=assign), valid, seed, "cpu",
                                  f"shard {i}", valid_mode=s["submodel_validation"])
            p, q = r.model.embeddings()
            ps.append(p.detach()), qs.append(q.detach())
        sub_p, sub_q = torch.stack(ps), torch.stack(qs)
        for kind in aggregators:
            _, agg, _ = train_aggregator(kind, model, sub, dict(config["aggregation"]), sub_p, sub_q, train, valid,
                                         seed, "cpu", kind)
            with torch.no_grad():
                emit(*agg.embeddings(), method_name(name, kind), name, kind, k)
    return pd.concat(frames, ignore_index=True)


def summary(rows: pd.DataFrame, split: str = "test") -> str:
    r = rows[(rows.split == split) & (rows.metric == "Recall") & (rows.k == 20)]
    values = {(m, meth): r[(r.model == m) & (r.method == meth)].set_index("seed").value.to_dict()
              for m in r.model.unique() for meth in ORDER}
    lines = [f"{split} Recall@20, mean ± std over seeds {sorted(r.seed.unique())}", "",
             "| model | " + " | ".join(ORDER) + " |", "|---" * (len(ORDER) + 1) + "|"]
    for m in r.model.unique():
        cells = [f"{np.mean(list(v.values())):.4f} ± {np.std(list(v.values()), ddof=1):.4f}" if len(v) > 1
                 else f"{np.mean(list(v.values())):.4f}" for v in (values[(m, meth)] for meth in ORDER)]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    lines += ["", "one-sided paired t-tests over seeds (difference of means, p):", ""]
    pairs = [("RecEraser", "GraphEraser"), ("GraphEraser", "SISA"), ("RecEraser", "inbp+static"),
             ("inbp+static", "inbp+mean"), ("RecEraser", "random+att"), ("RecEraser", "ubp+att"),
             ("RecEraser", "ibp+att")]
    for m in r.model.unique():
        gap = 1 - np.mean(list(values[(m, "RecEraser")].values())) / np.mean(list(values[(m, "Retrain")].values()))
        tests = []
        for a, b in pairs:
            t = paired_t_test(values[(m, a)], values[(m, b)])
            tests.append(f"{a} > {b} {t.mean_diff:+.4f}" + (f" (p = {t.p:.3f})" if t.p is not None else ""))
        lines.append(f"- {m}: RecEraser {gap:.1%} below Retrain; " + "; ".join(tests))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=ROOT / "config" / "ml100k.yaml")
    ap.add_argument("--data", type=Path, default=None, help="preprocessed dataset folder (made if missing)")
    ap.add_argument("--models", nargs="+", default=None)
    ap.add_argument("--seeds", nargs="+", type=int, default=None)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("quality_ml100k"))
    args = ap.parse_args()
    config = load_config(args.config)
    dataset = config["datasets"][0]
    data_dir = args.data or args.out / "data"
    if not (data_dir / "train.npz").exists():
        from recunlearn.data import prepare
        from recunlearn.datasets import resolve_registry, source_filename

        spec = resolve_registry(config["registry"])[dataset]
        files = [(str(ROOT / s["url"]) if "://" not in s["url"] else s["url"], s.get("member"))
                 for s in spec["sources"]]
        print(f"preprocessing {dataset} from {', '.join(source_filename(s) for s in spec['sources'])}")
        prepare(spec["format"], files, data_dir, config["split"], name=dataset, csv_options=spec.get("csv"))
    models = args.models or config["models"]
    seeds = args.seeds or config["training"]["seeds"]
    args.out.mkdir(parents=True, exist_ok=True)
    work = [(config, str(data_dir), m, s) for s in seeds for m in models]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = pd.concat(list(pool.map(run_one, work)), ignore_index=True)
    rows.to_csv(args.out / "metrics.csv", index=False, float_format="%.6f")
    print(summary(rows, "valid"), "\n", summary(rows, "test"), sep="\n")


if __name__ == "__main__":
    main()
