"""Elementwise transcendental functions, one implementation for every engine.

NumPy picks SIMD or libm kernels by CPU, array length and layout, and they may differ in the
last bit. The engines must agree exactly — the NumPy kernel, the fused (Numba) engine and the
reference interpreter — so all of them use the C library's functions: these are Numba ufuncs
over them, and the fused engine calls the same functions from its compiled loop. (Intel's SVML
would vectorise these loops with different code, so it is turned off before Numba loads.)
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

os.environ.setdefault("NUMBA_DISABLE_INTEL_SVML", "1")

import numba
import numpy as np


def _exp(x: float) -> float:
    return math.exp(x)


def _log(x: float) -> float:
    return math.log(x) if x > 0.0 else (-math.inf if x == 0.0 else math.nan)


def _log1p(x: float) -> float:
    return math.log1p(x) if x > -1.0 else (-math.inf if x == -1.0 else math.nan)


def _cos(x: float) -> float:
    return math.cos(x)


def _power(x: float, y: float) -> float:
    return float(x**y)


_one = numba.vectorize(["float64(float64)"], cache=True)
_two = numba.vectorize(["float64(float64, float64)"], cache=True)

#: ufuncs: they take scalars or arrays, in Python and in Numba-compiled code alike
exp: Callable[..., Any] = _one(_exp)
log: Callable[..., Any] = _one(_log)
log1p: Callable[..., Any] = _one(_log1p)
cos: Callable[..., Any] = _one(_cos)
power: Callable[..., Any] = _two(_power)
#: square roots are correctly rounded everywhere
sqrt: Callable[..., Any] = np.sqrt
