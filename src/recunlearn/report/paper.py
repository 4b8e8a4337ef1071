"""The paper's tables, ours beside the published numbers (Tables 6.2 and 6.3), and the scorecard of its claims."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..data import read_json, write_atomic
from ..stats import ALPHA, NA, PairedTest, fmt_mean_std, fmt_p, holds, marker, mean_std, paired_t_test, verdict
from .render import (BASELINES, MAIN_METHODS, METRICS, PROTOCOL_NOTE, _by_seed, _seed_list, _test_rows, model_order,
                     protocol, protocols, read_metrics, shown_method, write_table)

NOTES_6_2 = {
    "ml-1m": "the paper prints 6,940 users; MovieLens-1M has 6,040 (its own 4.47% density needs 6,040)",
    "ml-10m": "the paper's 71,567 users / 10,681 items are id ranges / the catalogue; 69,878 users rated "
              "10,677 items",
    "ml-1m-receraser": "the authors' released files hold 720,152 + 200,041 = 920,193 interactions, not the "
                       "1,000,209 ratings of MovieLens-1M the paper's Table 6.2 reports",
}

def table_6_2(stats_files: list[str | Path], paper_csv: str | Path, stem: str | Path,
              paper_names: dict | None = None) -> pd.DataFrame:
    """Dataset statistics (Table 6.2): ours beside the paper's, with the per-split counts and the split protocol.
    ``paper_names``: dataset -> the paper's dataset it stands for (default: the same name)."""
    paper = pd.read_csv(paper_csv).set_index("dataset")
    paper_names = paper_names or {}
    rows, notes = [], []
    for path in stats_files:
        s = read_json(path)
        name = s["dataset"]
        paper_name = paper_names.get(name, name)
        p = paper.loc[paper_name] if paper_name in paper.index else None

        def theirs(col, fmt="{:,}"):
            return fmt.format(p[col]) if p is not None else "-"

        rows.append({
            "dataset": name,
            "users": f"{s['users']:,}", "users (paper)": theirs("users", "{:,.0f}"),
            "items": f"{s['items']:,}", "items (paper)": theirs("items", "{:,.0f}"),
            "interactions": f"{s['interactions']:,}", "interactions (paper)": theirs("interactions", "{:,.0f}"),
            "density": f"{s['density']:.4f}", "density (paper)": theirs("density", "{:.4f}"),
            "train": f"{s['train']['interactions']:,}", "valid": f"{s['valid']['interactions']:,}",
            "test": f"{s['test']['interactions']:,}", "protocol": protocol(s),
        })
        label = name if paper_name == name else f"{name} (beside the paper's {paper_name})"
        if p is None:
            notes.append(f"{name}: not in the paper")
        else:
            diffs = [c for c in ("users", "items", "interactions") if int(s[c]) != int(p[c])]
            if diffs:
                why = NOTES_6_2.get(name, "")
                notes.append(f"{label}: differs from the paper in {', '.join(diffs)}" + (f" ({why})" if why else ""))
            else:
                notes.append(f"{label}: users, items and interactions match the paper")
        g = s.get("given")
        if g:
            notes.append(f"{name}: the test file is the test set ({g['test_file_interactions']:,} interactions; "
                         f"pairs also in the train file, kept in test only: {g['in_both_files']:,}); "
                         f"{g['cold_user_test_interactions']:,} test interactions of {g['cold_users']:,} users and "
                         f"{g['cold_item_test_interactions']:,} of {g['cold_items']:,} items have no training "
                         "interaction (kept, as in the authors' code)")
    df = pd.DataFrame(rows)
    write_table(df, stem, "Table 6.2: dataset statistics, ours beside the paper's", notes + [PROTOCOL_NOTE])
    return df


