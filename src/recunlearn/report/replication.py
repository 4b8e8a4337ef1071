"""The replication report (``results/report/replication.md``): each claim of the paper judged on this run's own
tables, per dataset and base model, ours beside the paper's numbers, with a link to the table or figure each number
comes from; then what the run adds beyond the paper (the frontier, forgetting, user deletion). Every verdict is
computed here from those tables by the rule stated beside it; none is typed.

The claims (RecEraser, WWW 2022, section 6):
1. RecEraser's quality is close to Retrain's (Table 6.3): its test Recall@20 is at least the paper's own share of
   Retrain's for that dataset and model, less ``CLOSE_MARGIN`` (where the paper has no such cell: the smallest share
   in its Table 6.3, less the margin).
2. RecEraser > GraphEraser > SISA (Table 6.3), 3. InBP the best partition (Fig. 6.2), 4. AttAgg the best aggregator
   (Fig. 6.3): the scorecard's paired tests over the seeds (``report.paper.CLAIMS``, ``stats.verdict``).
5. A request is an order of magnitude cheaper than Retrain (Table 6.4; the paper's speed-ups are 12-18x on ml-1m):
   holds when our speed-up is at least the paper's for that dataset and model (the smallest of its Table 6.4 where it
   has none); cheaper but below it, "holds in part"; not cheaper, fails.
6. More shards trade quality for speed (Fig. 6.4): from the smallest to the largest K of the run, RecEraser's test
   Recall@20 and its seconds per request both fall.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..data import read_json, write_atomic
from ..stats import ALPHA, FAILS, HOLDS, NA
from .paper import CLAIMS, claim_card, labelled_test_rows
from .render import model_order, protocol, shown_methods
from .timing import HOLDS_IN_PART, speedup_bar, speedup_verdict

CLOSE_MARGIN = 0.05  # claim 1: how far below the paper's own share of Retrain ours may fall
NOT_TESTABLE = "not testable"
CLAIM_NAMES = {
    "close": "1. RecEraser close to Retrain (Table 6.3)",
    "order": "2. RecEraser > GraphEraser > SISA (Table 6.3)",
    "partition": "3. InBP the best partition (Fig. 6.2)",
    "aggregator": "4. AttAgg the best aggregator (Fig. 6.3)",
    "speedup": "5. a request much cheaper than Retrain (Table 6.4)",
    "shards": "6. more shards: faster, less accurate (Fig. 6.4)",
}
# claims 2-4 are the scorecard's, by its names
SCORECARD = {"order": CLAIMS[0][0], "partition": CLAIMS[1][0], "aggregator": CLAIMS[2][0]}


def _r20(table_6_3: pd.DataFrame) -> pd.DataFrame:
    return table_6_3[(table_6_3["metric"] == "Recall") & (table_6_3["k"] == 20)]


def _num(x, digits: int = 4) -> str:
    return "-" if x is None or pd.isna(x) else f"{x:.{digits}f}"


def close_to_retrain(table_6_3: pd.DataFrame, paper_6_3: pd.DataFrame) -> list[dict]:
    """Claim 1 per dataset and model, from Table 6.3's long CSV (``ours``, ``paper``) and the paper's Table 6.3."""
    r20 = _r20(table_6_3)
    p = paper_6_3[(paper_6_3["metric"] == "Recall") & (paper_6_3["k"] == 20)].set_index(["dataset", "model",
                                                                                          "method"])["value"]
    shares = [p[(d, mo, "RecEraser")] / p[(d, mo, "Retrain")] for d, mo, meth in p.index if meth == "Retrain"
              and (d, mo, "RecEraser") in p.index]
    rows = []
    for (dataset, model), g in r20.groupby(["dataset", "model"], sort=False):
        cell = g.set_index("method")
        if not {"Retrain", "RecEraser"} <= set(cell.index):
            rows.append({"dataset": dataset, "model": model, "verdict": NOT_TESTABLE,
                         "evidence": "the run lacks Retrain or RecEraser"})
            continue
        ours, retrain = cell.loc["RecEraser", "ours"], cell.loc["Retrain", "ours"]
        paper_share = cell.loc["RecEraser", "paper"] / cell.loc["Retrain", "paper"]
        if pd.isna(paper_share):
            bar, against = min(shares) - CLOSE_MARGIN, f"the paper's smallest share {min(shares):.2f}"
        else:
            bar, against = paper_share - CLOSE_MARGIN, f"the paper's {paper_share:.2f}"
        share = ours / retrain
        rows.append({"dataset": dataset, "model": model, "verdict": HOLDS if share >= bar else FAILS,
                     "evidence": f"RecEraser {_num(ours)} / Retrain {_num(retrain)} = {share:.2f} of Retrain "
                                 f"(bar: {against} - {CLOSE_MARGIN:g} = {bar:.2f})",
                     "RecEraser": ours, "Retrain": retrain, "share": share,
                     "paper RecEraser": cell.loc["RecEraser", "paper"], "paper Retrain": cell.loc["Retrain", "paper"]})
    return rows


def scorecard_claims(labelled: pd.DataFrame, alpha: float) -> dict[str, list[dict]]:
    """Claims 2-4 per dataset and model of the labelled test rows (``report.paper.labelled_test_rows``): the
    scorecard's verdicts (``report.paper.claim_card``)."""
    card, _ = claim_card(labelled, alpha)
    out = {}
    for key, name in SCORECARD.items():
        rows = []
        for r in card[card["claim"] == name].itertuples(index=False):
            v = r[3]
            why = " (the run lacks a method or combination it compares)" if v == NA else ""
            rows.append({"dataset": r.dataset, "model": r.model, "verdict": NOT_TESTABLE if v == NA else v,
                         "evidence": f"{r[5]}; metrics holding {r[4]}{why}"})
        out[key] = rows
    return out


