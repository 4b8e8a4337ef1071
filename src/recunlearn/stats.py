"""Significance across seeds: a one-sided paired t-test on per-seed differences, and the verdict of a claim.

Every seed trains every method on the same split (``split.seed`` is fixed), so the values of two methods pair up
by seed; the per-seed differences d_s = A_s - B_s carry the seed-to-seed spread. "A > B" holds when mean(d) > 0
and the one-sided paired t-test of H0: E[d] <= 0 gives p < alpha. With one seed no test is possible.

The Student-t tail is SciPy's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

ALPHA = 0.05


def t_sf(t: float, df: int) -> float:
    """One-sided upper tail P(T > t) of a Student-t variable with integer ``df`` >= 1 (SciPy's)."""
    if df < 1 or int(df) != df:
        raise ValueError(f"degrees of freedom must be a positive integer, got {df}")
    if math.isnan(t):
        return float("nan")
    from scipy.stats import t as student_t

    return float(student_t.sf(t, int(df)))


@dataclass(frozen=True)
class PairedTest:
    """A > B on paired seeds: the seeds, the per-seed differences A - B, their mean, t and the one-sided p."""

    seeds: tuple
    diffs: tuple[float, ...]
    mean_diff: float
    t: float | None  # None with fewer than two pairs
    p: float | None  # one-sided, H1: E[A - B] > 0; None with fewer than two pairs

    @property
    def n(self) -> int:
        return len(self.diffs)


def paired_t_test(a: Mapping, b: Mapping) -> PairedTest:
    """One-sided paired t-test of A > B over the seeds both ``a`` and ``b`` (seed -> value) have.

    Identical differences (no spread; below 1e-12, floating-point rounding of metrics in [0, 1]) give t = +-inf
    and p = 0 or 1, or t = 0 and p = 0.5 when they are all zero.
    """
    seeds = tuple(sorted(set(a) & set(b)))
    diffs = tuple(float(a[s]) - float(b[s]) for s in seeds)
    n = len(diffs)
    if n == 0:
        return PairedTest(seeds, diffs, float("nan"), None, None)
    mean = sum(diffs) / n
    if n < 2:
        return PairedTest(seeds, diffs, mean, None, None)
    if abs(mean) < 1e-12:
        mean = 0.0
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
    if sd < 1e-12:
        t = 0.0 if mean == 0 else math.copysign(math.inf, mean)
    else:
        t = mean / (sd / math.sqrt(n))
    return PairedTest(seeds, diffs, mean, t, t_sf(t, n - 1))


HOLDS = "holds"
HOLDS_UNTESTED = "holds (1 seed, untested)"
NOT_SIGNIFICANT = "not significant"
FAILS = "fails"
NA = "n/a"


def verdict(tests: Sequence[PairedTest | None], alpha: float = ALPHA) -> str:
    """The verdict of a claim made of comparisons "A > B", all of which must hold.

    ``holds``: every comparison has mean(A) > mean(B) and p < alpha (requiring every link keeps the claim's
    false-positive rate at alpha without a correction); ``not significant``: the means agree with the claim but
    some difference is within the seed-to-seed spread; ``fails``: some mean disagrees; with one seed,
    ``holds (1 seed, untested)`` or ``fails``; ``n/a`` when a method is missing.
    """
    if not tests or any(t is None or t.n == 0 for t in tests):
        return NA
    if any(not t.mean_diff > 0 for t in tests):
        return FAILS
    if min(t.n for t in tests) < 2:
        return HOLDS_UNTESTED
    return HOLDS if all(t.p < alpha for t in tests) else NOT_SIGNIFICANT


def holds(v: str) -> bool:
    """Whether a verdict counts as holding (``holds``, or untested with one seed)."""
    return v in (HOLDS, HOLDS_UNTESTED)


def marker(test: PairedTest | None) -> str:
    """``**`` for p < 0.01, ``*`` for p < 0.05 (A above B, two or more seeds), else empty."""
    if test is None or test.p is None or not test.mean_diff > 0:
        return ""
    return "**" if test.p < 0.01 else "*" if test.p < 0.05 else ""


def mean_std(values: Sequence[float]) -> tuple[float, float, int]:
    """Mean, sample standard deviation (ddof 1; NaN for one value) and count."""
    vals = [float(v) for v in values]
    n = len(vals)
    if n == 0:
        return float("nan"), float("nan"), 0
    mean = sum(vals) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1)) if n > 1 else float("nan")
    return mean, std, n


def fmt_mean_std(mean: float, std: float, n: int, digits: int = 4) -> str:
    """``mean ± std`` over two or more seeds, the value alone over one."""
    if n == 0 or math.isnan(mean):
        return "-"
    return f"{mean:.{digits}f}" if n < 2 else f"{mean:.{digits}f} ± {std:.{digits}f}"


def fmt_p(p: float | None) -> str:
    if p is None or math.isnan(p):
        return "-"
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"
