"""Figures 6.2 and 6.3: grouped bars of test Recall@20 (mean over seeds, std error bars), one panel per dataset, the
paper's reported values marked."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..data import atomic_write, write_atomic  # noqa: E402
from ..registry import APPROXIMATE, paper_name  # noqa: E402
from ..stats import mean_std  # noqa: E402
from .render import model_order, read_metrics  # noqa: E402

SPECS = {
    "fig_6_2": ("partition", "att", "Fig. 6.2: partition strategies under AttAgg"),
    "fig_6_3": ("aggregator", "inbp", "Fig. 6.3: aggregation methods over InBP shards"),
}


def paper_values(figures_text_csv, which: str, metric: str, k: int, table_6_3_csv=None) -> pd.DataFrame:
    """The paper's values for figure ``which``: dataset, model, variant (paper names), value. The text gives a few
    (``figures_text_csv``); the bar that is RecEraser itself (InBP under AttAgg, in both figures) is also Table
    6.3's RecEraser cell, taken from ``table_6_3_csv`` where the text gives none (e.g. every ml-1m bar)."""
    paper = pd.read_csv(figures_text_csv)
    paper = paper[(paper["figure"] == which) & (paper["metric"] == metric) & (paper["k"] == k)]
    paper = paper[["dataset", "model", "variant", "value"]]
    if table_6_3_csv is None:
        return paper
    vary, _, _ = SPECS[which]
    t = pd.read_csv(table_6_3_csv)
    t = t[(t["method"] == "RecEraser") & (t["metric"] == metric) & (t["k"] == k)][["dataset", "model", "value"]]
    t = t.assign(variant=paper_name("inbp" if vary == "partition" else "att"))
    known = set(zip(paper["dataset"], paper["model"], paper["variant"]))
    t = t[[key not in known for key in zip(t["dataset"], t["model"], t["variant"])]]
    return pd.concat([paper, t[paper.columns]], ignore_index=True)


