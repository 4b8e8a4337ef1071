"""Results in long form: one row per (dataset, model, method, partition, aggregator, n_shards, split, metric, k).

Every evaluation writes such rows; ``gather`` concatenates them into ``results/metrics.csv``, adding the training
seed of each file (``seed``: its path holds it, the workflow passes it; empty for MostPop, which has none); every
table and figure is a view of those rows.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .data import write_atomic

COLUMNS = ["dataset", "model", "method", "partition", "aggregator", "n_shards", "split", "metric", "k", "value"]
# results/metrics.csv: the same rows with the training seed of the run that produced them
GATHERED_COLUMNS = COLUMNS[:6] + ["seed"] + COLUMNS[6:]


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


def with_seed(df: pd.DataFrame, seed: int | None) -> pd.DataFrame:
    """Per-evaluation rows with the ``seed`` column of ``GATHERED_COLUMNS`` (nullable integer; None: no seed)."""
    df = df.copy()
    if "seed" not in df.columns:
        df.insert(df.columns.get_loc("n_shards") + 1 if "n_shards" in df.columns else len(df.columns), "seed",
                  pd.Series([seed] * len(df), index=df.index, dtype="Int64"))
    df["seed"] = df["seed"].astype("Int64")
    return df


def read_rows(paths, seeds: dict | None = None) -> pd.DataFrame:
    """Long-form rows from results/metrics.csv (which has the seed column) or per-evaluation files, whose seed
    ``seeds`` gives (path -> seed; a path missing from it, or None, has no seed)."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    seeds = seeds or {}
    frames = [with_seed(pd.read_csv(p), seeds.get(str(p))) for p in paths]
    if not frames:
        return with_seed(pd.DataFrame(columns=COLUMNS), None)
    return pd.concat(frames, ignore_index=True)


def gather(paths: list[str | Path], out: str | Path, seeds: dict | None = None) -> pd.DataFrame:
    """Concatenate per-evaluation metric files into one long table (checked for its columns), each row with the
    seed ``seeds`` gives its file (path -> seed; missing or None: no seed, as for MostPop)."""
    seeds = seeds or {}
    frames = []
    for p in paths:
        df = pd.read_csv(p)
        if list(df.columns) != COLUMNS:
            raise ValueError(f"{p}: columns {list(df.columns)}, expected {COLUMNS}")
        frames.append(with_seed(df, seeds.get(str(p))))
    all_rows = pd.concat(frames, ignore_index=True) if frames else with_seed(pd.DataFrame(columns=COLUMNS), None)
    key = [c for c in GATHERED_COLUMNS if c != "value"]
    dup = all_rows.duplicated(key, keep=False)
    if dup.any():
        raise ValueError(f"duplicate metric rows, e.g. {all_rows[dup].iloc[0].to_dict()}")
    all_rows = all_rows.sort_values(key, kind="stable").reset_index(drop=True)
    write_atomic(out, all_rows.to_csv(index=False, float_format="%.6f"))
    return all_rows
