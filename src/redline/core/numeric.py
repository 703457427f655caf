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
#: functions of the C library are declared in :data:`redline.core.primitives.LIBM`
_OWN = {"log1p": _log1p, "cos": _cos, "power": _power}
_built: dict[str, Callable[..., Any]] = {}


def __getattr__(name: str) -> Callable[..., Any]:
    """``log1p``, ``cos``, ``power`` and every C-library primitive (``exp``, ``log`` …): ufuncs
    (scalars or arrays, in Python and in Numba-compiled code alike), built on first use —
    building them starts Numba, which commands that simulate nothing need not wait for."""
    if name.startswith("__"):
        raise AttributeError(name)
    return ufunc(name)


def ufunc(name: str) -> Callable[..., Any]:
    """The ufunc of the C library's function ``name`` (see :func:`__getattr__`)."""
    if name in _built:
        return _built[name]
    from redline.core.primitives import LIBM

    scalar = {**_OWN, **LIBM}
    if name not in scalar:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if not _built:
        import numba

        for key, fn in scalar.items():
            signature = "float64(float64, float64)" if key == "power" else "float64(float64)"
            _built[key] = numba.vectorize([signature], cache=True)(fn)
    return _built[name]


#: square roots are correctly rounded everywhere
sqrt: Callable[..., Any] = np.sqrt
