"""Unlearning efficiency: Table 6.4, Fig. 6.4 and the speed-up claim, from the timing jobs' outputs.

Times are the training-loop seconds recorded by the jobs (``times.csv``, from the sidecars' ``train_seconds``);
each timing job's Snakemake ``benchmark.tsv`` (whole process, start-up and I/O included) is summarised beside.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import pandas as pd  # noqa: E402

from .figures import save_figure  # noqa: E402
from ..data import write_atomic  # noqa: E402
from ..stats import FAILS, HOLDS  # noqa: E402
from .render import model_order, read_metrics, shown_method, write_table  # noqa: E402

IDENTITY = ["dataset", "model", "method", "partition", "n_shards", "aggregator", "mode", "seed"]


def read_times(paths) -> pd.DataFrame:
    """One row per timing job: its identity (the ``RunSpec`` columns of its ``times.csv``), its mean times
    (seconds) and its ``benchmark.tsv`` summary."""
    rows = []
    for path in paths:
        t = pd.read_csv(path)
        missing = [c for c in IDENTITY if c not in t.columns]
        if missing or not len(t):
            raise ValueError(f"{path}: not a times.csv of an unlearning job (expected the identity columns "
                             f"{', '.join(IDENTITY)} and one row per step; missing: {', '.join(missing) or 'rows'})")
        row = {c: t[c].iloc[0] for c in IDENTITY}
        row["steps"] = len(t)
        # the device the times came from (times.csv written before devices were recorded: "unrecorded")
        row["device"] = _device_of(t) if "device" in t.columns else "unrecorded"
        row["approximate"] = "submodel_seconds" not in t.columns and row["method"] != "Retrain"
        if row["method"] == "Retrain":
            row.update(n_shards=1, total_s=t["retrain_seconds"].mean(), epochs=t["epochs_run"].mean())
        elif row["approximate"]:  # fine-tune, SCIF, IFRU: one update of the trained model per step, no shard
            row.update(n_shards=0, total_s=t["total_seconds"].mean())
        else:
            row.update(n_shards=int(row["n_shards"]), submodel_s=t["submodel_seconds"].mean(),
                       aggregator_s=t["aggregator_seconds"].mean(), total_s=t["total_seconds"].mean(),
                       parallel_s=(t["submodel_seconds_parallel"] + t["aggregator_seconds"]).mean(),
                       shards_retrained=t["shards_retrained"].mean(), submodel_epochs=t["submodel_epochs"].mean(),
                       aggregator_epochs=t["aggregator_epochs"].mean())
        bench = Path(path).with_name("benchmark.tsv")
        if bench.exists():
            b = pd.read_csv(bench, sep="\t")
            row.update(process_s=float(b["s"].mean()), max_rss_mb=float(b["max_rss"].mean()))
        rows.append(row)
    return pd.DataFrame(rows)


def _fmt(x) -> str:
    return "-" if pd.isna(x) else f"{x:.4g}"


def _kind(device: str) -> str:
    """cpu, cuda or unrecorded: what decides whether two times can share a ratio (cuda:0 and cuda:1 can)."""
    kinds = {d.split(":")[0].strip() for d in str(device).split(",")}
    return kinds.pop() if len(kinds) == 1 else "mixed"


def speedup(retrain_s: float, retrain_device: str, method_s: float, method_device: str) -> str:
    """Retrain's seconds over the method's, as ``12.3x``; refused (``n/a: cpu vs cuda``) when the two were timed on
    different kinds of device, as a CPU Retrain against a GPU RecEraser says nothing about either."""
    a, b = _kind(retrain_device), _kind(method_device)
    if a != b or "mixed" in (a, b):
        return f"n/a: {a} vs {b}"
    return f"{retrain_s / method_s:.1f}x" if method_s and not pd.isna(method_s) and not pd.isna(retrain_s) else "-"


def _device_of(rows: pd.DataFrame) -> str:
    return ", ".join(sorted(set(rows["device"].astype(str)))) if len(rows) else "-"


def table_6_4(times_paths, metrics_paths, paper_csv, stem, n_shards: int) -> pd.DataFrame:
    """Minutes for Retrain, RecEraser's sub-model and aggregator retraining, total and speed-up per dataset and
    model (sequential mode, K = n_shards), the paper's beside; then every method; then batch unlearning."""
    t = read_times(times_paths)
    paper = pd.read_csv(paper_csv).set_index(["dataset", "model"])
    metrics = read_metrics(metrics_paths)
    test20 = metrics[(metrics["split"] == "test") & (metrics["metric"] == "Recall") & (metrics["k"] == 20)]
    rows, long = [], []
    for (dataset, model), g in t.groupby(["dataset", "model"]):
        seq = g[g["mode"] == "sequential"]
        retrain_rows = seq[seq["method"] == "Retrain"]
        retrain = retrain_rows["total_s"].mean() / 60
        rec = seq[(seq["method"] == "RecEraser") & (seq["n_shards"] == n_shards)]
        sub, agg, tot = (rec[c].mean() / 60 for c in ("submodel_s", "aggregator_s", "total_s"))
        p = paper.loc[(dataset, model)] if (dataset, model) in paper.index else None
        ratio = speedup(retrain, _device_of(retrain_rows), tot, _device_of(rec))
        row = {"dataset": dataset, "model": model, "device": _device_of(pd.concat([retrain_rows, rec])),
               "Retrain (min)": _fmt(retrain), "sub-model (min)": _fmt(sub), "aggregator (min)": _fmt(agg),
               "total (min)": _fmt(tot), "speed-up": ratio}
        if p is not None:
            row.update({"paper: Retrain": _fmt(p["retrain_min"]), "paper: sub-model": _fmt(p["receraser_submodel_min"]),
                        "paper: aggregator": _fmt(p["receraser_aggregator_min"]),
                        "paper: total": _fmt(p["receraser_total_min"]),
                        "paper: speed-up": f"{p['retrain_min'] / p['receraser_total_min']:.1f}x"})
        rows.append(row)
        long.append({"dataset": dataset, "model": model, "retrain_min": retrain, "receraser_submodel_min": sub,
                     "receraser_aggregator_min": agg, "receraser_total_min": tot,
                     "speedup": retrain / tot if tot and ratio.endswith("x") else float("nan"),
                     "device": row["device"],
                     **({f"paper_{c}": p[c] for c in paper.columns} if p is not None else {})})
    main = pd.DataFrame(rows).fillna("-")

    at_k = (t["n_shards"] == n_shards) | t["approximate"].astype(bool)  # the approximate methods have no shard
    every = t[(t["mode"] == "sequential") & (t["method"] != "Retrain") & at_k]
    seq_retrain = t[(t["mode"] == "sequential") & (t["method"] == "Retrain")].set_index(["dataset", "model"])
    retrain_s = seq_retrain["total_s"]
    retrain_dev = seq_retrain["device"]
    retrain_epochs = seq_retrain["epochs"] if "epochs" in seq_retrain else pd.Series(dtype=float)
    per_method = pd.DataFrame([{
        "dataset": r.dataset, "model": r.model, "method": shown_method(r.method, r.aggregator), "device": r.device,
        "requests timed": r.steps,
        "sub-model (s)": _fmt(r.submodel_s), "aggregator (s)": _fmt(r.aggregator_s), "total (s)": _fmt(r.total_s),
        "aggregator share": f"{r.aggregator_s / r.total_s:.0%}" if r.total_s and not r.approximate else "-",
        "epochs: sub-model / aggregator": f"{_fmt(getattr(r, 'submodel_epochs', None))} / "
                                          f"{_fmt(getattr(r, 'aggregator_epochs', None))}",
        "Retrain (s)": _fmt(retrain_s.get((r.dataset, r.model), float("nan"))),
        "Retrain epochs": _fmt(retrain_epochs.get((r.dataset, r.model), float("nan"))),
        "speed-up vs Retrain": speedup(retrain_s.get((r.dataset, r.model), float("nan")),
                                       retrain_dev.get((r.dataset, r.model), "-"), r.total_s, r.device),
        "process (s)": _fmt(getattr(r, "process_s", None)), "max RSS (MB)": _fmt(getattr(r, "max_rss_mb", None)),
    } for r in every.itertuples()])

    def recall(dataset, model, method, n):
        sel = test20[(test20["dataset"] == dataset) & (test20["model"] == model) & (test20["method"] == method)]
        if n is not None:
            sel = sel[sel["n_shards"] == n]
        return sel["value"].mean() if len(sel) else float("nan")

    batch_rows = []
    for r in t[(t["mode"] == "batch") & (t["method"] != "Retrain") & at_k].itertuples():
        rb = t[(t["mode"] == "batch") & (t["method"] == "Retrain") & (t["dataset"] == r.dataset) & (t["model"] == r.model)]
        n = None if r.approximate else n_shards  # an approximate method starts from Retrain's model
        batch_rows.append({
            "dataset": r.dataset, "model": r.model, "method": shown_method(r.method, r.aggregator),
            "shards retrained": "-" if r.approximate else f"{r.shards_retrained:.0f}/{n_shards}",
            "batch total (s)": _fmt(r.total_s), "batch, shards in parallel (s)": _fmt(getattr(r, "parallel_s", None)),
            "Retrain without R (s)": _fmt(rb["total_s"].mean()),
            "Recall@20 before": _fmt(recall(r.dataset, r.model, "Retrain" if r.approximate else r.method, n)),
            "after sequential": _fmt(recall(r.dataset, r.model, f"{r.method} (unlearned, sequential)", n)),
            "after batch": _fmt(recall(r.dataset, r.model, f"{r.method} (unlearned, batch)", n)),
            "Retrain without R": _fmt(recall(r.dataset, r.model, "Retrain (unlearned, batch)", None)),
        })
    notes = [f"sequential mode, K = {n_shards}: mean training-loop minutes per deletion request (validation "
             "included, data loading excluded), one run on one machine; the paper's are on one GTX TITAN X GPU",
             "device: where each time was measured (times.csv); a speed-up is given only between times of one kind "
             "of device (`n/a: cpu vs cuda` otherwise)"]
    extra = ["", "## Every method (sequential, seconds per request)", "",
             per_method.to_markdown(index=False) if len(per_method) else "(none)", "",
             "process (s) and max RSS: the Snakemake benchmark of the whole timing job (all timed requests, start-up "
             "and I/O included).", "",
             "## Batch unlearning: all R requests at once (beyond the paper)", "",
             pd.DataFrame(batch_rows).to_markdown(index=False) if batch_rows else "(not run: `unlearning.batch_mode` is off)",
             ""]
    if batch_rows:
        extra += ["Recall@20 on test: before deletion, after the sequential requests (only the timed ones deleted), "
                  "after the batch (all R deleted), and Retrain trained without the R requests.", ""]
    out = pd.DataFrame(long)
    write_table(main, stem, "Table 6.4: unlearning time, Retrain vs RecEraser", notes, extra,
                csv=out.to_csv(index=False, float_format="%.6g"))
    return out