def speedup_claim(table_6_4: pd.DataFrame, paper_6_4: pd.DataFrame, paper_names: dict | None = None) -> list[dict]:
    """Claim 5 per dataset and model, from Table 6.4's long CSV (``speedup``) and the paper's Table 6.4
    (``paper_names``: dataset -> the paper's dataset it stands for), by the scorecard's rule
    (``report.timing.speedup_bar``, ``speedup_verdict``)."""
    rows = []
    for r in table_6_4.itertuples(index=False):
        bar, against = speedup_bar(paper_6_4, r.dataset, r.model, paper_names)
        if pd.isna(r.speedup):
            v, ev = NOT_TESTABLE, f"Retrain and RecEraser were timed on different devices ({r.device})"
        else:
            v = speedup_verdict(r.speedup, bar)
            ev = (f"Retrain {r.retrain_min * 60:.3g} s, RecEraser {r.receraser_total_min * 60:.3g} s per request: "
                  f"{r.speedup:.1f}x (bar: {against}; {r.device})")
        rows.append({"dataset": r.dataset, "model": r.model, "verdict": v, "evidence": ev, "speedup": r.speedup})
    return rows


def shards_claim(fig_6_4: pd.DataFrame) -> list[dict]:
    """Claim 6 per dataset and model, from Fig. 6.4's points (``n_shards``, ``recall20``, ``seconds_per_request``)."""
    rows = []
    for (dataset, model), g in fig_6_4.groupby(["dataset", "model"], sort=False):
        g = g.dropna(subset=["recall20"]).sort_values("n_shards")
        if g["n_shards"].nunique() < 2:
            rows.append({"dataset": dataset, "model": model, "verdict": NOT_TESTABLE,
                         "evidence": "one K only (unlearning.k_values)"})
            continue
        lo, hi = g.iloc[0], g.iloc[-1]
        faster, worse = hi["seconds_per_request"] < lo["seconds_per_request"], hi["recall20"] < lo["recall20"]
        v = HOLDS if faster and worse else (HOLDS_IN_PART if faster or worse else FAILS)
        rows.append({"dataset": dataset, "model": model, "verdict": v,
                     "evidence": f"K {int(lo['n_shards'])} -> {int(hi['n_shards'])}: Recall@20 {_num(lo['recall20'])} "
                                 f"-> {_num(hi['recall20'])}, s / request {lo['seconds_per_request']:.3g} -> "
                                 f"{hi['seconds_per_request']:.3g}"})
    return rows