def tuning_notes(tuning_files) -> list[str]:
    """One note per dataset and model saying which settings the validation tuner chose, on what, with what budget
    (``recunlearn.tuning``'s artefacts); nothing without tuning."""
    by_run: dict = {}
    for path in tuning_files or []:
        a = read_json(path)
        if a.get("tuned_by") or not a.get("trials"):
            continue  # a record of another run's choice, or nothing tuned
        scored = ("scored by MeanAgg over all its shards" if a.get("submodel_objective") == "mean" else
                  f"on shards {', '.join(str(s) for s in a.get('shards', []))}")
        what = {"retrain": "Retrain", "submodel": f"{a['partition']} sub-models ({scored})",
                "aggregator": f"{a['partition']}+{a['aggregator']}"}[a["target"]]
        first = a.get("first_value")
        gain = "" if first is None else f" vs {first:.4f} for the config's own"
        by_run.setdefault((a["dataset"], a["model"]), []).append(
            f"{what} {len(a['trials'])} trials ({', '.join(a['space'])}): {a['best_value']:.4f}{gain}")
    return [f"{dataset} {model}: settings tuned on the validation split (seed {seed}; validation Recall@20 of the "
            f"choice): " + "; ".join(parts) for (dataset, model), parts in by_run.items()
            for seed in [_tuning_seed(tuning_files)]]


def _tuning_seed(files) -> str:
    seeds = set()
    for path in files or []:
        a = read_json(path)
        if a.get("trials"):
            seeds.add(str(a["seed"]))
    return ", ".join(sorted(seeds))