def speedup_bar(paper_6_4: pd.DataFrame, dataset: str, model: str, paper_names: dict | None = None) -> tuple:
    """Claim 5's bar for one dataset and model: the paper's own speed-up of RecEraser over Retrain (its Table 6.4:
    Retrain minutes over RecEraser's total) where it has the dataset (``paper_names``: dataset -> the paper's dataset
    it stands for), else the smallest of its table; with the words that say which."""
    ratios = (paper_6_4["retrain_min"] / paper_6_4["receraser_total_min"]).set_axis(
        pd.MultiIndex.from_frame(paper_6_4[["dataset", "model"]]))
    key = ((paper_names or {}).get(dataset, dataset), model)
    if key in ratios.index:
        return float(ratios[key]), f"the paper's {float(ratios[key]):.1f}x"
    return float(ratios.min()), f"the paper's smallest, {float(ratios.min()):.1f}x"


HOLDS_IN_PART = "holds in part"


def speedup_verdict(speedup: float, bar: float) -> str:
    """Claim 5: holds at the bar or above; cheaper than Retrain but below the bar: holds in part; else fails."""
    return HOLDS if speedup >= bar else (HOLDS_IN_PART if speedup > 1 else FAILS)


def speedup_claims(times_paths, n_shards: int, paper_6_4_csv, paper_names: dict | None = None) -> list[str]:
    """The paper's efficiency claim per dataset and model, as Markdown, by the replication report's rule
    (``speedup_bar``, ``speedup_verdict``)."""
    t = read_times(times_paths)
    paper = pd.read_csv(paper_6_4_csv)
    seq = t[t["mode"] == "sequential"]
    lines = ["## Efficiency: a RecEraser request much cheaper than Retrain (Table 6.4)", "",
             "Holds at the paper's own speed-up for the dataset and model (the smallest of its Table 6.4 where it has "
             "none); cheaper than Retrain but below it: holds in part.", "",
             "| dataset | model | Retrain (s) | RecEraser (s) | speed-up | bar | claim |",
             "|:--|:--|--:|--:|--:|:--|:--|"]
    for (dataset, model), g in seq.groupby(["dataset", "model"]):
        rr, ee = g[g["method"] == "Retrain"], g[(g["method"] == "RecEraser") & (g["n_shards"] == n_shards)]
        r, e = rr["total_s"].mean(), ee["total_s"].mean()
        ratio = speedup(r, _device_of(rr), e, _device_of(ee))
        bar, _ = speedup_bar(paper, dataset, model, paper_names)
        claim = speedup_verdict(r / e, bar) if ratio.endswith("x") else "not comparable"
        lines.append(f"| {dataset} | {model} | {r:.3g} | {e:.3g} | {ratio} | {bar:.1f}x | {claim} |")
    return ["\n".join(lines)]


