"""The Student-t tail against known quantiles, the paired test across seeds, and the verdict of a claim."""

import math

import pytest

from recunlearn.stats import (FAILS, HOLDS, HOLDS_UNTESTED, NA, NOT_SIGNIFICANT, fmt_mean_std, marker, mean_std,
                              paired_t_test, t_sf, verdict)


@pytest.mark.parametrize(
    "df,t,p",
    [
        # one-sided 0.05 quantiles t_{0.95, df}
        (1, 6.314, 0.05), (2, 2.920, 0.05), (3, 2.353, 0.05), (4, 2.132, 0.05), (5, 2.015, 0.05),
        (10, 1.812, 0.05), (30, 1.697, 0.05),
        # one-sided 0.01 and 0.005 quantiles
        (2, 6.965, 0.01), (4, 3.747, 0.01), (2, 9.925, 0.005), (5, 4.032, 0.005),
        # closed forms: df = 1 is Cauchy, P(T > 1) = 1/4; df = 2, P(T > t) = (1 - t / sqrt(2 + t^2)) / 2
        (1, 1.0, 0.25), (2, 1.0, (1 - 1 / math.sqrt(3)) / 2),
    ],
)
def test_t_tail_matches_known_quantiles(df, t, p):
    assert t_sf(t, df) == pytest.approx(p, abs=2e-4)
    assert t_sf(-t, df) == pytest.approx(1 - p, abs=2e-4)


def test_t_tail_edges():
    assert t_sf(0.0, 3) == pytest.approx(0.5)
    assert t_sf(math.inf, 2) == 0.0 and t_sf(-math.inf, 2) == 1.0
    assert t_sf(1e6, 7) < 1e-12
    with pytest.raises(ValueError):
        t_sf(1.0, 0)
    with pytest.raises(ValueError):
        t_sf(1.0, 2.5)


def test_paired_test_pairs_by_seed():
    a = {1: 0.25, 2: 0.262, 3: 0.268, 4: 0.9}  # seed 4 has no partner: ignored
    b = {1: 0.20, 2: 0.21, 3: 0.22}
    t = paired_t_test(a, b)
    assert t.seeds == (1, 2, 3) and t.diffs == pytest.approx((0.05, 0.052, 0.048))
    assert t.mean_diff == pytest.approx(0.05)
    # sd of the differences 0.002, t = 0.05 / (0.002 / sqrt(3)) = 43.3 with 2 degrees of freedom
    assert t.t == pytest.approx(43.30, abs=0.01) and t.p == pytest.approx(t_sf(43.30, 2), rel=1e-3) and t.p < 0.001
    # the same means, but the differences spread: not beyond the seed-to-seed spread
    loose = paired_t_test({1: 0.20, 2: 0.21, 3: 0.22}, {1: 0.14, 2: 0.23, 3: 0.23})
    assert loose.mean_diff == pytest.approx(0.01) and loose.p > 0.3


def test_paired_test_degenerate_cases():
    assert paired_t_test({1: 0.3}, {1: 0.2}).p is None  # one seed: no test
    assert paired_t_test({1: 0.3}, {2: 0.2}).n == 0
    same = paired_t_test({1: 0.5, 2: 0.75}, {1: 0.25, 2: 0.5})  # identical differences: no spread at all
    assert same.p == 0.0 and same.t == math.inf
    assert paired_t_test({1: 0.3, 2: 0.4}, {1: 0.3, 2: 0.4}).p == 0.5


def test_verdict():
    strong = paired_t_test({1: 0.25, 2: 0.262, 3: 0.268}, {1: 0.20, 2: 0.21, 3: 0.22})
    loose = paired_t_test({1: 0.20, 2: 0.21, 3: 0.22}, {1: 0.14, 2: 0.23, 3: 0.23})
    reversed_ = paired_t_test({1: 0.20, 2: 0.21, 3: 0.22}, {1: 0.25, 2: 0.262, 3: 0.268})
    assert verdict([strong]) == HOLDS
    assert verdict([strong, loose]) == NOT_SIGNIFICANT  # holds on the mean, not beyond the spread
    assert verdict([strong, reversed_]) == FAILS
    assert verdict([strong, None]) == NA
    one = paired_t_test({1: 0.3}, {1: 0.2})
    assert verdict([one]) == HOLDS_UNTESTED and verdict([paired_t_test({1: 0.2}, {1: 0.3})]) == FAILS
    assert marker(strong) == "**" and marker(loose) == "" and marker(one) == "" and marker(reversed_) == ""


def test_mean_std_formatting():
    assert fmt_mean_std(*mean_std([0.25])) == "0.2500"
    assert fmt_mean_std(*mean_std([0.25, 0.27])) == "0.2600 ± 0.0141"
    assert fmt_mean_std(*mean_std([])) == "-"
