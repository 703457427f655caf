"""The fused engine's runtime: the compiled helpers its generated modules call.

Draws from the keyed generator (the same mixing as :mod:`redline.engine.rng`), ``np.minimum``
and ``np.maximum`` as NumPy computes them (NaN wins), tests and counts over event-tag columns,
and emitting an effect's tags. Every generated module imports these by name
(:mod:`redline.engine.fused.codegen` writes the import).
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

from redline.core import numeric
from redline.engine import rng

_GOLDEN, _M1, _M2, _TO_UNIT = rng.GOLDEN, rng.M1, rng.M2, rng.TO_UNIT
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_ONE = np.uint64(1)
_TWO_PI = 2.0 * np.pi

_jit = numba.njit(error_model="numpy", cache=True)


@_jit
def _uniform(origin: Any, run: Any) -> float:
    z = origin + (np.uint64(run) + _ONE) * _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    z = z ^ (z >> _S31)
    return np.float64(z >> _S11) * _TO_UNIT


@_jit
def _normal(origin0: Any, origin1: Any, run: Any) -> float:
    u1 = _uniform(origin0, run)
    u2 = _uniform(origin1, run)
    return float(math.sqrt(-2.0 * numeric.log1p(-u1)) * numeric.cos(_TWO_PI * u2))


@_jit
def _min(a: float, b: float) -> float:
    """np.minimum: NaN wins."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a <= b else b


@_jit
def _max(a: float, b: float) -> float:
    """np.maximum: NaN wins."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a >= b else b


@_jit
def _any_now(now: Any, cols: Any) -> bool:
    for c in cols:  # noqa: SIM110 - a loop Numba compiles over a literal tuple
        if now[c]:
            return True
    return False


@_jit
def _any_count(count: Any, cols: Any) -> bool:
    for c in cols:  # noqa: SIM110 - a loop Numba compiles over a literal tuple
        if count[c] > 0:
            return True
    return False


@_jit
def _sum_count(count: Any, cols: Any) -> float:
    total = 0.0
    for c in cols:
        total += count[c]
    return total


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _emit(fx: Any, e: int, now: Any, count: Any) -> float:
    """Emit effect ``e``'s tags (``fx``: the effect tables, :class:`~.codegen.Effects`); the
    rung it reaches (or -1)."""
    for j in range(fx.start[e], fx.start[e + 1]):
        now[fx.tags[j]] = True
        count[fx.tags[j]] += 1
    return float(fx.level[e])


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _trouble(tq: Any, tv: Any, tr: Any, c: int, i: int, run: int, t: int, value: float) -> int:
    """Count trouble check ``c`` failing at step ``t`` of the run at position ``i`` (index
    ``run``) with ``value``: ``tq[c]`` holds occurrences, runs, the last run's position + 1,
    the first occurrence's run and step; ``tv[c]`` its value; ``tr[i]`` the run's count
    (:class:`~.codegen.Outputs`)."""
    tq[c, 0] += 1
    if tq[c, 2] != i + 1:
        tq[c, 1] += 1
        tq[c, 2] = i + 1
    tr[i] += 1
    if tq[c, 3] < 0 or run < tq[c, 3]:
        tq[c, 3] = run
        tq[c, 4] = t
        tv[c] = value
    return 0
