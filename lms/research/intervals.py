"""Uncertainty intervals for the impact report: a 95% t-interval for the mean of per-tutor
values. A mean over fewer than ``MIN_TUTORS`` tutors gets no interval: too few to compare."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: Below this many tutors a cell shows its mean but no interval, and says so.
MIN_TUTORS = 5
CONFIDENCE = 0.95
#: The two-sided 95% critical values of Student's t, by degrees of freedom (1 to 30).
_T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201,
          2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069,
          2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)
_Z_975 = 1.959964


def t_critical(df: int) -> float:
    """The 97.5th percentile of t with ``df`` degrees of freedom: from the table up to 30,
    beyond it the Cornish-Fisher expansion about the normal (within 0.0005)."""
    if df < 1:
        raise ValueError("a t-interval needs at least two values")
    if df <= len(_T_975):
        return _T_975[df - 1]
    z = _Z_975
    return (z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3))


@dataclass(frozen=True)
class Estimate:
    """The mean of per-tutor values, with its 95% t-interval when there are enough tutors."""

    tutors: int
    pupils: int
    mean: float | None
    low: float | None = None
    high: float | None = None

    @property
    def too_few(self) -> bool:
        return 0 < self.tutors < MIN_TUTORS

    @property
    def has_interval(self) -> bool:
        return self.low is not None


def estimate(values: Sequence[float], pupils: int = 0) -> Estimate:
    """Mean ± t(0.975, n-1) · s / √n over ``values`` (one per tutor; ``s`` the sample
    standard deviation); no interval below ``MIN_TUTORS`` values."""
    n = len(values)
    if n == 0:
        return Estimate(0, pupils, None)
    mean = math.fsum(values) / n
    if n < MIN_TUTORS:
        return Estimate(n, pupils, mean)
    variance = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    half = t_critical(n - 1) * math.sqrt(variance / n)
    return Estimate(n, pupils, mean, mean - half, mean + half)


def from_sums(n: int, total: float, squares: float, pupils: int = 0) -> Estimate:
    """The same estimate from a group's count, sum and sum of squares of the per-tutor values,
    so a group is folded in one pass: ``s² = (Σx² − n·mean²) / (n − 1)``."""
    if n == 0:
        return Estimate(0, pupils, None)
    mean = total / n
    if n < MIN_TUTORS:
        return Estimate(n, pupils, mean)
    variance = max(0.0, (squares - total * mean) / (n - 1))
    half = t_critical(n - 1) * math.sqrt(variance / n)
    return Estimate(n, pupils, mean, mean - half, mean + half)
