"""The unlearning frontier: test Recall@20 against seconds per sequential request, per dataset and base model.

Reads what ``benchmarks/unlearning_time.py`` wrote (one or more ``unlearning_time.csv``, any number of seeds) and
prints a markdown table (mean and seed-to-seed standard deviation over the seeds, Retrain included) and draws one
panel per dataset and model: a point per method, error bars of one standard deviation both ways, seconds on a log
axis. A method is on the frontier when no other method is both at least as accurate and at least as fast.

    python benchmarks/frontier.py frontier_ml100k/unlearning_time.csv --figure docs/figures/frontier_ml100k.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per dataset, model and method (Retrain added from its columns): mean and standard deviation over the
    seeds of test Recall@20 and of seconds per request, the number of seeds, and whether it is on the frontier."""
    retrain = (rows.drop_duplicates(["dataset", "model", "seed"])
               .assign(method="Retrain", test_recall20=lambda d: d["retrain_test_recall20"],
                       unlearn_s=lambda d: d["retrain_s"]))
    both = pd.concat([retrain, rows], ignore_index=True)
    g = both.groupby(["dataset", "model", "method"], sort=False)
    out = g.agg(recall=("test_recall20", "mean"), recall_sd=("test_recall20", "std"),
                seconds=("unlearn_s", "mean"), seconds_sd=("unlearn_s", "std"), seeds=("seed", "nunique")).reset_index()
    out[["recall_sd", "seconds_sd"]] = out[["recall_sd", "seconds_sd"]].fillna(0.0)
    out["frontier"] = False
    for _, grp in out.groupby(["dataset", "model"], sort=False):
        for i, r in grp.iterrows():
            dominated = ((grp["recall"] >= r["recall"]) & (grp["seconds"] <= r["seconds"])
                         & ((grp["recall"] > r["recall"]) | (grp["seconds"] < r["seconds"])))
            out.loc[i, "frontier"] = not dominated.any()
    return out


def markdown(summary: pd.DataFrame) -> str:
    lines = ["| dataset | model | method | test Recall@20 | share of Retrain | s / request | seeds | on the frontier |",
             "|---|---|---|---|---|---|---|---|"]
    for (dataset, model), grp in summary.groupby(["dataset", "model"], sort=False):
        ref = float(grp.loc[grp["method"] == "Retrain", "recall"].iloc[0])
        for r in grp.itertuples(index=False):
            sd = f" ± {r.recall_sd:.4f}" if r.seeds > 1 else ""
            ssd = f" ± {r.seconds_sd:.2f}" if r.seeds > 1 else ""
            lines.append(f"| {dataset} | {model} | {r.method} | {r.recall:.4f}{sd} | {r.recall / ref:.2f} | "
                         f"{r.seconds:.2f}{ssd} | {r.seeds} | {'yes' if r.frontier else ''} |")
    return "\n".join(lines)


def figure(summary: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    panels = list(summary.groupby(["dataset", "model"], sort=False))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False)
    methods = list(dict.fromkeys(summary["method"]))
    colours = {m: plt.cm.tab10(i % 10) for i, m in enumerate(methods)}
    for ax, ((dataset, model), grp) in zip(axes[0], panels):
        for r in grp.itertuples(index=False):
            ax.errorbar(r.seconds, r.recall, xerr=r.seconds_sd, yerr=r.recall_sd, fmt="o" if r.frontier else "s",
                        color=colours[r.method], mfc=colours[r.method] if r.frontier else "white", capsize=3,
                        label=r.method)
        for n, r in enumerate(grp.sort_values("recall").itertuples(index=False)):  # alternate sides: fewer overlaps
            ax.annotate(r.method, (r.seconds, r.recall), textcoords="offset points", fontsize=7,
                        xytext=(6, 3) if n % 2 else (-6, -9), ha="left" if n % 2 else "right")
        front = grp[grp["frontier"]].sort_values("seconds")
        ax.plot(front["seconds"], front["recall"], color="grey", lw=0.8, ls="--", zorder=0)
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))  # labels within a decade too
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_title(f"{dataset}, {model}", fontsize=10)
        ax.set_xlabel("seconds per sequential request (log)")
        ax.grid(alpha=0.3, which="both")
    axes[0][0].set_ylabel("test Recall@20")
    fig.suptitle("filled: on the frontier; bars: one seed-to-seed s.d.", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
    fig.savefig(tmp, dpi=130)
    plt.close(fig)
    tmp.replace(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv", nargs="+", type=Path, help="unlearning_time.csv files of benchmarks/unlearning_time.py")
    ap.add_argument("--figure", type=Path, default=None, help="where to draw the figure (PNG or PDF)")
    args = ap.parse_args()
    summary = summarise(pd.concat([pd.read_csv(p) for p in args.csv], ignore_index=True))
    print(markdown(summary))
    if args.figure:
        figure(summary, args.figure)
        print(f"wrote {args.figure}")


if __name__ == "__main__":
    main()
