"""The distributions a parameter of the core program may be drawn from.

Plain frozen values, named apart from the scenario model's: the scenario language's validated
models (:mod:`redline.scenario.model`) are converted to these by the compile step, so the engine
never reads a scenario object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True)
class UniformDraw:
    low: float
    high: float


@dataclass(frozen=True)
class NormalDraw:
    mean: float
    sd: float


@dataclass(frozen=True)
class TriangularDraw:
    low: float
    mode: float
    high: float


@dataclass(frozen=True)
class BetaDraw:
    """A beta(alpha, beta) draw scaled to [low, high]."""

    alpha: float
    beta: float
    low: float = 0.0
    high: float = 1.0


@dataclass(frozen=True)
class CategoricalDraw:
    """One of ``values``, with ``weights`` (equal when None)."""

    values: tuple[float, ...]
    weights: tuple[float, ...] | None = None


Draw: TypeAlias = UniformDraw | NormalDraw | TriangularDraw | BetaDraw | CategoricalDraw
