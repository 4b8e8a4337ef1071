"""Table 6.2: our statistics beside the paper's, in three formats; Table 6.3, the figures and the scorecard over
several seeds (mean ± std, one-sided paired t-tests across seeds)."""

import json

import pandas as pd
import pytest

from recunlearn.report.figures import grouped_bars
from recunlearn.results import GATHERED_COLUMNS, gather
from recunlearn.stats import holds
from recunlearn.report.paper import scorecard, table_6_2, table_6_3

from conftest import ROOT

PAPER_6_3 = ROOT / "workflow" / "paper" / "table_6_3.csv"


def test_table_6_2(tmp_path):
    stats = {"dataset": "ml-1m", "users": 6040, "items": 3706, "interactions": 1000209, "density": 0.0447,
             "train": {"interactions": 800000}, "valid": {"interactions": 100000}, "test": {"interactions": 100209}}
    other = dict(stats, dataset="mine", users=10)
    paths = []
    for s in (stats, other):
        p = tmp_path / f"{s['dataset']}.json"
        p.write_text(json.dumps(s))
        paths.append(p)
    table_6_2(paths, ROOT / "workflow" / "paper" / "table_6_2.csv", tmp_path / "t")
    csv = pd.read_csv(tmp_path / "t.csv")
    assert csv.loc[0, "users"] == "6,040" and csv.loc[0, "users (paper)"] == "6,040"
    assert csv.loc[1, "users (paper)"] == "-"
    md = (tmp_path / "t.md").read_text()
    assert "ml-1m: users, items and interactions match the paper" in md and "mine: not in the paper" in md
    tex = (tmp_path / "t.tex").read_text()
    assert r"\begin{tabular}" in tex and "ml-1m" in tex


# Hand-made test Recall/NDCG per label and seed (the same values on every metric): label -> (seed 1, 2, 3).
# RecEraser beats GraphEraser by 0.05 +- 0.002 on every seed (p < 0.01), but GraphEraser beats SISA only on the mean:
# the per-seed differences are +0.06, -0.02, -0.01, well within the seed-to-seed spread.
RUNS = {
    "Retrain": [0.30, 0.31, 0.32],
    "RecEraser": [0.25, 0.262, 0.268],
    "GraphEraser": [0.20, 0.21, 0.22],
    "SISA": [0.14, 0.23, 0.23],
    "ubp+att": [0.22, 0.23, 0.24],
    "ibp+att": [0.21, 0.225, 0.235],
    "random+att": [0.15, 0.16, 0.17],
    "inbp+static": [0.23, 0.235, 0.25],
    "inbp+mean": [0.18, 0.19, 0.20],
}
COMBO = {"RecEraser": ("inbp", "att"), "GraphEraser": ("bekm", "static"), "SISA": ("random", "mean")}
METRIC_KS = [("Recall", 10), ("Recall", 20), ("Recall", 50), ("NDCG", 10), ("NDCG", 20), ("NDCG", 50)]


def metric_rows(runs=RUNS, seeds=(1, 2, 3), dataset="ml-1m", model="BPR", k=10):
    """Rows of results/metrics.csv (with the seed column) for ``runs``, test and validation."""
    rows = []
    for label, values in runs.items():
        if label == "Retrain":
            method, partition, aggregator, n = "Retrain", "none", "none", 1
        else:
            partition, aggregator = COMBO.get(label, tuple(label.split("+")))
            method, n = label, k
        for seed, value in zip(seeds, values):
            for split in ("valid", "test"):
                for metric, cut in METRIC_KS:
                    rows.append(dict(dataset=dataset, model=model, method=method, partition=partition,
                                     aggregator=aggregator, n_shards=n, seed=seed, split=split, metric=metric, k=cut,
                                     value=value))
    return pd.DataFrame(rows, columns=GATHERED_COLUMNS)


def write_metrics(path, df):
    df.to_csv(path, index=False)
    return path


def card_row(card, claim):
    return card[card["claim"] == claim].iloc[0]


