"""The reproducibility contract (docs/guide/running.md, "Reproducibility"; docs/guide/reproducibility.md) and the tool that measures it.

1. The same config, seed, thread count and machine (CPU and MKL code path) give the same bits on the CPU.
2. Another thread count or another CPU / MKL code path gives other bits, and metrics within ``TOLERANCE``.

``compare`` reads the metrics of runs of one config made under different settings (each run a working directory of
``snakemake -d``, or its gathered ``results/metrics.csv``) and tabulates, per model and served model, how far each
metric moved; ``python -m recunlearn.reproducibility RUN RUN ...`` prints it (docs/guide/reproducibility.md has the
measurement behind ``TOLERANCE``).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd

# how far a Recall@20 or NDCG@20 (validation or test) may move between thread counts or MKL code paths, absolute:
# the largest move measured on real MovieLens-100K (docs/guide/reproducibility.md), rounded up
TOLERANCE = 0.03

KEY = ["dataset", "model", "method", "partition", "aggregator", "n_shards", "seed", "split", "metric", "k"]


def read_run(path: str | Path) -> pd.DataFrame:
    """A run's metric rows: its gathered ``results/metrics.csv``, or, for a run directory, every per-evaluation
    ``metrics.csv`` under its ``results/`` (each with the seed its path names)."""
    path = Path(path)
    if path.is_file():
        return pd.read_csv(path)
    files = sorted(f for f in (path / "results").rglob("metrics.csv") if f != path / "results" / "metrics.csv")
    if not files:
        raise ValueError(f"{path}: no results/**/metrics.csv: expected a run's working directory")
    frames = []
    for f in files:
        df = pd.read_csv(f)
        seed = re.search(r"/seed(\d+)/", str(f))
        df["seed"] = int(seed.group(1)) if seed else pd.NA
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def compare(paths: dict[str, str | Path], metrics=("Recall", "NDCG"), k: int = 20) -> pd.DataFrame:
    """One row per served model (dataset, model, method, partition, aggregator, n_shards, seed) and split: each
    run's value of ``metric@k`` (a column per run, named by ``paths``' keys) and the largest difference between two
    runs (``spread``). Rows that not every run has are refused: the runs must be of one config."""
    if len(paths) < 2:
        raise ValueError(f"compare: {len(paths)} run(s) given, expected at least two")
    frames = []
    for name, path in paths.items():
        df = read_run(path)
        missing = [c for c in KEY + ["value"] if c not in df.columns]
        if missing:
            raise ValueError(f"{path}: no column {missing[0]}: expected a results/metrics.csv")
        df = df[df["metric"].isin(metrics) & (df["k"] == k)]
        frames.append(df.set_index(KEY)["value"].rename(name))
    wide = pd.concat(frames, axis=1)
    partial = wide.isna().any(axis=1)
    if partial.any():
        raise ValueError(f"{int(partial.sum())} metric row(s) are missing from some run, e.g. "
                         f"{dict(zip(KEY, wide.index[partial][0]))}: the runs must be of one config")
    runs = list(paths)
    wide["spread"] = wide[runs].max(axis=1) - wide[runs].min(axis=1)
    return wide.reset_index()


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """The largest spread per model and served model (method, aggregator), over splits and metrics."""
    served = ["model", "method", "partition", "aggregator"]
    return (table.groupby(served + ["split", "metric"], sort=False)["spread"].max().unstack(["split", "metric"])
            .reset_index())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recunlearn.reproducibility", description=(
        "How far metrics moved between runs of one config under other thread counts or MKL code paths."))
    parser.add_argument("runs", nargs="+", help="each run's working directory (or its results/metrics.csv); "
                        "NAME=PATH names a run")
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--tolerance", type=float, default=TOLERANCE)
    args = parser.parse_args(argv)
    paths = {}
    for arg in args.runs:
        name, _, path = arg.partition("=") if "=" in arg else (Path(arg).name, "", arg)
        paths[name] = path
    try:
        table = compare(paths, k=args.k)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    pd.set_option("display.width", 200)
    print(summary(table).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    worst = table["spread"].max()
    print(f"largest spread {worst:.4f} (tolerance {args.tolerance}): "
          f"{'within' if worst <= args.tolerance else 'BEYOND'} the tolerance")
    return 0 if worst <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