def fig_6_4(times_paths, metrics_paths, stem) -> pd.DataFrame:
    """Number of shards K against test Recall@20 (solid) and mean unlearning seconds (dashed), RecEraser; its
    points in ``<stem>.csv`` (dataset, model, n_shards, recall20, seconds_per_request, device)."""
    t = read_times(times_paths)
    t = t[(t["mode"] == "sequential") & (t["method"] == "RecEraser")]
    m = read_metrics(metrics_paths)
    m = m[(m["split"] == "test") & (m["metric"] == "Recall") & (m["k"] == 20) & (m["method"] == "RecEraser")]
    datasets = sorted(t["dataset"].unique())
    n = max(len(datasets), 1)
    fig, axes = plt.subplots(1, n, figsize=(max(6.0, 4.6 * n), 4.0), squeeze=False)
    colors = plt.get_cmap("tab10")
    plotted = []
    for ax, dataset in zip(axes[0], datasets):
        right = ax.twinx()
        for j, model in enumerate(model_order(t[t["dataset"] == dataset]["model"])):
            tm = t[(t["dataset"] == dataset) & (t["model"] == model)].sort_values("n_shards")
            rm = m[(m["dataset"] == dataset) & (m["model"] == model)].groupby("n_shards")["value"].mean()
            shard_counts = tm["n_shards"].tolist()
            ax.plot(shard_counts, [rm.get(k, float("nan")) for k in shard_counts], "-o", color=colors(j),
                    label=f"{model} Recall@20")
            right.plot(shard_counts, tm["total_s"], "--s", color=colors(j), alpha=0.7, label=f"{model} time")
            plotted.append(tm.assign(recall20=[rm.get(k, float("nan")) for k in shard_counts]))
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.set_xticks(sorted(t["n_shards"].unique()), [str(k) for k in sorted(t["n_shards"].unique())])
        ax.set_xlabel("number of shards K")
        ax.set_ylabel("test Recall@20 (solid)")
        right.set_ylabel("mean unlearning time per request, s (dashed)")
        ax.set_title(dataset)
        ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=max(len(labels), 1), fontsize=8, frameon=False)
    fig.suptitle("Fig. 6.4: RecEraser against the number of shards K", fontsize=10)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    save_figure(fig, stem)
    points = pd.concat(plotted) if plotted else pd.DataFrame(columns=["dataset", "model", "n_shards", "recall20",
                                                                       "total_s", "device"])
    points = points[["dataset", "model", "n_shards", "recall20", "total_s", "device"]].rename(
        columns={"total_s": "seconds_per_request"})
    write_atomic(f"{stem}.csv", points.to_csv(index=False, float_format="%.6f"))
    return points