def test_scorecard_tests_claims_against_the_seed_spread(tmp_path):
    metrics = write_metrics(tmp_path / "metrics.csv", metric_rows())
    card = scorecard(metrics, PAPER_6_3, tmp_path / "card.md", 10)
    chain = card_row(card, "RecEraser > GraphEraser > SISA")
    # holds on the mean (0.260 > 0.210 > 0.200) but GraphEraser > SISA is not beyond the spread: not holding
    assert chain["Recall@20"] == "not significant" and not holds(chain["Recall@20"])
    assert chain["metrics holding"] == "0/6"
    assert card_row(card, "InBP > UBP, IBP > Random (AttAgg)")["Recall@20"] == "holds"
    assert card_row(card, "AttAgg > StaticAgg > MeanAgg (InBP)")["Recall@20"] == "holds"
    retrain = card_row(card, "Retrain best")
    assert retrain["Recall@20"] == "holds" and retrain["metrics holding"] == "6/6"
    md = (tmp_path / "card.md").read_text()
    # the reader sees why: the p-values and the per-seed differences
    assert "GraphEraser - SISA = +0.0100 (p 0.3647)" in md
    flat = " ".join(md.split())
    assert ("| GraphEraser > SISA | 1, 2, 3 | +0.0600, -0.0200, -0.0100 | +0.0100 | 0.40 | 0.3647 | not significant |"
            in flat)
    assert "| ubp+att > random+att | 1, 2, 3 | +0.0700, +0.0700, +0.0700 | +0.0700 | inf | <0.0001 | holds |" in flat
    assert "one-sided paired t-test" in md and "seeds: 1, 2, 3" in md


def test_scorecard_with_one_seed_never_claims_significance(tmp_path):
    one = {label: values[:1] for label, values in RUNS.items()}
    metrics = write_metrics(tmp_path / "metrics.csv", metric_rows(one, seeds=(2022,)))
    card = scorecard(metrics, PAPER_6_3, tmp_path / "card.md", 10)
    assert set(card["Recall@20"]) == {"holds (1 seed, untested)"}
    md = (tmp_path / "card.md").read_text()
    assert "Only one seed: nothing here is tested for significance." in md and "(p " not in md
    # a reversal with one seed fails
    worse = dict(one, RecEraser=[0.19])
    card = scorecard(write_metrics(tmp_path / "m2.csv", metric_rows(worse, seeds=(2022,))), PAPER_6_3,
                     tmp_path / "card2.md", 10)
    assert card_row(card, "RecEraser > GraphEraser > SISA")["Recall@20"] == "fails"


def test_scorecard_missing_method_is_na(tmp_path):
    runs = {k: v for k, v in RUNS.items() if k != "ubp+att"}
    card = scorecard(write_metrics(tmp_path / "m.csv", metric_rows(runs)), PAPER_6_3, tmp_path / "c.md", 10)
    row = card_row(card, "InBP > UBP, IBP > Random (AttAgg)")
    assert row["Recall@20"] == "n/a" and row["metrics holding"] == "n/a"


def test_table_6_3_mean_std_and_significance(tmp_path):
    metrics = write_metrics(tmp_path / "metrics.csv", metric_rows())
    long = table_6_3(metrics, PAPER_6_3, tmp_path / "t63", 10)
    rec = long[(long["method"] == "RecEraser") & (long["metric"] == "Recall") & (long["k"] == 20)].iloc[0]
    assert rec["ours"] == pytest.approx(0.26) and rec["std"] == pytest.approx(0.009165, abs=1e-6)
    assert rec["n_seeds"] == 3 and rec["best_baseline"] == "GraphEraser"
    assert rec["p_value"] < 0.01 and rec["significant"] == "**"
    assert rec["paper"] == 0.2254 and rec["paper_significant"] == 1
    assert rec["rel_diff"] == pytest.approx(0.26 / 0.2254 - 1)
    sisa = long[(long["method"] == "SISA")]
    assert sisa["significant"].eq("").all() and sisa["p_value"].isna().all()
    wide = pd.read_csv(tmp_path / "t63.csv")  # the CSV is the long form
    assert set(wide["method"]) == {"Retrain", "SISA", "GraphEraser", "RecEraser"}
    md = (tmp_path / "t63.md").read_text()
    assert "0.2600 ± 0.0092 ** (0.2254**, +15%)" in md
    assert "one-sided paired t-test on the per-seed differences" in md and "p < 0.01 / p < 0.05" in md
    assert "seeds: 1, 2, 3" in md