def table_6_3(metrics_csv, paper_csv, stem, n_shards: int, seeds: dict | None = None, stats_files=None,
              paper_names: dict | None = None, tuning_files=None) -> pd.DataFrame:
    """Recall/NDCG@{10,20,50} on test per dataset, base model and method: the mean over seeds (± the sample
    standard deviation with two or more seeds), the paper's value and the relative difference of the mean where
    the paper has the dataset, and RecEraser's significance mark against the better of SISA and GraphEraser.
    ``stats_files``: the datasets' ``stats.json``, for the protocol column; ``paper_names``: dataset -> the paper's
    dataset it stands for (default: the same name)."""
    split_of = protocols(stats_files)
    paper_names = paper_names or {}
    ours = _test_rows(read_metrics(metrics_csv, seeds), n_shards)
    ours = ours[ours["method"].isin(MAIN_METHODS)]
    keys = ["dataset", "model", "method", "metric", "k"]
    rows = []
    for key, g in ours.groupby(keys, sort=False):
        mean, std, n = mean_std(g["value"])
        rows.append(dict(zip(keys, key), ours=mean, std=std, n_seeds=n))
    long = pd.DataFrame(rows, columns=keys + ["ours", "std", "n_seeds"])
    # RecEraser against the better (by mean) of SISA and GraphEraser: one-sided paired t-test over the seeds
    sig = []
    for (dataset, model, metric, k), g in ours.groupby(["dataset", "model", "metric", "k"]):
        per = {meth: _by_seed(g[g["method"] == meth]) for meth in ["RecEraser", *BASELINES]}
        present = [b for b in BASELINES if per[b]]
        if not per["RecEraser"] or not present:
            continue
        best = max(present, key=lambda b: sum(per[b].values()) / len(per[b]))
        test = paired_t_test(per["RecEraser"], per[best])
        sig.append({"dataset": dataset, "model": model, "method": "RecEraser", "metric": metric, "k": k,
                    "best_baseline": best, "p_value": test.p, "significant": marker(test)})
    sig = pd.DataFrame(sig, columns=keys + ["best_baseline", "p_value", "significant"])
    long = long.merge(sig, on=keys, how="left")
    paper = pd.read_csv(paper_csv).rename(columns={"value": "paper", "significant": "paper_significant",
                                                   "dataset": "paper_dataset"})
    long["paper_dataset"] = long["dataset"].map(lambda d: paper_names.get(d, d))
    long["protocol"] = long["dataset"].map(lambda d: split_of.get(d, "-"))
    pkeys = ["paper_dataset"] + keys[1:]
    long = long.merge(paper[pkeys + ["paper", "paper_significant"]], on=pkeys, how="left")
    long["rel_diff"] = (long["ours"] - long["paper"]) / long["paper"]
    long["significant"] = long["significant"].fillna("")
    long = long[keys + ["ours", "std", "n_seeds", "paper", "paper_significant", "rel_diff", "best_baseline",
                        "p_value", "significant", "protocol", "paper_dataset"]]
    order = {m: i for i, m in enumerate(MAIN_METHODS)}
    morder = {m: i for i, m in enumerate(model_order(long["model"]))}
    long = long.sort_values(keys, key=lambda c: c.map(order) if c.name == "method" else c.map(morder)
                            if c.name == "model" else c).reset_index(drop=True)
    # the aggregator that served each (dataset, model, method): a method beyond the paper may choose it per model
    served_by = ours.drop_duplicates(["dataset", "model", "method"]).set_index(["dataset", "model", "method"])
    served_by = served_by["aggregator"].to_dict()
    rows = []
    for (dataset, model, method), g in long.groupby(["dataset", "model", "method"], sort=False):
        row = {"dataset": dataset, "protocol": split_of.get(dataset, "-"), "model": model,
               "method": shown_method(method, served_by.get((dataset, model, method)))}
        for metric, k in METRICS:
            cell = g[(g["metric"] == metric) & (g["k"] == k)]
            if cell.empty:
                row[f"{metric}@{k}"] = "-"
                continue
            c = cell.iloc[0]
            text = fmt_mean_std(c["ours"], c["std"], int(c["n_seeds"]))
            if c["significant"]:
                text += f" {c['significant']}"
            if not pd.isna(c["paper"]):
                theirs = f"{c['paper']:.4f}" + ("**" if c["paper_significant"] == 1 else "")
                text += f" ({theirs}, {c['rel_diff']:+.0%})"
            row[f"{metric}@{k}"] = text
        rows.append(row)
    wide = pd.DataFrame(rows)
    if not split_of:
        wide = wide.drop(columns="protocol", errors="ignore")
    in_paper = sorted(set(long.loc[long["paper"].notna(), "dataset"]))
    n_max = int(long["n_seeds"].max()) if len(long) else 0
    notes = [f"test split; unlearning methods with K = {n_shards} shards; seeds: {_seed_list(ours)} (one split: "
             "every seed is evaluated on the same test set)",
             "cells: ours as the mean ± sample standard deviation over the seeds (the value alone with one seed), "
             "then (paper, relative difference of our mean) where the paper reports the dataset",
             "`**` / `*` after our value: RecEraser above the better (by mean) of SISA and GraphEraser on that metric, "
             "one-sided paired t-test on the per-seed differences (pairs: the same seed), p < 0.01 / p < 0.05; "
             "the p-values are in the CSV (p_value); "
             + ("with one seed no test is possible and no mark is given" if n_max < 2 else
                f"{n_max} seeds give {n_max - 1} degrees of freedom"),
             "`**` after the paper's value: the paper's own mark (RecEraser better than the best baseline, p < 0.01)"]
    notes.append(f"datasets in the paper: {', '.join(in_paper)}" if in_paper else
                 "no dataset of this run is in the paper: ours only")
    for d in in_paper:
        if paper_names.get(d, d) != d:
            notes.append(f"{d} is compared with the paper's {paper_names[d]}")
    if split_of:
        notes.append(PROTOCOL_NOTE)
    if {"ml-1m", "ml-1m-receraser"} & set(in_paper):
        notes.append("the paper's ml-1m LightGCN GraphEraser NDCG@10 = 0.3832 is above its Retrain (0.3509): "
                     "almost surely a typo in the paper")
    tuned = tuning_notes(tuning_files)
    notes += tuned or ["settings: the config's own (tuning off), chosen on ml-100k validation (docs/report/ablation.md)"]
    write_table(wide, stem, "Table 6.3: recommendation quality of Retrain and the unlearning methods", notes,
                csv=long.to_csv(index=False, float_format="%.6f"))
    return long


