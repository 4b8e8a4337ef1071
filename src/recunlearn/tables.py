"""Tables of the paper, ours beside the published numbers, written as Markdown, LaTeX and CSV."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .data import write_atomic

NOTES_6_2 = {
    "ml-1m": "the paper prints 6,940 users; MovieLens-1M has 6,040 (its own 4.47% density needs 6,040)",
    "ml-10m": "the paper's 71,567 users / 10,681 items are id ranges / the catalogue; 69,878 users rated "
              "10,677 items",
}


def _latex(df: pd.DataFrame, caption: str) -> str:
    def esc(x) -> str:
        s = str(x)
        for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#")):
            s = s.replace(a, b)
        return s

    cols = "l" + "r" * (len(df.columns) - 1)
    lines = [r"\begin{table}[t]", r"\centering", f"\\caption{{{esc(caption)}}}", f"\\begin{{tabular}}{{{cols}}}",
             r"\toprule", " & ".join(esc(c) for c in df.columns) + r" \\", r"\midrule"]
    lines += [" & ".join(esc(v) for v in row) + r" \\" for row in df.astype(str).itertuples(index=False)]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return "\n".join(lines)


def write_table(df: pd.DataFrame, stem: str | Path, title: str, notes: list[str] | None = None,
                extra: list[str] | None = None) -> None:
    """``<stem>.md`` (title, table, notes, extra sections), ``<stem>.tex`` (booktabs) and ``<stem>.csv``."""
    stem = str(stem)
    md = [f"# {title}", "", df.to_markdown(index=False), ""]
    if notes:
        md += ["Notes:", ""] + [f"- {n}" for n in notes] + [""]
    md += extra or []
    write_atomic(stem + ".md", "\n".join(md))
    write_atomic(stem + ".tex", _latex(df, title))
    write_atomic(stem + ".csv", df.to_csv(index=False))


def table_6_2(stats_files: list[str | Path], paper_csv: str | Path, stem: str | Path) -> pd.DataFrame:
    """Dataset statistics (Table 6.2): ours beside the paper's, with the per-split counts."""
    paper = pd.read_csv(paper_csv).set_index("dataset")
    rows, notes = [], []
    for path in stats_files:
        s = json.loads(Path(path).read_text())
        name = s["dataset"]
        p = paper.loc[name] if name in paper.index else None

        def theirs(col, fmt="{:,}"):
            return fmt.format(p[col]) if p is not None else "-"

        rows.append({
            "dataset": name,
            "users": f"{s['users']:,}", "users (paper)": theirs("users", "{:,.0f}"),
            "items": f"{s['items']:,}", "items (paper)": theirs("items", "{:,.0f}"),
            "interactions": f"{s['interactions']:,}", "interactions (paper)": theirs("interactions", "{:,.0f}"),
            "density": f"{s['density']:.4f}", "density (paper)": theirs("density", "{:.4f}"),
            "train": f"{s['train']['interactions']:,}", "valid": f"{s['valid']['interactions']:,}",
            "test": f"{s['test']['interactions']:,}",
        })
        if p is None:
            notes.append(f"{name}: not in the paper")
        else:
            diffs = [c for c in ("users", "items", "interactions") if int(s[c]) != int(p[c])]
            if diffs:
                why = NOTES_6_2.get(name, "")
                notes.append(f"{name}: differs from the paper in {', '.join(diffs)}" + (f" ({why})" if why else ""))
            else:
                notes.append(f"{name}: users, items and interactions match the paper")
    df = pd.DataFrame(rows)
    write_table(df, stem, "Table 6.2: dataset statistics, ours beside the paper's", notes)
    return df


MAIN_METHODS = ["Retrain", "SISA", "GraphEraser", "RecEraser"]
BASE_MODELS = ["BPR", "WMF", "LightGCN"]
METRICS = [("Recall", 10), ("Recall", 20), ("Recall", 50), ("NDCG", 10), ("NDCG", 20), ("NDCG", 50)]


def _test_rows(metrics: pd.DataFrame, n_shards: int) -> pd.DataFrame:
    m = metrics[(metrics["split"] == "test") & metrics["model"].isin(BASE_MODELS)]
    m = m[~m["method"].str.contains("unlearned", regex=False)]  # models after deletions: Table 6.4's business
    return m[(m["method"] == "Retrain") | (m["n_shards"] == n_shards)]


