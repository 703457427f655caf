"""Elementwise transcendental functions, one implementation for every engine.

NumPy picks SIMD or libm kernels by CPU, array length and layout, and they may differ in the
last bit. The engines must agree exactly — the NumPy kernel, the fused (Numba) engine and the
reference interpreter — so all of them use the C library's functions: these are Numba ufuncs
over them, and the fused engine calls the same functions from its compiled loop. (Intel's SVML
would vectorise these loops with different code, so it is turned off before Numba loads.)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np


def _log1p(x: float) -> float:
    return math.log1p(x) if x > -1.0 else (-math.inf if x == -1.0 else math.nan)


def _cos(x: float) -> float:
    return math.cos(x)


def _power(x: float, y: float) -> float:
    return float(x**y)


#: the engine's own (the keyed generator's and the power operator's); the expression language's
#: functions of the C library are declared in :mod:`redline.core.primitives`, which builds them
#: here with :func:`ufunc`
_OWN: dict[str, Callable[..., float]] = {"log1p": _log1p, "cos": _cos, "power": _power}
_built: dict[str, Callable[..., Any]] = {}


def __getattr__(name: str) -> Callable[..., Any]:
    """``log1p``, ``cos`` and ``power`` as ufuncs (see :func:`ufunc`)."""
    if name not in _OWN:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return ufunc(name)


def scalar(name: str) -> Callable[..., float]:
    """The plain scalar function of ``log1p``, ``cos`` or ``power``, which its ufunc compiles:
    the fused engine compiles the same function into its loop."""
    return _OWN[name]


def ufunc(name: str, scalar: Callable[..., float] | None = None) -> Callable[..., Any]:
    """The C library's function ``name`` (``scalar``, or one of the engine's own) as a ufunc —
    on scalars or arrays, in Python and in Numba-compiled code alike — built on first use:
    building starts Numba, which commands that simulate nothing need not wait for."""
    found = _built.get(name)
    if found is None:
        import numba

        fn = scalar if scalar is not None else _OWN[name]
        signature = "float64(float64, float64)" if name == "power" else "float64(float64)"
        found = _built.setdefault(name, numba.vectorize([signature], cache=True)(fn))
    return found


#: square roots are correctly rounded everywhere
sqrt: Callable[..., Any] = np.sqrt
