"""The fused engine's runtime: the compiled helpers its generated modules call.

Draws from the keyed generator (the same mixing as :mod:`redline.engine.rng`), ``np.minimum``
and ``np.maximum`` as NumPy computes them (NaN wins), the C library's functions as every backend
calls them, and what effects do beyond their deltas (which the generated phase functions apply) —
setting their tags' bits, noting events and trouble — read from the effect tables
(:class:`~redline.engine.fused.codegen.Effects`). Every generated module imports these by name
(:mod:`redline.engine.fused.codegen` writes the import).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from redline.core import numeric
from redline.core.primitives import LIBM
from redline.engine import rng, ziggurat

_GOLDEN, _M1, _M2, _TO_UNIT = rng.GOLDEN, rng.M1, rng.M2, rng.TO_UNIT
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_ONE = np.uint64(1)
_TWO_PI = 2.0 * np.pi

#: the helpers allocate nothing, so they count no references (``_nrt``: Numba's reference
#: counting, an option its type hints do not list)
_OPTIONS: dict[str, Any] = {"error_model": "numpy", "cache": True, "nogil": True, "_nrt": False}
_jit: Callable[[Callable[..., Any]], Any] = numba.njit(**_OPTIONS)

#: the C library's functions compiled for calls from compiled code: the scalar functions whose
#: ufuncs the other backends call (:mod:`redline.core.numeric`), so every backend gets the same
#: bits, without a ufunc's dispatch to type and compile at every call site
_SCALARS: dict[str, Any] = {}


#: the functions whose scalar form is the math module's own call (``math.exp(x)``): called as
#: that, which Numba compiles to the same C library call with no function of its own
_MATH = {"exp": math.exp, "tanh": math.tanh}


def _scalar(name: str) -> Any:
    """The compiled scalar function ``name`` (``exp``, ``log`` …, or ``power``)."""
    if name in _MATH:
        return _MATH[name]
    found = _SCALARS.get(name)
    if found is None:
        fn: Callable[..., float] = LIBM[name] if name in LIBM else numeric.scalar(name)
        found = _SCALARS.setdefault(name, _jit(fn))
    return found


_log1p, _cos, _exp = _scalar("log1p"), _scalar("cos"), _scalar("exp")

#: the ziggurat's tables and bounds, the very arrays :mod:`redline.engine.rng` draws with,
#: frozen into the compiled code as constants
_THRESHOLD, _WIDTH, _DENSITY = ziggurat.TABLES
_R, _NEG_INV_R = ziggurat.R, -ziggurat.INV_R
_MAX_ATTEMPTS, _MAX_TAIL_TRIES = rng.MAX_ATTEMPTS, rng.MAX_TAIL_TRIES
_LAYER, _S8, _S9 = np.uint64(0xFF), np.uint64(8), np.uint64(9)
_MAGNITUDE = np.uint64((1 << ziggurat.MAGNITUDE_BITS) - 1)


@_jit
def _bits(origin: Any, run: Any) -> Any:
    """Run ``run``'s 64-bit output of the stream started at ``origin`` (also: word ``run - 1``
    of the sequence a seed ``origin`` starts)."""
    z = origin + (np.uint64(run) + _ONE) * _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@_jit
def _unit(z: Any) -> float:
    """A uniform in [0, 1) from the word's top 53 bits."""
    return float(np.float64(z >> _S11) * _TO_UNIT)


@_jit
def _uniform(origin: Any, run: Any) -> float:
    return float(_unit(_bits(origin, run)))


@_jit
def _normal(origin0: Any, origin1: Any, run: Any) -> float:
    """Run ``run``'s standard normal draw from the streams of sub-draws 0 and 1: the ziggurat's
    first attempt here, the rare rest in :func:`_normal_rejected` (see :mod:`redline.engine.rng`,
    whose vectorised steps these are, one run at a time)."""
    z = _bits(origin0, run)
    x, accepted, _ = _attempt(z)
    if accepted:
        return float(x)
    return float(_normal_rejected(z, origin1, run))


