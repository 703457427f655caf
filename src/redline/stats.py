"""Interval estimates for outcome probabilities and their differences."""

from __future__ import annotations

import math
from statistics import NormalDist


def wilson_interval(hits: int, runs: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for ``hits`` successes in ``runs`` trials: statsmodels'
    ``proportion_confint(method="wilson")``, computed as it does, here where every summary
    needs it — importing statsmodels (and pandas with it) cost each summarising process a
    second."""
    if runs == 0:
        return (math.nan, math.nan)
    crit = NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)
    crit2 = crit**2
    q = hits / runs
    denom = 1.0 + crit2 / runs
    center = (q + crit2 / (2.0 * runs)) / denom
    dist = crit * math.sqrt(q * (1.0 - q) / runs + crit2 / (4.0 * runs**2)) / denom
    lo, hi = center - dist, center + dist
    # the score interval always contains the estimate; rounding can put 0 hits at 1e-19
    p = hits / runs
    return (min(max(float(lo), 0.0), p), max(min(float(hi), 1.0), p))
