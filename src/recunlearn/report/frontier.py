"""The unlearning frontier (beyond the paper; docs/report/frontier.md): per dataset and base model, every unlearning method
the run times (Retrain and ``unlearning.methods``, RecEraser-fast included) as its test Recall@20 (Table 6.3's: the
mean over the seeds, K = n_shards) against the seconds one sequential request costs (Table 6.4's timing jobs: the
mean training-loop time per request, first seed); an approximate method (fine-tune, SCIF, IFRU), which has no model of
its own before the requests, by the quality of its model after all of them at once (first seed), drawn beside the
exact methods but never on their frontier: it does not unlearn exactly. An exact method is *on the frontier* when no
other exact method is at least as accurate and at least as fast, and strictly better in one of the two."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from ..registry import APPROXIMATE  # noqa: E402
from .figures import save_figure  # noqa: E402
from .render import (MAIN_METHODS, _test_rows, model_order, read_metrics, shown_method, shown_methods,  # noqa: E402
                     write_table)
from .timing import read_times  # noqa: E402

COLUMNS = ["dataset", "model", "method", "aggregator", "recall20", "recall20_std", "n_seeds", "share_of_retrain",
           "seconds_per_request", "submodel_seconds", "aggregator_seconds", "requests_timed", "device", "exact",
           "on_frontier"]


def on_frontier(recall: pd.Series, seconds: pd.Series) -> list[bool]:
    """For each point, whether no other point is at least as accurate and at least as fast, and better in one."""
    points = list(zip(recall, seconds))
    return [not any(r2 >= r and s2 <= s and (r2 > r or s2 < s) for j, (r2, s2) in enumerate(points) if j != i)
            for i, (r, s) in enumerate(points)]


def frontier_rows(metrics_csv, times_paths, n_shards: int) -> pd.DataFrame:
    """One row per dataset, model and timed method: quality, cost and whether it is on the frontier."""
    metrics = read_metrics(metrics_csv)
    m = _test_rows(metrics, n_shards)
    m = m[(m["metric"] == "Recall") & (m["k"] == 20)]
    after = {f"{e.label} (unlearned, batch)": e.label for e in APPROXIMATE.values()}
    approximate = metrics[(metrics["split"] == "test") & (metrics["metric"] == "Recall") & (metrics["k"] == 20)
                          & metrics["method"].isin(list(after))]
    m = pd.concat([m, approximate.assign(method=approximate["method"].map(after))], ignore_index=True)
    quality = (m.assign(aggregator=m["aggregator"].fillna("-"))
               .drop_duplicates(["dataset", "model", "method", "seed"])
               .groupby(["dataset", "model", "method", "aggregator"], as_index=False)
               .agg(recall20=("value", "mean"), recall20_std=("value", "std"), n_seeds=("value", "size")))
    t = read_times(times_paths)
    t = t[(t["mode"] == "sequential") & ((t["method"] == "Retrain") | (t["n_shards"] == n_shards)
                                         | t["approximate"].astype(bool))]
    cost = pd.DataFrame({"dataset": t["dataset"], "model": t["model"], "method": t["method"],
                         "seconds_per_request": t["total_s"], "submodel_seconds": t.get("submodel_s"),
                         "aggregator_seconds": t.get("aggregator_s"), "requests_timed": t["steps"],
                         "device": t["device"]})
    rows = quality.merge(cost, on=["dataset", "model", "method"], how="inner")
    retrain = rows[rows["method"] == "Retrain"].set_index(["dataset", "model"])["recall20"]
    rows["share_of_retrain"] = [r / retrain.get((d, mo), float("nan"))
                                for d, mo, r in zip(rows["dataset"], rows["model"], rows["recall20"])]
    order = {name: i for i, name in enumerate(MAIN_METHODS)}
    models = {name: i for i, name in enumerate(model_order(rows["model"]))}
    rows = rows.assign(_m=rows["method"].map(lambda x: order.get(x, len(order))), _b=rows["model"].map(models))
    rows = rows.sort_values(["dataset", "_b", "_m", "method"]).drop(columns=["_m", "_b"]).reset_index(drop=True)
    rows["exact"] = ~rows["method"].isin([e.label for e in APPROXIMATE.values()])
    rows["on_frontier"] = False
    for _, g in rows[rows["exact"]].groupby(["dataset", "model"]):
        rows.loc[g.index, "on_frontier"] = on_frontier(g["recall20"], g["seconds_per_request"])
    return rows[COLUMNS]


def _cell(mean, std, n) -> str:
    return f"{mean:.4f}" if n < 2 or pd.isna(std) else f"{mean:.4f} ± {std:.4f}"


def frontier(metrics_csv, times_paths, table_stem, figure_stem, n_shards: int) -> pd.DataFrame:
    """``results/tables/frontier.{md,tex,csv}`` and ``results/figures/frontier.{png,pdf}``."""
    rows = frontier_rows(metrics_csv, times_paths, n_shards)
    if rows.empty:
        raise ValueError("frontier: no method has both a test Recall@20 and a sequential timing job (expected "
                         "Retrain and the unlearning methods at K = n_shards)")
    shown = pd.DataFrame({
        "dataset": rows["dataset"], "model": rows["model"],
        "method": shown_methods(rows),
        "test Recall@20": [_cell(m, s, n) for m, s, n in zip(rows["recall20"], rows["recall20_std"], rows["n_seeds"])],
        "share of Retrain": rows["share_of_retrain"].map(lambda v: f"{v:.2f}"),
        "s / request": rows["seconds_per_request"].map(lambda v: f"{v:.2f}"),
        "sub-model + aggregator (s)": [
            "" if pd.isna(a) else f"{s:.2f} + {a:.2f}"
            for s, a in zip(rows["submodel_seconds"], rows["aggregator_seconds"])],
        "device": rows["device"],
        "on the frontier": ["yes" if f else ("" if e else "not exact") for f, e in zip(rows["on_frontier"], rows["exact"])],
    })
    n_seeds = int(rows["n_seeds"].max())
    notes = [f"test Recall@20 before the requests: Table 6.3's, the mean over {n_seeds} seed(s) (± the sample "
             f"standard deviation with two or more), K = {n_shards}; an approximate method's (fine-tune, SCIF, IFRU): "
             "its model's after Table 6.4's R requests at once, first seed",
             "s / request: the mean training-loop seconds of one sequential request (validation included, data loading "
             "excluded), Table 6.4's timing jobs on the first seed; times of different devices are not comparable",
             "on the frontier: no other exact method is at least as accurate and at least as fast, and better in one; "
             "an approximate method (open diamond in the figure) keeps parameters that saw the deletions and is never on "
             "it: the forgetting check says whether it forgot"]
    write_table(shown, table_stem, "The unlearning frontier: test quality against seconds per request", notes,
                csv=rows.to_csv(index=False, float_format="%.6f"), numparse=False)
    _figure(rows, figure_stem)
    return rows


def _figure(rows: pd.DataFrame, stem) -> None:
    groups = list(rows.groupby(["dataset", "model"], sort=False))
    fig, axes = plt.subplots(1, len(groups), figsize=(4.2 * len(groups), 3.6), squeeze=False)
    for ax, ((dataset, model), g) in zip(axes[0], groups):
        for r in g.itertuples():
            colour = "black" if r.method == "Retrain" else ("tab:red" if r.on_frontier else "tab:blue")
            approximate = not r.exact  # an open marker
            ax.scatter(r.seconds_per_request, r.recall20, s=30, zorder=3, marker="D" if approximate else "o",
                       facecolors="white" if approximate else colour, edgecolors=colour)
            ax.annotate(shown_method(r.method, r.aggregator), (r.seconds_per_request, r.recall20), fontsize=7,
                        xytext=(4, 3), textcoords="offset points")
        front = g[g["on_frontier"]].sort_values("seconds_per_request")
        ax.plot(front["seconds_per_request"], front["recall20"], color="tab:red", lw=1, zorder=2)
        ax.set_xscale("log")
        # ticks at 1, 2 and 5 of each decade, as plain numbers (the default labels every minor tick of a short range)
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(f"{dataset} {model}", fontsize=9)
        ax.set_xlabel("seconds per sequential request (log)")
        ax.set_ylabel("test Recall@20")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, stem)