@_jit
def _attempt(z: Any) -> tuple[float, bool, Any]:
    """Word ``z``'s ziggurat attempt: its signed value, whether it lies inside its layer's
    rectangle (accepted outright), and the layer."""
    layer = np.intp(z & _LAYER)
    magnitude = (z >> _S9) & _MAGNITUDE
    x = np.float64(magnitude) * _WIDTH[layer]
    if (z >> _S8) & _ONE:
        x = -x
    return x, magnitude < _THRESHOLD[layer], layer


@_jit
def _normal_rejected(first: Any, origin1: Any, run: Any) -> float:
    """The draw whose first attempt (word ``first``) was not accepted outright, going on with
    the words of the sequence that sub-draw 1's output seeds."""
    seed = _bits(origin1, run)
    used = 0  # words of the sequence used so far (word j is _bits(seed, j))
    z = first
    for attempt in range(_MAX_ATTEMPTS):
        if attempt:
            z = _bits(seed, used)
            used += 1
        x, accepted, layer = _attempt(z)
        if accepted:
            return float(x)
        if layer == 0:
            for _ in range(_MAX_TAIL_TRIES):
                xx = _NEG_INV_R * _log1p(-_unit(_bits(seed, used)))
                yy = -_log1p(-_unit(_bits(seed, used + 1)))
                used += 2
                if yy + yy > xx * xx:
                    return float(-(_R + xx) if x < 0.0 else _R + xx)
            break
        height = _unit(_bits(seed, used))
        used += 1
        if (_DENSITY[layer - 1] - _DENSITY[layer]) * height + _DENSITY[layer] < _exp(-0.5 * x * x):
            return float(x)
    u1 = _unit(_bits(seed, used))
    u2 = _unit(_bits(seed, used + 1))
    return float(math.sqrt(-2.0 * _log1p(-u1)) * _cos(_TWO_PI * u2))


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
def _max_if(ok: bool, best: float, u: float) -> float:
    """A logit decider's best utility so far, with candidate utility ``u`` if available."""
    return _max(best, u) if ok else best


@_jit
def _add_weight_if(ok: bool, acc: float, lam: float, u: float, best: float) -> float:
    """A logit decider's weights added up so far, with candidate utility ``u``'s,
    exp(λ(u − best)), if it is available."""
    return acc + math.exp(lam * (u - best)) if ok else acc


@_jit
def _emit(mask: Any, cstart: Any, ctags: Any, e: int, ev: Any, words: int) -> int:
    """Emit effect ``e``'s tags into the event array ``ev`` (this step's words, every step's
    words, the counters of counted tags), from the effect tables' ``mask``, ``cstart`` and
    ``ctags``."""
    for w in range(words):
        m = mask[e, w]
        ev[w] |= m
        ev[words + w] |= m
    for j in range(cstart[e], cstart[e + 1]):
        ev[ctags[j]] += 1
    return 0


@_jit
def _note(record: Any, column: int, code: int) -> int:
    """Note an event in a run's record if it is its first time."""
    if record[column] < 0:
        record[column] = code
    return 0


@_jit
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


@_jit
def _check_probability(
    tq: Any, tv: Any, tr: Any, c: int, i: int, run: int, t: int, q: float
) -> int:
    """Count a rule's probability ``q`` if it is NaN (check ``c``) or outside [0, 1] (``c +
    1``)."""
    if not (q >= 0.0 and q <= 1.0):
        _trouble(tq, tv, tr, c + (0 if q != q else 1), i, run, t, q)
    return 0


@_jit
def _check_state(x: Any, tq: Any, tv: Any, tr: Any, c: int, i: int, run: int, t: int) -> int:
    """Count every state variable that is NaN at the end of step ``t`` (variable ``j``: check
    ``c + j``); one pass that compares them all first, as NaN is rare."""
    bad = False
    for j in range(x.shape[0]):
        bad |= x[j] != x[j]
    if bad:
        for j in range(x.shape[0]):
            if x[j] != x[j]:
                _trouble(tq, tv, tr, c + j, i, run, t, x[j])
    return 0
