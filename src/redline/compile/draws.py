"""Scenario distributions as the core program's draws."""

from __future__ import annotations

from redline.core.distributions import (
    BetaDraw,
    CategoricalDraw,
    Draw,
    NormalDraw,
    TriangularDraw,
    UniformDraw,
)
from redline.scenario.model import Beta, Choice, Distribution, Normal, Triangular, Uniform


def draw_of(dist: Distribution) -> Draw:
    """The core draw a validated scenario distribution stands for."""
    if isinstance(dist, Uniform):
        return UniformDraw(dist.low, dist.high)
    if isinstance(dist, Normal):
        return NormalDraw(dist.mean, dist.sd)
    if isinstance(dist, Triangular):
        return TriangularDraw(dist.low, dist.mode, dist.high)
    if isinstance(dist, Beta):
        return BetaDraw(dist.alpha, dist.beta, dist.low, dist.high)
    if isinstance(dist, Choice):
        weights = None if dist.weights is None else tuple(dist.weights)
        return CategoricalDraw(tuple(dist.values), weights)
    raise TypeError(f"unknown distribution {dist!r}")