# Each claim of the paper is a list of comparisons "A > B" on the same metric, all of which must hold. Labels:
# the named methods of Table 6.3 and <partition>+<aggregator> for the ablations of Figs. 6.2 and 6.3.
CLAIMS = [
    ("RecEraser > GraphEraser > SISA", [("RecEraser", "GraphEraser"), ("GraphEraser", "SISA")]),
    ("InBP > UBP, IBP > Random (AttAgg)", [("inbp+att", "ubp+att"), ("inbp+att", "ibp+att"),
                                           ("ubp+att", "random+att"), ("ibp+att", "random+att")]),
    ("AttAgg > StaticAgg > MeanAgg (InBP)", [("inbp+att", "inbp+static"), ("inbp+static", "inbp+mean")]),
    ("Retrain best", [("Retrain", "SISA"), ("Retrain", "GraphEraser"), ("Retrain", "RecEraser")]),
]


def claim_tests(values: dict, comparisons) -> list[PairedTest | None]:
    """The paired test of every comparison of a claim; ``values``: label -> {seed: value} (None if missing)."""
    return [paired_t_test(values[a], values[b]) if a in values and b in values else None for a, b in comparisons]


def _evidence(comparisons, tests) -> str:
    """``A - B = +0.0123 (p 0.0040)`` per comparison (the difference alone with one seed)."""
    parts = []
    for (a, b), t in zip(comparisons, tests):
        if t is None or t.n == 0:
            parts.append(f"{a} - {b}: n/a")
        elif t.p is None:
            parts.append(f"{a} - {b} = {t.mean_diff:+.4f}")
        else:
            parts.append(f"{a} - {b} = {t.mean_diff:+.4f} (p {fmt_p(t.p)})")
    return "; ".join(parts)


def labelled_test_rows(metrics_csv, n_shards: int) -> pd.DataFrame:
    """The test rows at K = ``n_shards`` labelled for the claims: the named methods of Table 6.3, and
    <partition>+<aggregator> for every sharded run (a named method also stands for its combination)."""
    m = _test_rows(read_metrics(metrics_csv), n_shards).copy()
    m["label"] = m["method"].where(m["method"].isin(MAIN_METHODS), m["partition"] + "+" + m["aggregator"])
    extra = m[m["method"].isin(MAIN_METHODS[1:])].copy()
    extra["label"] = extra["partition"] + "+" + extra["aggregator"]
    return pd.concat([m, extra], ignore_index=True).drop_duplicates(["dataset", "model", "label", "seed", "metric",
                                                                      "k"])


def claim_card(m: pd.DataFrame, alpha: float = ALPHA) -> tuple[pd.DataFrame, list[dict]]:
    """Each claim of ``CLAIMS`` per dataset and model of the labelled rows ``m`` (``labelled_test_rows``): its
    verdict on test Recall@20, the count of the six metrics on which it holds, the evidence; and the per-seed
    differences of every comparison on Recall@20."""
    rows, spread = [], []
    for (dataset, model), g in m.groupby(["dataset", "model"]):
        for name, comparisons in CLAIMS:
            verdicts, r20 = [], None
            for metric, k in METRICS:
                sel = g[(g["metric"] == metric) & (g["k"] == k)]
                values = {label: _by_seed(s) for label, s in sel.groupby("label")}
                tests = claim_tests(values, comparisons)
                verdicts.append(verdict(tests, alpha))
                if (metric, k) == ("Recall", 20):
                    r20 = tests
            known = [v for v in verdicts if v != NA]
            rows.append({"dataset": dataset, "model": model, "claim": name, "Recall@20": verdicts[1],
                         "metrics holding": f"{sum(holds(v) for v in known)}/{len(known)}" if known else "n/a",
                         "Recall@20: mean difference (one-sided p)": _evidence(comparisons, r20)})
            for (a, b), t in zip(comparisons, r20):
                if t is not None and t.n:
                    spread.append({"dataset": dataset, "model": model, "comparison": f"{a} > {b}",
                                   "seeds": ", ".join("-" if s == -1 else str(s) for s in t.seeds),
                                   "per-seed A - B": ", ".join(f"{d:+.4f}" for d in t.diffs),
                                   "mean": f"{t.mean_diff:+.4f}",
                                   "t": "-" if t.t is None else f"{t.t:.2f}", "p (one-sided)": fmt_p(t.p),
                                   "verdict": verdict([t], alpha)})
    return pd.DataFrame(rows, columns=["dataset", "model", "claim", "Recall@20", "metrics holding",
                                       "Recall@20: mean difference (one-sided p)"]), spread