def grouped_bars(metrics_csv, figures_text_csv, which: str, variants: list[str], n_shards: int, stem,
                 metric: str = "Recall", k: int = 20, seeds: dict | None = None, table_6_3_csv=None,
                 paper_names: dict | None = None) -> pd.DataFrame:
    """Bars of ``metric@k`` on test for each base model (groups) and variant (bars): the mean over seeds, with the
    sample standard deviation as error bars when there are two or more seeds. ``seeds``: path -> seed of
    per-evaluation files; ``paper_names``: dataset -> the paper's dataset it is compared with (ml-1m-receraser ->
    ml-1m); ``table_6_3_csv``: the paper's Table 6.3, for the RecEraser bar (``paper_values``). Writes
    ``<stem>.png``, ``<stem>.pdf`` and the plotted data as ``<stem>.csv`` (mean, std, seeds, the paper's value),
    which it returns."""
    paper_names = paper_names or {}
    vary, fixed, title = SPECS[which]
    m = read_metrics(metrics_csv, seeds)
    m = m[(m["split"] == "test") & (m["metric"] == metric) & (m["k"] == k) & (m["n_shards"] == n_shards)]
    m = m[~m["method"].str.contains("unlearned", regex=False)]
    other = "aggregator" if vary == "partition" else "partition"
    m = m[(m[other] == fixed) & m[vary].isin(variants)]
    paper = paper_values(figures_text_csv, which, metric, k, table_6_3_csv)
    datasets = sorted(m["dataset"].unique())
    n_panels = max(len(datasets), 1)
    fig, axes = plt.subplots(1, n_panels, figsize=(max(6.0, 4.2 * n_panels), 4.0), squeeze=False)
    width = 0.8 / max(len(variants), 1)
    colors = plt.get_cmap("tab10")
    data = []
    for ax, dataset in zip(axes[0], datasets):
        d = m[m["dataset"] == dataset]
        models = model_order(d["model"])
        x = np.arange(len(models))
        for j, v in enumerate(variants):
            stats = [mean_std(d[(d["model"] == b) & (d[vary] == v)]["value"]) for b in models]
            means = [s[0] for s in stats]
            errs = [s[1] if s[2] > 1 else 0.0 for s in stats]
            ax.bar(x + (j - (len(variants) - 1) / 2) * width, means, width, label=paper_name(v),
                   color=colors(j), yerr=errs if any(s[2] > 1 for s in stats) else None, capsize=3,
                   error_kw={"elinewidth": 1})
            for b_i, b in enumerate(models):
                pv = paper[(paper["dataset"] == paper_names.get(dataset, dataset)) & (paper["model"] == b)
                           & (paper["variant"] == paper_name(v))]
                if not pv.empty:
                    ax.plot(x[b_i] + (j - (len(variants) - 1) / 2) * width, pv["value"].iloc[0], marker="_",
                            color="black", markersize=14, mew=2)
                mean, std, n = stats[b_i]
                data.append({"dataset": dataset, "model": b, "variant": paper_name(v), "metric": metric,
                             "k": k, "mean": mean, "std": std, "n_seeds": n,
                             "paper": pv["value"].iloc[0] if not pv.empty else float("nan")})
        ax.set_xticks(x, models)
        theirs = paper_names.get(dataset, dataset)
        ax.set_title(dataset if theirs == dataset else f"{dataset} (paper: {theirs})")
        ax.set_ylabel(f"test {metric}@{k}")
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(variants), fontsize=9, frameon=False)
    n_seeds = m["seed"].nunique()
    spread = (f"mean over {n_seeds} seeds, error bars: sample standard deviation" if n_seeds > 1 else "one seed")
    fig.suptitle(f"{title}, K = {n_shards} ({spread})\n(black marks: the paper's values: its text's, and Table 6.3's RecEraser)",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    save_figure(fig, stem)
    out = pd.DataFrame(data, columns=["dataset", "model", "variant", "metric", "k", "mean", "std", "n_seeds", "paper"])
    write_atomic(f"{stem}.csv", out.to_csv(index=False, float_format="%.6f"))
    return out


def save_figure(fig, stem) -> None:
    """``<stem>.png`` and ``<stem>.pdf``, each written atomically; closes the figure."""
    for ext in ("png", "pdf"):
        with atomic_write(f"{stem}.{ext}") as tmp:
            fig.savefig(tmp, dpi=150, format=ext)
    plt.close(fig)


APPROXIMATE_LABELS = tuple(entry.label for entry in APPROXIMATE.values())  # fine-tune, SCIF, IFRU


def forgetting_figure(forgetting_csv, stem) -> None:
    """The forgetting check as a picture: per dataset and model (a panel) and deletion set, each method's AUC with
    its 95% interval (the threshold attack on the score, and the learned attack), 0.5 marked, the two controls drawn
    apart from the methods, the approximate methods (fine-tune, SCIF, IFRU) in orange."""
    from .forgetting import REQUEST_SETS

    rows = pd.read_csv(forgetting_csv)
    panels = list(rows.groupby(["dataset", "model"], sort=False))
    tallest = max((len(g) + 2 * g["request_set"].nunique() for _, g in panels), default=6)
    fig, axes = plt.subplots(1, max(len(panels), 1), figsize=(max(8.0, 5.2 * len(panels)), 1.4 + 0.34 * tallest),
                             squeeze=False)
    colors = {"original": "tab:red", "Retrain": "tab:green", **{m: "tab:orange" for m in APPROXIMATE_LABELS}}
    for ax, ((dataset, model), g) in zip(axes[0], panels):
        y, ticks, labels = 0.0, [], []
        for request_set, h in g.groupby("request_set", sort=False):
            ax.text(0.01, y - 0.55, REQUEST_SETS.get(request_set, request_set), ha="left", va="center", fontsize=8,
                    style="italic", transform=ax.get_yaxis_transform())
            for _, r in h.iterrows():
                color = colors.get(r["method"], "tab:blue")
                for name, marker, dy in (("score_auc", "o", -0.12), ("learned_auc", "s", 0.12)):
                    ax.errorbar(r[f"{name}_mean"], y + dy, xerr=[[r[f"{name}_mean"] - r[f"{name}_low"]],
                                                                 [r[f"{name}_high"] - r[f"{name}_mean"]]],
                                fmt=marker, color=color, mfc=color if name == "score_auc" else "white",
                                capsize=2, markersize=4)
                shown_mode = r["method"] not in ("original", *APPROXIMATE_LABELS) and request_set != "members"
                ticks.append(y)
                labels.append(r["method"] + (f" ({r['mode']})" if shown_mode else "")
                              + (" [control]" if r["method"] in ("original", "Retrain") else ""))
                y += 1.0 if r["method"] != "Retrain" else 1.6  # the controls drawn apart from the methods
            ax.axhline(y - 0.3, color="grey", lw=0.5)
            y += 1.2
        ax.axvline(0.5, color="black", lw=1, ls="--")
        ax.set_yticks(ticks, labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("membership-inference AUC (0.5: chance)")
        ax.set_title(f"{dataset} / {model}", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle("Forgetting: AUC and its 95% interval (filled: a threshold on the score; open: the learned attack)\n"
                 "red: the original model; green: Retrain; orange: the approximate methods", fontsize=9)
    fig.tight_layout()
    save_figure(fig, stem)


def user_unlearning_figure(user_csv, stem) -> None:
    """Utility against time per method after user-level deletion: test NDCG@20 of the remaining users against
    seconds per request (log scale), one panel per dataset and model, one marker per selection."""
    rows = pd.read_csv(user_csv)
    panels = list(rows.groupby(["dataset", "model"], sort=False))
    fig, axes = plt.subplots(1, max(len(panels), 1), figsize=(max(5.5, 4.4 * len(panels)), 3.8), squeeze=False)
    markers = {"random": "o", "core": "^", "edge": "v"}
    colors = plt.get_cmap("tab10")
    methods = list(dict.fromkeys(rows["method"]))
    for ax, ((dataset, model), g) in zip(axes[0], panels):
        for _, r in g.iterrows():
            ax.scatter(max(r["seconds_per_request"], 1e-3), r["ndcg20"], marker=markers.get(r["selection"], "s"),
                       color=colors(methods.index(r["method"])), s=36,
                       facecolors="none" if r["mode"] == "sequential" else None)
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))  # labels within a decade too
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_xlabel("seconds per request (log)")
        ax.set_ylabel("test NDCG@20, remaining users")
        ax.set_title(f"{dataset} / {model}", fontsize=10)
        ax.grid(alpha=0.3)
    handles = [plt.Line2D([], [], color=colors(i), marker="o", ls="", label=m) for i, m in enumerate(methods)]
    handles += [plt.Line2D([], [], color="grey", marker=mk, ls="", label=s) for s, mk in markers.items()
                if s in set(rows["selection"])]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    fig.suptitle("User-level deletion: utility against unlearning time (filled: batch, open: sequential)", fontsize=9)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    save_figure(fig, stem)
