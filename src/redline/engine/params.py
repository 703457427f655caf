"""Per-run parameter values: fixed parameters, and uncertainties drawn from their distributions.

Every draw is keyed by (seed, run, the uncertainty's name) before step 0, so a run's sampled
values are the same however runs are chunked or distributed.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from redline.core import numeric
from redline.core.distributions import (
    BetaDraw,
    CategoricalDraw,
    Draw,
    NormalDraw,
    TriangularDraw,
    UniformDraw,
)
from redline.core.program import RunConstant
from redline.engine import rng


def param_site(name: str) -> int:
    return rng.site_id(f"uncertainty.{name}")


def transform(dist: Draw, u: NDArray[np.float64]) -> NDArray[np.float64]:
    """The distribution's inverse CDF at uniforms ``u`` (used for drawing and for designs)."""
    if isinstance(dist, NormalDraw):
        from scipy import special  # on use: SciPy's special functions take long to import

        return dist.mean + dist.sd * np.asarray(special.ndtri(u), dtype=np.float64)
    if isinstance(dist, UniformDraw):
        return dist.low + (dist.high - dist.low) * u
    if isinstance(dist, TriangularDraw):
        lo, mode, hi = dist.low, dist.mode, dist.high
        width = hi - lo
        if width == 0:
            return np.full_like(u, lo)
        cut = (mode - lo) / width
        left = lo + numeric.sqrt(u * width * (mode - lo))
        right = hi - numeric.sqrt((1.0 - u) * width * (hi - mode))
        return np.asarray(np.where(u < cut, left, right), dtype=np.float64)
    if isinstance(dist, BetaDraw):
        from scipy import special

        x = np.asarray(special.betaincinv(dist.alpha, dist.beta, u), dtype=np.float64)
        return dist.low + (dist.high - dist.low) * x
    if isinstance(dist, CategoricalDraw):
        values = np.asarray(dist.values, dtype=np.float64)
        weights = np.asarray(dist.weights or [1.0] * len(values), dtype=np.float64)
        cum = np.cumsum(weights / weights.sum())
        index = np.minimum(np.searchsorted(cum, u, side="right"), len(values) - 1)
        return values[index]
    raise TypeError(f"unknown distribution {dist!r}")


def sample_distribution(
    dist: Draw, seed: int, site: int, runs: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Draw one value per run: the keyed ziggurat for the normal (:func:`rng.standard_normal`),
    the inverse CDF for the others."""
    if isinstance(dist, NormalDraw):
        return dist.mean + dist.sd * rng.standard_normal(seed, rng.SETUP_STEP, site, runs)
    return transform(dist, rng.uniform(seed, rng.SETUP_STEP, site, runs))


def sample_params(
    params: tuple[RunConstant, ...], seed: int, runs: NDArray[np.int64]
) -> dict[str, NDArray[np.float64] | float]:
    """Values of every parameter for the given runs: floats for fixed ones, arrays for drawn."""
    values: dict[str, NDArray[np.float64] | float] = {}
    for p in params:
        if p.distribution is None:
            assert p.value is not None
            values[p.name] = float(p.value)
        else:
            values[p.name] = sample_distribution(p.distribution, seed, param_site(p.name), runs)
    return values
