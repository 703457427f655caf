"""Differences in outcome probabilities between configurations, with intervals."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Difference:
    """p(a) − p(b) for one outcome, with a 95% Newcombe interval."""

    outcome: str
    a: str
    b: str
    p_a: float
    p_b: float
    diff: float
    lo: float
    hi: float


def difference(
    outcome: str,
    a: str,
    hits_a: int,
    runs_a: int,
    b: str,
    hits_b: int,
    runs_b: int,
    confidence: float = 0.95,
) -> Difference:
    """The difference of two proportions with Newcombe's hybrid score interval.

    Configurations share run indices (common random numbers), so their results are positively
    correlated and an interval for independent samples is conservative."""
    from statsmodels.stats.proportion import confint_proportions_2indep  # slow to import

    lo, hi = confint_proportions_2indep(
        hits_a, runs_a, hits_b, runs_b, method="newcomb", compare="diff", alpha=1.0 - confidence
    )
    p_a, p_b = hits_a / runs_a, hits_b / runs_b
    return Difference(outcome, a, b, p_a, p_b, p_a - p_b, float(lo), float(hi))