def _claim_table(rows: list[dict], pairs: list[tuple[str, str]]) -> str:
    if not rows:
        return "(no row: the run has no dataset and model this claim reads)"
    rank = {pair: i for i, pair in enumerate(pairs)}
    rows = sorted(rows, key=lambda r: rank.get((r["dataset"], r["model"]), len(rank)))
    df = pd.DataFrame([{"dataset": r["dataset"], "model": r["model"], "verdict": r["verdict"],
                        "evidence": r["evidence"]} for r in rows])
    return df.to_markdown(index=False, disable_numparse=True)


def _summary(claims: dict[str, list[dict]], pairs: list[tuple[str, str]]) -> pd.DataFrame:
    table = []
    for key, name in CLAIM_NAMES.items():
        got = {(r["dataset"], r["model"]): r["verdict"] for r in claims.get(key, [])}
        table.append({"claim": name, **{f"{d} {m}": got.get((d, m), NOT_TESTABLE) for d, m in pairs}})
    return pd.DataFrame(table)


def replication_report(inputs: dict, out_md, n_shards: int, alpha: float = ALPHA,
                       paper_names: dict | None = None) -> dict[str, list[dict]]:
    """``results/report/replication.md`` from the run's tables. ``inputs``: ``metrics`` (results/metrics.csv),
    ``table_6_3``, ``table_6_4``, ``fig_6_4``, ``frontier`` (their CSVs), ``paper_6_3``, ``paper_6_4`` (the
    paper's), ``stats`` (the datasets' stats.json), and where the run has them ``forgetting``, ``user_unlearning``.
    ``paper_names``: dataset -> the paper's dataset it stands for (ml-1m-receraser -> ml-1m). Returns the verdict
    rows of every claim."""
    t63, t64 = pd.read_csv(inputs["table_6_3"]), pd.read_csv(inputs["table_6_4"])
    claims = {"close": close_to_retrain(t63, pd.read_csv(inputs["paper_6_3"]))}
    labelled = labelled_test_rows(inputs["metrics"], n_shards)  # the metrics file, read once
    claims.update(scorecard_claims(labelled, alpha))
    claims["speedup"] = speedup_claim(t64, pd.read_csv(inputs["paper_6_4"]), paper_names)
    claims["shards"] = shards_claim(pd.read_csv(inputs["fig_6_4"]))
    order = {m: i for i, m in enumerate(model_order(t63["model"]))}
    pairs = sorted({(d, m) for d, m in zip(t63["dataset"], t63["model"])}, key=lambda p: (p[0], order[p[1]]))
    stats = [read_json(p) for p in inputs.get("stats", [])]
    seeds = sorted(set(int(s) for s in labelled["seed"].dropna()))
    lines = ["# Replication report: Recommendation Unlearning (RecEraser, WWW 2022) on this run", "",
             "Every verdict below is computed from this run's tables by the rule stated with its claim "
             "(`recunlearn.report.replication`); the numbers are the cells of the linked tables and figures.", "",
             f"- K = {n_shards} shards; seeds {', '.join(map(str, seeds)) or '-'} (quality), the first for timing",
             *[f"- {s['dataset']}: {protocol(s)}" for s in stats],
             "- the paper's numbers: ml-1m and yelp2018 (its Tables 6.3 and 6.4); a dataset it does not have is "
             "judged against the paper's own bars as each rule says", "",
             "## Summary", "", _summary(claims, pairs).to_markdown(index=False, disable_numparse=True), ""]
    sources = {"close": "../tables/table_6_3.md", "order": "../tables/table_6_3.md",
               "partition": "../figures/fig_6_2.png", "aggregator": "../figures/fig_6_3.png",
               "speedup": "../tables/table_6_4.md", "shards": "../figures/fig_6_4.png"}
    rules = {"close": f"holds when RecEraser's test Recall@20 is at least the paper's share of Retrain's for that "
                      f"dataset and model less {CLOSE_MARGIN:g} (the smallest share of the paper's Table 6.3 where "
                      "it has none)",
             "order": f"the scorecard's rule: every link A > B with mean(A) > mean(B) and a one-sided paired t-test "
                      f"over the seeds at p < {alpha:g}; one seed: untested",
             "speedup": "holds when our speed-up is at least the paper's for that dataset and model (the smallest "
                        "of its Table 6.4 where it has none); cheaper but less: holds in part",
             "shards": "holds when, from the smallest to the largest K, RecEraser's test Recall@20 and its seconds "
                       "per request both fall; one of the two: holds in part"}
    rules["partition"] = rules["aggregator"] = rules["order"]
    for key, name in CLAIM_NAMES.items():
        lines += [f"## {name}", "", f"Rule: {rules[key]}. Source: [{Path(sources[key]).name}]({sources[key]}).", "",
                  _claim_table(claims[key], pairs), ""]
    lines += ["# Beyond the paper", ""]
    lines += _frontier_section(inputs.get("frontier"))
    lines += _forgetting_section(inputs.get("forgetting"))
    lines += _users_section(inputs.get("user_unlearning"))
    write_atomic(out_md, "\n".join(lines))
    return claims