def read_metrics(paths) -> pd.DataFrame:
    """Long-form metric rows from one file (results/metrics.csv) or several per-evaluation files."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    return pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)


def table_6_3(metrics_csv, paper_csv, stem, n_shards: int) -> pd.DataFrame:
    """Recall/NDCG@{10,20,50} on test per dataset, base model and method, the paper's value and the relative
    difference beside ours where the paper has the dataset."""
    ours = _test_rows(read_metrics(metrics_csv), n_shards)
    ours = ours[ours["method"].isin(MAIN_METHODS)][["dataset", "model", "method", "metric", "k", "value"]]
    paper = pd.read_csv(paper_csv).rename(columns={"value": "paper"})[["dataset", "model", "method", "metric", "k", "paper"]]
    long = ours.rename(columns={"value": "ours"}).merge(paper, on=["dataset", "model", "method", "metric", "k"], how="left")
    long["rel_diff"] = (long["ours"] - long["paper"]) / long["paper"]
    order = {m: i for i, m in enumerate(MAIN_METHODS)}
    morder = {m: i for i, m in enumerate(BASE_MODELS)}
    long = long.sort_values(["dataset", "model", "method", "metric", "k"],
                            key=lambda c: c.map(order) if c.name == "method" else c.map(morder) if c.name == "model" else c)
    rows = []
    for (dataset, model, method), g in long.groupby(["dataset", "model", "method"], sort=False):
        row = {"dataset": dataset, "model": model, "method": method}
        for metric, k in METRICS:
            cell = g[(g["metric"] == metric) & (g["k"] == k)]
            if cell.empty:
                row[f"{metric}@{k}"] = "-"
                continue
            c = cell.iloc[0]
            row[f"{metric}@{k}"] = (f"{c['ours']:.4f}" if pd.isna(c["paper"])
                                   else f"{c['ours']:.4f} ({c['paper']:.4f}, {c['rel_diff']:+.0%})")
        rows.append(row)
    wide = pd.DataFrame(rows)
    in_paper = sorted(set(long.loc[long["paper"].notna(), "dataset"]))
    notes = [f"test split; unlearning methods with K = {n_shards} shards; cells: ours (paper, relative difference)"
             " where the paper reports the dataset"]
    notes.append(f"datasets in the paper: {', '.join(in_paper)}" if in_paper else
                 "no dataset of this run is in the paper: ours only")
    if "ml-1m" in in_paper:
        notes.append("the paper's ml-1m LightGCN GraphEraser NDCG@10 = 0.3832 is above its Retrain (0.3509): "
                     "almost surely a typo in the paper")
    write_table(wide, stem, "Table 6.3: recommendation quality of Retrain and the unlearning methods", notes)
    write_atomic(str(stem) + ".csv", long.to_csv(index=False, float_format="%.6f"))
    return long


CLAIMS = [
    ("RecEraser > GraphEraser > SISA", ["RecEraser", "GraphEraser", "SISA"], None),
    ("InBP > UBP, IBP > Random (AttAgg)", None, "partition"),
    ("AttAgg > StaticAgg > MeanAgg (InBP)", ["inbp+att", "inbp+static", "inbp+mean"], "aggregator"),
    ("Retrain best", None, "retrain"),
]


def _claim(values: dict, kind) -> bool | None:
    """Does a claim hold for one metric? ``values``: method label -> value (None if a method is missing)."""
    name, chain, how = kind
    try:
        if how == "partition":
            v = {p: values[f"{p}+att"] for p in ("inbp", "ubp", "ibp", "random")}
            return v["inbp"] > max(v["ubp"], v["ibp"]) and min(v["ubp"], v["ibp"]) > v["random"]
        if how == "retrain":
            return all(values["Retrain"] >= values[m] for m in ("SISA", "GraphEraser", "RecEraser"))
        vals = [values[m] for m in chain]
        return all(a > b for a, b in zip(vals, vals[1:]))
    except KeyError:
        return None


def scorecard(metrics_csv, paper_csv, out_md, n_shards: int, extra_claims: list | None = None) -> pd.DataFrame:
    """The paper's claims marked holds / fails per dataset and model (on test Recall@20, with the count of the
    six metrics on which each holds), and our deviation from every cell the paper reports."""
    m = _test_rows(read_metrics(metrics_csv), n_shards).copy()
    m["label"] = m["method"].where(m["method"].isin(MAIN_METHODS), m["partition"] + "+" + m["aggregator"])
    # the named methods also stand for their (partition, aggregator) combination
    extra = m[m["method"].isin(["SISA", "GraphEraser", "RecEraser"])].copy()
    extra["label"] = extra["partition"] + "+" + extra["aggregator"]
    m = pd.concat([m, extra], ignore_index=True)
    rows = []
    for (dataset, model), g in m.groupby(["dataset", "model"]):
        for claim in CLAIMS:
            per_metric = []
            for metric, k in METRICS:
                sel = g[(g["metric"] == metric) & (g["k"] == k)]
                per_metric.append(_claim(dict(zip(sel["label"], sel["value"])), claim))
            r20 = per_metric[1]
            known = [x for x in per_metric if x is not None]
            rows.append({"dataset": dataset, "model": model, "claim": claim[0],
                         "Recall@20": "n/a" if r20 is None else ("holds" if r20 else "fails"),
                         "metrics holding": f"{sum(known)}/{len(known)}" if known else "n/a"})
    card = pd.DataFrame(rows)
    lines = ["# Scorecard: the paper's claims on our runs", "",
             f"Test split, K = {n_shards}. A claim holds on Recall@20 (the verdict) and on the count of the six "
             "metrics (Recall and NDCG @10/20/50) given beside it.", "", card.to_markdown(index=False), ""]
    for claim in extra_claims or []:
        lines += [claim, ""]
    paper = pd.read_csv(paper_csv)
    ours = m[m["method"].isin(MAIN_METHODS)].drop_duplicates(["dataset", "model", "method", "metric", "k"])
    dev = ours.merge(paper, on=["dataset", "model", "method", "metric", "k"], suffixes=("", "_paper"))
    lines += ["## Deviation from the paper", ""]
    if dev.empty:
        lines += ["No dataset of this run is in the paper, so no cell can be compared.", ""]
    else:
        dev["relative difference"] = (dev["value"] - dev["value_paper"]) / dev["value_paper"]
        dev = dev.rename(columns={"value": "ours", "value_paper": "paper"})
        lines += [dev[["dataset", "model", "method", "metric", "k", "ours", "paper", "relative difference"]]
                  .to_markdown(index=False, floatfmt=".4f"), ""]
    write_atomic(out_md, "\n".join(lines))
    return card
