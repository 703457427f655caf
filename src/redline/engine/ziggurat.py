"""The ziggurat tables of the standard normal draw (Marsaglia & Tsang 2000, 256 layers).

The ziggurat covers the half-normal density f(x) = exp(-x²/2) with 255 rectangles and a base
strip (a rectangle plus the tail beyond ``R``), all of the same area ``V``. A draw picks a layer
``i`` and a point ``x`` uniformly across its width; where ``x`` lies under the next layer up it
is accepted at once (about 99% of draws), otherwise a wedge test (layers 1–255) or the tail
method (layer 0) decides. The tables are laid out as NumPy's ``Generator.standard_normal``
lays out its own (``ki``, ``wi``, ``fi`` in numpy/random/src/distributions): for a 52-bit
magnitude ``m`` drawn in layer ``i``,

- ``x = m * WIDTH[i]`` (``WIDTH[i]`` is the layer's right edge over 2**52; layer 0's is the
  base strip's equivalent width V / f(R) over 2**52),
- ``m < THRESHOLD[i]`` means ``x`` lies under layer ``i - 1``'s edge: accepted outright,
- ``DENSITY[i]`` is f at layer ``i``'s right edge (``DENSITY[0] = 1``): the wedge test draws a
  height between ``DENSITY[i]`` and ``DENSITY[i - 1]``.

The tables are computed once, here, in Python's float64 by :func:`tables` — a pure function of
``R`` and ``V`` — and every backend reads these very arrays (the NumPy kernel and the reference
through :mod:`redline.engine.rng`, the fused engine's compiled runtime as frozen constants), so
every backend makes the same decisions on the same bits.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

#: layers, and the bits of the magnitude drawn across a layer
LAYERS = 256
MAGNITUDE_BITS = 52

#: where the tail begins: the right edge of the widest rectangle (Marsaglia & Tsang's r for 256
#: layers, as NumPy's ``ziggurat_nor_r``)
R = 3.6541528853610088
#: its reciprocal, which the tail method scales an exponential draw by
INV_R = 1.0 / R


def layer_area(r: float = R) -> float:
    """The area V of each layer when the base strip's edge is at ``r``: the rectangle r·f(r)
    plus the tail's area, ∫_r^∞ exp(-x²/2) dx = √(π/2)·erfc(r/√2)."""
    return r * math.exp(-0.5 * r * r) + math.sqrt(0.5 * math.pi) * math.erfc(r / math.sqrt(2.0))


class Tables(NamedTuple):
    """The ziggurat's three tables, indexed by layer (see the module's docstring)."""

    threshold: NDArray[np.uint64]
    width: NDArray[np.float64]
    density: NDArray[np.float64]


def tables(r: float = R, v: float | None = None) -> Tables:
    """The tables for base-strip edge ``r`` and layer area ``v`` (default: :func:`layer_area`),
    by Marsaglia & Tsang's recurrence: from the widest layer up, each layer's edge x_{i} solves
    x_{i+1}·(f(x_{i}) − f(x_{i+1})) = V, i.e. x_{i} = √(−2 ln(V / x_{i+1} + f(x_{i+1})))."""
    area = layer_area(r) if v is None else v
    scale = float(2**MAGNITUDE_BITS)
    top = LAYERS - 1
    threshold = np.zeros(LAYERS, dtype=np.uint64)
    width = np.zeros(LAYERS, dtype=np.float64)
    density = np.zeros(LAYERS, dtype=np.float64)
    base = area / math.exp(-0.5 * r * r)  # the base strip's equivalent width
    threshold[0] = int(r / base * scale)
    width[0] = base / scale
    width[top] = r / scale
    density[0] = 1.0
    density[top] = math.exp(-0.5 * r * r)
    outer = edge = r
    for i in range(top - 1, 0, -1):
        edge = math.sqrt(-2.0 * math.log(area / edge + math.exp(-0.5 * edge * edge)))
        threshold[i + 1] = int(edge / outer * scale)
        outer = edge
        density[i] = math.exp(-0.5 * edge * edge)
        width[i] = edge / scale
    # threshold[1] stays 0: the top layer has no layer above it, so every draw there is tested
    for table in (threshold, width, density):
        table.flags.writeable = False
    return Tables(threshold, width, density)


#: the tables every backend draws with
TABLES = tables()
