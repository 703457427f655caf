"""Elementwise functions whose last bit does not depend on array length.

NumPy picks SIMD or scalar kernels for transcendental functions by length and layout, and they
may differ in the last bit. The engine and the reference interpreter must agree exactly, so both
call these, which always run the contiguous kernel on at least two elements.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray


def _contiguous(ufunc: np.ufunc, x: Any) -> NDArray[np.float64]:
    a = np.ascontiguousarray(x, dtype=np.float64)
    if a.size >= 2:
        return ufunc(a)  # type: ignore[no-any-return]
    padded = np.zeros(2)
    padded[: a.size] = a.reshape(-1)
    return ufunc(padded)[: a.size].reshape(a.shape)  # type: ignore[no-any-return]


def exp(x: Any) -> NDArray[np.float64]:
    return _contiguous(np.exp, x)


def log1p(x: Any) -> NDArray[np.float64]:
    return _contiguous(np.log1p, x)


def sqrt(x: Any) -> NDArray[np.float64]:
    return _contiguous(np.sqrt, x)


def cos(x: Any) -> NDArray[np.float64]:
    return _contiguous(np.cos, x)