def test_table_6_3_with_one_seed_shows_the_value_alone(tmp_path):
    one = {label: values[:1] for label, values in RUNS.items()}
    metrics = write_metrics(tmp_path / "metrics.csv", metric_rows(one, seeds=(2022,)))
    long = table_6_3(metrics, PAPER_6_3, tmp_path / "t63", 10)
    assert long["significant"].eq("").all() and long["n_seeds"].eq(1).all()
    md = (tmp_path / "t63.md").read_text()
    assert "0.2500 (0.2254**, +11%)" in md and "±" not in md.split("Notes:")[0]
    assert "with one seed no test is possible and no mark is given" in md


def test_table_6_3_reads_per_evaluation_files_with_their_seeds(tmp_path):
    """The workflow hands Table 6.3 the per-run metrics.csv files (no seed column) and the seed of each."""
    rows = metric_rows().drop(columns="seed")
    paths, seeds = [], {}
    for seed in (1, 2, 3):
        part = rows[metric_rows()["seed"] == seed]
        p = tmp_path / f"m{seed}.csv"
        part.to_csv(p, index=False)
        paths.append(str(p))
        seeds[str(p)] = seed
    long = table_6_3(paths, PAPER_6_3, tmp_path / "t63", 10, seeds=seeds)
    rec = long[(long["method"] == "RecEraser") & (long["metric"] == "Recall") & (long["k"] == 20)].iloc[0]
    assert rec["n_seeds"] == 3 and rec["significant"] == "**"


def test_table_6_3_keeps_a_model_the_paper_does_not_have(tmp_path):
    """A user's own base model is shown after the paper's three, with no paper numbers, never dropped."""
    rows = pd.concat([metric_rows(model="NGCF"), metric_rows(model="BPR")], ignore_index=True)
    long = table_6_3(write_metrics(tmp_path / "metrics.csv", rows), PAPER_6_3, tmp_path / "t63", 10)
    assert list(dict.fromkeys(long["model"])) == ["BPR", "NGCF"]
    ngcf = long[long["model"] == "NGCF"]
    assert len(ngcf) == len(long[long["model"] == "BPR"]) and ngcf["paper"].isna().all()
    assert "NGCF" in (tmp_path / "t63.md").read_text()


def test_gather_adds_the_seed(tmp_path):
    rows = metric_rows().drop(columns="seed")
    a, b, pop = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "pop.csv"
    rows[rows["method"] == "Retrain"].iloc[:12].to_csv(a, index=False)
    rows[rows["method"] == "Retrain"].iloc[:12].to_csv(b, index=False)  # the same run under another seed
    mostpop = rows.iloc[:12].assign(model="MostPop", method="MostPop")
    mostpop.to_csv(pop, index=False)
    out = gather([a, b, pop], tmp_path / "metrics.csv", seeds={str(a): 2022, str(b): 2023})
    assert list(out.columns) == GATHERED_COLUMNS
    written = pd.read_csv(tmp_path / "metrics.csv")
    assert list(written.columns) == GATHERED_COLUMNS
    assert sorted(written["seed"].dropna().astype(int).unique()) == [2022, 2023]
    assert written.loc[written["method"] == "MostPop", "seed"].isna().all()
    with pytest.raises(ValueError, match="duplicate metric rows"):
        gather([a, a], tmp_path / "dup.csv", seeds={str(a): 2022})


def test_figure_plots_the_mean_with_std(tmp_path):
    metrics = write_metrics(tmp_path / "metrics.csv", metric_rows())
    data = grouped_bars(metrics, ROOT / "workflow" / "paper" / "figures_text.csv", "fig_6_3", ["mean", "static", "att"],
                        10, tmp_path / "fig")
    att = data[data["variant"] == "AttAgg"].iloc[0]
    assert att["mean"] == pytest.approx(0.26) and att["n_seeds"] == 3
    assert att["std"] == pytest.approx(0.009165, abs=1e-6)
    assert (tmp_path / "fig.png").stat().st_size > 0 and (tmp_path / "fig.pdf").stat().st_size > 0
    assert list(pd.read_csv(tmp_path / "fig.csv")["variant"]) == ["MeanAgg", "StaticAgg", "AttAgg"]


