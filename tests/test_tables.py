"""Table 6.2: our statistics beside the paper's, in three formats."""

import json

import pandas as pd

from recunlearn.tables import table_6_2

from conftest import ROOT


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
