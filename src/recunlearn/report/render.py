"""What every table of the report shares: the split protocol of a dataset, the rendering as Markdown, LaTeX
(tabulate's booktabs) and CSV, the methods and metrics in the paper's order, and the test rows of a metrics file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..data import read_json, write_atomic
from ..experiments import BEYOND_PAPER
from ..registry import paper_name
from ..results import read_rows


# The paper's numbers were measured on its authors' own train/test files (a given split: 78/22 on ml-1m), while
# its text describes a random 80/10/10 split per user; NDCG@K depends on the share held out (docs/report/protocol.md).
PROTOCOL_NOTE = ("protocol: how the dataset was split. The paper's numbers were measured on the authors' own "
                 "train/test files (ml-1m: 78/22 train/test, config/paper_splits.yaml reproduces it with "
                 "ml-1m-receraser), while its text describes a random 80/10/10 split per user (config/config.yaml). "
                 "A row under the random protocol holds out fewer items per user than the paper did, which lowers "
                 "NDCG@K much more than Recall@K: compare its NDCG with the paper's with care (docs/report/protocol.md)")


def protocol(stats: dict) -> str:
    """How a dataset was split, from its ``stats.json``: ``given train/test (...)`` or ``random 80/10/10 per user``."""
    split = stats.get("split", {})
    if split.get("mode") == "given":
        g = stats.get("given", {})
        tr, te = g.get("train_file_interactions", 0), g.get("test_file_interactions", 0)
        share = f"{100 * tr / (tr + te):.0f}/{100 * te / (tr + te):.0f}; " if tr + te else ""
        return f"given train/test files ({share}validation {split.get('given_valid', 0.1):.0%} of train)"
    ratios = split.get("ratios", [0.8, 0.1, 0.1])
    return "random " + "/".join(f"{100 * r:g}" for r in ratios) + " per user"


def protocols(stats_files) -> dict[str, str]:
    """dataset -> :func:`protocol` of each ``stats.json``."""
    out = {}
    for path in stats_files or []:
        s = read_json(path)
        out[s["dataset"]] = protocol(s)
    return out


def _latex(df: pd.DataFrame, caption: str) -> str:
    """A booktabs table (tabulate's, which escapes LaTeX's special characters) in a table float with ``caption``."""
    from tabulate import LATEX_ESCAPE_RULES, tabulate

    body = tabulate(df.astype(str), headers="keys", tablefmt="latex_booktabs", showindex=False,
                    disable_numparse=True, colalign=["left"] + ["right"] * (len(df.columns) - 1))
    caption = "".join(LATEX_ESCAPE_RULES.get(c, c) for c in caption)
    return "\n".join([r"\begin{table}[t]", r"\centering", f"\\caption{{{caption}}}", body, r"\end{table}", ""])


def write_table(df: pd.DataFrame, stem: str | Path, title: str, notes: list[str] | None = None,
                extra: list[str] | None = None, csv: str | None = None, numparse: bool = True) -> None:
    """``<stem>.md`` (title, table, notes, extra sections), ``<stem>.tex`` (booktabs) and ``<stem>.csv``: the text
    ``csv`` (a long form with full precision) when given, else the table itself. ``numparse`` False keeps the
    Markdown cells as formatted (0.3220, not 0.322)."""
    stem = str(stem)
    md = [f"# {title}", "", df.to_markdown(index=False, disable_numparse=not numparse), ""]
    if notes:
        md += ["Notes:", ""] + [f"- {n}" for n in notes] + [""]
    md += extra or []
    write_atomic(stem + ".md", "\n".join(md))
    write_atomic(stem + ".tex", _latex(df, title))
    write_atomic(stem + ".csv", df.to_csv(index=False) if csv is None else csv)


MAIN_METHODS = ["Retrain", "SISA", "GraphEraser", "RecEraser", "RecEraser-fast"]  # the last: where a config runs it
BASE_MODELS = ["BPR", "WMF", "LightGCN"]  # the paper's order; a model of a user's own comes after them
METRICS = [("Recall", 10), ("Recall", 20), ("Recall", 50), ("NDCG", 10), ("NDCG", 20), ("NDCG", 50)]
BASELINES = ["SISA", "GraphEraser"]  # RecEraser's competitors in Table 6.3's significance mark


def shown_method(method: str, aggregator) -> str:
    """A method as a table shows it: one beyond the paper with the aggregator that served it, ``RecEraser-fast
    (RefitAgg)``, as the config may choose it per model (``method_aggregators``); the paper's methods as named."""
    if method in BEYOND_PAPER and isinstance(aggregator, str) and aggregator not in ("", "-"):
        return f"{method} ({paper_name(aggregator)})"
    return method


def shown_methods(rows: pd.DataFrame) -> list[str]:
    """``shown_method`` of each row of a table with ``method`` and, where it records it, ``aggregator``."""
    aggregators = rows["aggregator"] if "aggregator" in rows else ["-"] * len(rows)
    return [shown_method(m, a) for m, a in zip(rows["method"], aggregators)]


def model_order(models) -> list[str]:
    """``models`` in the paper's order (BPR, WMF, LightGCN), any other model after them by name: tables and
    figures show every model a run trained, never only the paper's."""
    rank = {m: i for i, m in enumerate(BASE_MODELS)}
    return sorted(set(models), key=lambda m: (rank.get(m, len(rank)), m))


def _test_rows(metrics: pd.DataFrame, n_shards: int) -> pd.DataFrame:
    m = metrics[metrics["split"] == "test"]
    m = m[~m["method"].str.contains("unlearned", regex=False)]  # models after deletions: Table 6.4's business
    return m[(m["method"] == "Retrain") | (m["n_shards"] == n_shards)]


def read_metrics(paths, seeds: dict | None = None) -> pd.DataFrame:
    """Long-form metric rows, with their ``seed``, from results/metrics.csv or several per-evaluation files
    (whose seed ``seeds`` gives: path -> seed)."""
    return read_rows(paths, seeds)


def _by_seed(rows: pd.DataFrame) -> dict:
    """seed -> value of the rows of one method and metric (a row without seed counts as one run)."""
    return {(-1 if pd.isna(s) else int(s)): float(v) for s, v in zip(rows["seed"], rows["value"])}


def _seed_list(rows: pd.DataFrame) -> str:
    seeds = sorted({int(s) for s in rows["seed"].dropna()})
    return ", ".join(str(s) for s in seeds) if seeds else "one run"
