"""benchmarks/frontier.py: the mean and spread over seeds, and which methods are on the frontier, by hand."""

import importlib.util

import pandas as pd
import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def frontier():
    spec = importlib.util.spec_from_file_location("frontier", ROOT / "benchmarks" / "frontier.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rows():
    # two seeds of one dataset and model: Retrain (0.35 and 0.37, 8 and 10 s) and three methods
    out = []
    for seed, retrain_s, retrain_r in ((1, 8.0, 0.35), (2, 10.0, 0.37)):
        for method, s, r in (("A", 0.5, 0.20), ("B", 1.0, 0.30), ("C", 12.0, 0.29)):
            out.append({"dataset": "d", "seed": seed, "model": "BPR", "method": method, "retrain_s": retrain_s,
                        "retrain_test_recall20": retrain_r, "unlearn_s": s * seed, "test_recall20": r + 0.01 * seed})
    return pd.DataFrame(out)


def test_mean_spread_and_frontier_by_hand(frontier, tmp_path):
    summary = frontier.summarise(rows()).set_index("method")
    assert summary.loc["Retrain", "recall"] == pytest.approx(0.36)
    assert summary.loc["Retrain", "seconds"] == pytest.approx(9.0)
    assert summary.loc["Retrain", "seconds_sd"] == pytest.approx(2 ** 0.5)  # sample s.d. of 8 and 10
    assert summary.loc["B", "recall"] == pytest.approx(0.315) and summary.loc["B", "seconds"] == pytest.approx(1.5)
    assert (summary["seeds"] == 2).all()
    # C (18 s, 0.305) is slower and less accurate than B (1.5 s, 0.315): the only one off the frontier
    assert summary["frontier"].to_dict() == {"Retrain": True, "A": True, "B": True, "C": False}
    table = frontier.markdown(summary.reset_index())
    assert "| d | BPR | C | 0.3050 ± 0.0071 | 0.85 | 18.00 ± 8.49 | 2 |  |" in table
    frontier.figure(summary.reset_index(), tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 0
