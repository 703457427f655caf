"""Columns of numbers between NumPy and Arrow, made from their buffers.

pyarrow's own conversions — ``pa.array`` from NumPy, ``to_numpy`` back — import pandas (a
quarter of a second of CPU in every process that calls them, where it is installed) to ask
whether the data is one of pandas' objects; ``redline run`` and the worker processes of a sweep
use pandas for nothing, so the columns they make and read go through these instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

__all__ = ["arrow_array", "numpy_array"]


def arrow_array(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """A one-dimensional NumPy array of numbers as an Arrow array of the same type, null where
    ``valid`` is false."""
    values = np.ascontiguousarray(values)
    bitmap = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(
        pa.from_numpy_dtype(values.dtype), len(values), [bitmap, pa.py_buffer(values)]
    )


def numpy_array(column: pa.Array | pa.ChunkedArray) -> NDArray[Any]:
    """An Arrow column of numbers as NumPy values, as ``to_numpy(zero_copy_only=False)`` gives
    them: of the column's type (a view where it is one piece), or, with nulls, floats with NaN
    for a null (float64 for integers)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    kind = array.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        raise TypeError(f"a column of numbers is needed, not of {kind}")
    dtype = np.dtype(kind.to_pandas_dtype())
    start, n = array.offset, len(array)
    if n == 0:
        return np.empty(0, dtype=np.float64 if array.null_count else dtype)
    values = np.frombuffer(array.buffers()[1], dtype=dtype, count=start + n)[start:]
    if not array.null_count:
        return values
    bits = np.frombuffer(array.buffers()[0], dtype=np.uint8)
    valid = np.unpackbits(bits, count=start + n, bitorder="little")[start:].astype(bool)
    out = values.astype(np.float64 if pa.types.is_integer(kind) else dtype)
    out[~valid] = np.nan
    return out