def test_figures_and_scorecard_compare_a_stand_in_dataset_with_the_papers(tmp_path):
    """ml-1m-receraser stands for the paper's ml-1m: the figures mark the paper's RecEraser bar (InBP under AttAgg,
    Table 6.3's cell, as the text gives no ml-1m value) and the scorecard lists the deviations from ml-1m's cells."""
    paper = pd.read_csv(PAPER_6_3)
    theirs = paper[(paper["dataset"] == "ml-1m") & (paper["model"] == "BPR") & (paper["method"] == "RecEraser")
                   & (paper["metric"] == "Recall") & (paper["k"] == 20)]["value"].iloc[0]
    metrics = write_metrics(tmp_path / "metrics.csv", metric_rows(dataset="ml-1m-receraser"))
    names = {"ml-1m-receraser": "ml-1m"}
    for fig, variants, bar in (("fig_6_3", ["mean", "static", "att"], "AttAgg"),
                               ("fig_6_2", ["random", "ubp", "ibp", "inbp"], "InBP")):
        data = grouped_bars(metrics, ROOT / "workflow" / "paper" / "figures_text.csv", fig, variants, 10,
                            tmp_path / fig, table_6_3_csv=PAPER_6_3, paper_names=names)
        assert data.loc[data["variant"] == bar, "paper"].iloc[0] == pytest.approx(theirs)
        assert data.loc[data["variant"] != bar, "paper"].isna().all()
        without = grouped_bars(metrics, ROOT / "workflow" / "paper" / "figures_text.csv", fig, variants, 10,
                               tmp_path / f"{fig}_bare")
        assert without["paper"].isna().all()
    # where the text gives the bar's value (yelp2018, WMF, AttAgg), the text's value is kept
    yelp = write_metrics(tmp_path / "yelp.csv", metric_rows(dataset="yelp2018", model="WMF"))
    data = grouped_bars(yelp, ROOT / "workflow" / "paper" / "figures_text.csv", "fig_6_3", ["mean", "static", "att"],
                        10, tmp_path / "yelp", table_6_3_csv=PAPER_6_3)
    assert data.loc[data["variant"] == "AttAgg", "paper"].iloc[0] == pytest.approx(0.0572)
    scorecard(metrics, PAPER_6_3, tmp_path / "card.md", 10, paper_names=names)
    deviation = (tmp_path / "card.md").read_text().split("## Deviation from the paper")[1]
    assert "ml-1m-receraser" in deviation and f"{theirs:.4f}" in deviation
    scorecard(metrics, PAPER_6_3, tmp_path / "bare.md", 10)
    assert "no cell can be compared" in (tmp_path / "bare.md").read_text()


def test_table_notes_say_what_was_tuned_and_how_sub_models_were_scored(tmp_path):
    from recunlearn.report.paper import tuning_notes

    base = {"dataset": "ml-1m", "model": "BPR", "partition": None, "aggregator": None, "seed": 2022,
            "space": {"lr": {}}, "trials": [{}, {}],
            "best_value": 0.12, "first_value": 0.10}
    files = []
    for name, extra in (("r", {"target": "retrain"}),
                        ("s", {"target": "submodel", "partition": "inbp", "shards": [0, 1]}),
                        ("m", {"target": "submodel", "partition": "random", "shards": list(range(10)),
                               "submodel_objective": "mean"}),
                        ("c", {"target": "retrain", "tuned_by": "elsewhere"})):
        files.append(tmp_path / f"{name}.json")
        files[-1].write_text(json.dumps({**base, **extra}))
    (note,) = tuning_notes(files)
    assert note.startswith("ml-1m BPR: settings tuned on the validation split (seed 2022")
    assert "Retrain 2 trials (lr): 0.1200 vs 0.1000 for the config's own" in note
    assert "inbp sub-models (on shards 0, 1)" in note and "random sub-models (scored by MeanAgg over all its shards)" in note
    assert note.count("Retrain") == 1  # a record of another run's choice is not a tuning
