"""Results in long form: one row per (dataset, model, method, partition, aggregator, n_shards, split, metric, k).

Every evaluation writes such rows; ``gather`` concatenates them into ``results/metrics.csv``; every table and
figure is a view of that file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .data import write_atomic

COLUMNS = ["dataset", "model", "method", "partition", "aggregator", "n_shards", "split", "metric", "k", "value"]


def metric_rows(values: dict[tuple[str, int], float], split: str, dataset: str, model: str, method: str,
                partition: str = "none", aggregator: str = "none", n_shards: int = 1) -> pd.DataFrame:
    rows = [
        dict(dataset=dataset, model=model, method=method, partition=partition, aggregator=aggregator,
             n_shards=n_shards, split=split, metric=metric, k=k, value=value)
        for (metric, k), value in sorted(values.items())
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def write_rows(path: str | Path, frames: list[pd.DataFrame]) -> None:
    write_atomic(path, pd.concat(frames, ignore_index=True).to_csv(index=False, float_format="%.6f"))


def gather(paths: list[str | Path], out: str | Path) -> pd.DataFrame:
    """Concatenate per-evaluation metric files into one long table (checked for its columns)."""
    frames = []
    for p in paths:
        df = pd.read_csv(p)
        if list(df.columns) != COLUMNS:
            raise ValueError(f"{p}: columns {list(df.columns)}, expected {COLUMNS}")
        frames.append(df)
    all_rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    key = [c for c in COLUMNS if c != "value"]
    dup = all_rows.duplicated(key, keep=False)
    if dup.any():
        raise ValueError(f"duplicate metric rows, e.g. {all_rows[dup].iloc[0].to_dict()}")
    all_rows = all_rows.sort_values(key, kind="stable").reset_index(drop=True)
    write_atomic(out, all_rows.to_csv(index=False, float_format="%.6f"))
    return all_rows
