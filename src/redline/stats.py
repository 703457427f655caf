"""Interval estimates for outcome probabilities and their differences."""

from __future__ import annotations

import math


def wilson_interval(hits: int, runs: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for ``hits`` successes in ``runs`` trials."""
    if runs == 0:
        return (math.nan, math.nan)
    from statsmodels.stats.proportion import proportion_confint  # slow to import: on use

    lo, hi = proportion_confint(hits, runs, alpha=1.0 - confidence, method="wilson")
    # the score interval always contains the estimate; rounding can put 0 hits at 1e-19
    p = hits / runs
    return (min(max(float(lo), 0.0), p), max(min(float(hi), 1.0), p))