def _section(title: str, source: str, absent: str, path, body) -> list[str]:
    """A section beyond the paper: its title, its source, and ``body(table)`` of the CSV at ``path`` (``absent``
    when the run did not build it)."""
    lines = [f"## {title}", "", f"Source: {source}", ""]
    return lines + ([body(pd.read_csv(path)), ""] if path else [absent, ""])


def _frontier_section(path) -> list[str]:
    def body(f):
        rows = []
        for (dataset, model), g in f.groupby(["dataset", "model"], sort=False):
            rec = g[g["method"] == "RecEraser"]
            rows.append({"dataset": dataset, "model": model,
                         "on the frontier": ", ".join(m for m, o in zip(shown_methods(g), g["on_frontier"]) if o),
                         "RecEraser on it": "-" if rec.empty else ("yes" if bool(rec["on_frontier"].iloc[0]) else "no")})
        return pd.DataFrame(rows).to_markdown(index=False)

    return _section("The frontier: quality against seconds per request", "[frontier.md](../tables/frontier.md), "
                    "[frontier.png](../figures/frontier.png). A method is on the frontier when no other is at least as "
                    "accurate and at least as fast.", "(not built by this run)", path, body)


def _forgetting_section(path) -> list[str]:
    def body(f):
        f = f[f["request_set"] == "members"]
        return pd.DataFrame({"dataset": f["dataset"], "model": f["model"], "method": shown_methods(f),
                             "exact": f["exact"].map(lambda e: "yes" if e else "no"),
                             "verdict": f["verdict"]}).to_markdown(index=False)

    return _section("Forgetting: the membership-inference check", "[forgetting.md](../tables/forgetting.md). The "
                    "original model is the positive control (the check must tell its members from non-members), "
                    "Retrain the negative control.", "(the check is off in this run's config)", path, body)


def _users_section(path) -> list[str]:
    def body(u):
        return pd.DataFrame({"dataset": u["dataset"], "model": u["model"], "selection": u["selection"],
                             "method": shown_methods(u), "mode": u["mode"], "speed-up": u["speedup"],
                             "Recall@20": u["recall20"].map(_num),
                             "NDCG@20 gap after": u["ndcg20_gap"].map(lambda v: f"{v:+.4f}")}
                            ).to_markdown(index=False, disable_numparse=True)

    return _section("User deletion: time and fairness", "[user_unlearning.md](../tables/user_unlearning.md): the "
                    "speed-up over Retrain of the same selection and mode, and the NDCG@20 gap between the most active "
                    "remaining users and the rest.", "(user deletion is off in this run's config)", path, body)