def scorecard(metrics_csv, paper_csv, out_md, n_shards: int, extra_claims: list | None = None,
              alpha: float = ALPHA, paper_names: dict | None = None) -> pd.DataFrame:
    """The paper's claims marked per dataset and model (on test Recall@20, with the count of the six metrics on
    which each holds), judged against the seed-to-seed spread, and our deviation from every cell the paper
    reports. A comparison "A > B" holds when mean(A) > mean(B) and the one-sided paired t-test on the per-seed
    differences gives p < ``alpha``; a claim holds when all its comparisons do (``stats.verdict``).
    ``paper_names``: dataset -> the paper's dataset its cells are compared with (ml-1m-receraser -> ml-1m)."""
    paper_names = paper_names or {}
    m = labelled_test_rows(metrics_csv, n_shards)
    card, spread = claim_card(m, alpha)
    n_seeds = m["seed"].nunique()
    lines = ["# Scorecard: the paper's claims on our runs", "",
             f"Test split, K = {n_shards}, seeds: {_seed_list(m)} (every seed on the same split and test set). "
             f"A comparison \"A > B\" holds when mean(A) > mean(B) over the seeds and a one-sided paired t-test on "
             f"the per-seed differences A - B (pairs: the same seed) gives p < {alpha:g}; a claim holds when every "
             "comparison in it does. \"not significant\": the means agree with the claim but a difference is within "
             "the seed-to-seed spread; \"fails\": a mean disagrees. With one seed no test is possible: \"holds (1 "
             "seed, untested)\". The verdict is on Recall@20; \"metrics holding\" counts the six metrics (Recall and "
             "NDCG @10/20/50) on which the claim holds by the same rule (no correction across metrics, datasets or "
             "models).", ""]
    if n_seeds < 2:
        lines += ["Only one seed: nothing here is tested for significance.", ""]
    lines += [card.to_markdown(index=False), ""]
    for claim in extra_claims or []:
        lines += [claim, ""]
    lines += ["## Per-seed differences (Recall@20)", "",
              pd.DataFrame(spread).to_markdown(index=False, disable_numparse=True) if spread else "(none)", ""]
    paper = pd.read_csv(paper_csv)
    ours = (m[m["method"].isin(MAIN_METHODS)].drop_duplicates(["dataset", "model", "method", "seed", "metric", "k"])
            .groupby(["dataset", "model", "method", "metric", "k"], as_index=False)
            .agg(value=("value", "mean"), n_seeds=("value", "size")))
    ours["paper_dataset"] = ours["dataset"].map(lambda d: paper_names.get(d, d))
    paper = paper.rename(columns={"dataset": "paper_dataset"})
    dev = ours.merge(paper, on=["paper_dataset", "model", "method", "metric", "k"], suffixes=("", "_paper"))
    lines += ["## Deviation from the paper", ""]
    if dev.empty:
        lines += ["No dataset of this run is in the paper, so no cell can be compared.", ""]
    else:
        dev["relative difference"] = (dev["value"] - dev["value_paper"]) / dev["value_paper"]
        dev = dev.rename(columns={"value": "ours (mean)", "value_paper": "paper", "n_seeds": "seeds"})
        dev = dev.rename(columns={"paper_dataset": "paper's dataset"})
        lines += [dev[["dataset", "paper's dataset", "model", "method", "metric", "k", "ours (mean)", "seeds", "paper",
                       "relative difference"]].to_markdown(index=False, floatfmt=".4f"), ""]
    write_atomic(out_md, "\n".join(lines))
    return card
