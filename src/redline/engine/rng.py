"""Counter-based random numbers keyed by (seed, run, step, draw site, sub-draw).

A draw is a pure function of its key, so a run's randomness does not depend on how runs are
chunked, ordered or distributed (DESIGN §7). The generator is SplitMix64: the scalar part of the
key (seed, step, site, sub) is hashed into a stream origin, and run ``r`` takes output ``r`` of
the SplitMix64 sequence started there, which passes BigCrush for consecutive outputs.

**Uniform draws** take the output's top 53 bits.

**Standard normal draws** use the ziggurat method (Marsaglia & Tsang 2000, 256 layers, the
tables of :mod:`redline.engine.ziggurat`) in the form of NumPy's ``Generator.standard_normal``:

1. The first attempt is the run's 64-bit output of sub-draw 0: bits 0–7 pick the layer, bit 8
   the sign, bits 9–60 the 52-bit magnitude. If the magnitude is below the layer's threshold
   the point is the draw (about 98.5% of draws: one output, a table lookup, an integer compare,
   a multiply).
2. Otherwise the run's output of sub-draw 1 seeds a SplitMix64 sequence of its own — word ``j``
   (j = 0, 1, 2 …) is ``mix(seed + (j + 1) · golden)`` — and the draw goes on with its words in
   order, a uniform being a word's top 53 bits:

   - layer 0 (the base strip beyond ``R``): the tail method, each try taking two words
     (``xx = −ln(1 − u₁)/R``, ``yy = −ln(1 − u₂)``, accepted when ``2·yy > xx²``; the draw is
     ``±(R + xx)`` with the attempt's sign), at most ``MAX_TAIL_TRIES`` tries;
   - other layers: the wedge test, one word (a height between the layer's densities, accepted
     when below exp(−x²/2));
   - if rejected, the next attempt takes the next word as in step 1, at most ``MAX_ATTEMPTS``
     attempts in all.

   ln(1 − u) is ``log1p(−u)`` and exp is the C library's, as every backend calls them
   (:mod:`redline.core.numeric`). A draw still open after the bounds falls back to Box–Muller
   on the next two words, so every key gives a value after a bounded amount of work: with
   attempts rejected about one time in 150 and tail tries failing about one time in 16, the
   bounds are never reached in practice (odds below 10⁻³⁰ a draw).

The NumPy path (:func:`standard_normal`) settles the first attempts of all runs in one pass and
loops over the shrinking set of the others; the fused engine's runtime
(:mod:`redline.engine.fused.runtime`) does the same steps one run at a time, on the same tables,
so both give the same bits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from redline.core import numeric
from redline.core.primitives import libm
from redline.engine.ziggurat import INV_R, MAGNITUDE_BITS, TABLES, R

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)
_MASK = (1 << 64) - 1
TO_UNIT = 2.0**-53

#: the step used for draws made before the first step (sampling uncertainties)
SETUP_STEP = -1

#: the most ziggurat attempts a normal draw makes, and the most tries of the tail method in
#: one attempt, before it falls back to Box–Muller (see the module's docstring)
MAX_ATTEMPTS = 16
MAX_TAIL_TRIES = 32

ZIG = TABLES
_LAYER_MASK = np.uint64(0xFF)
_TO_SIGN_BIT = np.uint64(63 - 8)
_FLOAT_SIGN = np.uint64(1 << 63)
_MAGNITUDE_SHIFT = np.uint64(9)
_MAGNITUDE_MASK = np.uint64((1 << MAGNITUDE_BITS) - 1)
_NEG_INV_R = -INV_R
_TWO_PI = 2.0 * np.pi


def _mix_int(z: int) -> int:
    """SplitMix64's finaliser on a Python int (used for the scalar part of a key)."""
    z &= _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _mix(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    z = (z ^ (z >> np.uint64(30))) * M1
    z = (z ^ (z >> np.uint64(27))) * M2
    return z ^ (z >> np.uint64(31))


def site_id(path: str) -> int:
    """A stable 63-bit draw-site number for an element path such as ``actions[3].effects.x#0``."""
    digest = hashlib.blake2b(path.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def stream_origin(seed: int, step: int, site: int, sub: int = 0) -> int:
    """Hash the run-independent part of a key into a SplitMix64 stream origin."""
    z = _mix_int(seed + 0x632BE59BD9B4E019)
    z = _mix_int(z ^ (site & _MASK))
    z = _mix_int(z ^ ((step & 0xFFFFFFFF) << 8 | (sub & 0xFF)))
    return z


def stream_origins(
    seed: int, steps: int, sites: Sequence[int], subs: Sequence[int]
) -> NDArray[np.uint64]:
    """``stream_origin(seed, t, sites[k], subs[k])`` for every step ``t < steps`` and every
    ``k``, a (steps, sites) table computed as arrays (the fused engine's table of a chunk's
    stream origins: thousands of them, which Python ints would take milliseconds over)."""
    first = np.uint64(_mix_int(seed + 0x632BE59BD9B4E019))
    site = np.array([s & _MASK for s in sites], dtype=np.uint64)
    sub = np.array([s & 0xFF for s in subs], dtype=np.uint64)
    step = np.arange(steps, dtype=np.uint64) & np.uint64(0xFFFFFFFF)
    return _mix(_mix(first ^ site)[None, :] ^ ((step[:, None] << np.uint64(8)) | sub[None, :]))


def keyed_bits(
    seed: int, step: int, site: int, runs: NDArray[np.int64], sub: int = 0
) -> NDArray[np.uint64]:
    """The keyed 64-bit outputs, one per run index in ``runs``, for one (seed, step, site,
    sub): what every draw is made of."""
    return _bits(stream_origin(seed, step, site, sub), runs)


def uniform(
    seed: int, step: int, site: int, runs: NDArray[np.int64], sub: int = 0
) -> NDArray[np.float64]:
    """Uniform draws in [0, 1), one per run index in ``runs``, for one (seed, step, site, sub)."""
    return _unit(keyed_bits(seed, step, site, runs, sub))


def _bits(origin: int, runs: NDArray[np.int64]) -> NDArray[np.uint64]:
    """The 64-bit SplitMix64 output of each run in ``runs`` for the stream started at ``origin``."""
    with np.errstate(over="ignore"):
        return _mix(np.uint64(origin) + (runs.astype(np.uint64) + np.uint64(1)) * GOLDEN)


def _word(seeds: NDArray[np.uint64], index: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """Output ``index`` (0, 1, …) of the SplitMix64 sequence each lane's seed starts: the words
    a rejected normal draw goes on with."""
    with np.errstate(over="ignore"):
        return _mix(seeds + (index + np.uint64(1)) * GOLDEN)


def _unit(words: NDArray[np.uint64]) -> NDArray[np.float64]:
    """A uniform in [0, 1) from each word's top 53 bits."""
    return (words >> np.uint64(11)).astype(np.float64) * TO_UNIT


def _layer(
    words: NDArray[np.uint64],
) -> tuple[NDArray[np.intp], NDArray[np.uint64], NDArray[np.float64]]:
    """A ziggurat attempt's layer, magnitude and signed point from a 64-bit word: the low 8 bits
    pick the layer, the next bit the sign, the next 52 the magnitude (NumPy's layout)."""
    layer = (words & _LAYER_MASK).astype(np.intp)
    magnitude = (words >> _MAGNITUDE_SHIFT) & _MAGNITUDE_MASK
    x = magnitude.astype(np.float64)
    x *= np.take(ZIG.width, layer)
    # the sign bit (bit 8) moved to the float's sign: x negated where it is set, as -x would
    x.view(np.uint64)[...] ^= (words << _TO_SIGN_BIT) & _FLOAT_SIGN
    return layer, magnitude, x


def standard_normal(
    seed: int, step: int, site: int, runs: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Standard normal draws by the ziggurat method, one per run in ``runs``, keyed by (seed,
    step, site); see :func:`rejected_normal` for the few that the first attempt does not
    settle."""
    words = keyed_bits(seed, step, site, runs)
    layer, magnitude, x = _layer(words)
    open_ = np.flatnonzero(magnitude >= np.take(ZIG.threshold, layer))
    if open_.size:
        x[open_] = rejected_normal(words[open_], stream_origin(seed, step, site, 1), runs[open_])
    return x


def rejected_normal(
    first: NDArray[np.uint64], origin: int, runs: NDArray[np.int64]
) -> NDArray[np.float64]:
    """The normal draws of the runs whose first ziggurat attempt (word ``first``, sub-draw 0)
    was not accepted outright, going on with the words of each run's sequence (sub-draw 1's
    output as a SplitMix64 seed, stream ``origin``), vectorised over the shrinking set of
    runs still open; the order in which the words are used is the module docstring's."""
    n = first.shape[0]
    out = np.empty(n, dtype=np.float64)
    seeds = _bits(origin, runs)
    used = np.zeros(n, dtype=np.uint64)  # words of the sequence used so far
    lanes = np.arange(n)  # the open lanes
    words = first
    fallback: list[NDArray[np.intp]] = []
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            words = _word(seeds[lanes], used[lanes])
            used[lanes] += np.uint64(1)
        layer, magnitude, x = _layer(words)
        ok = magnitude < ZIG.threshold[layer]
        out[lanes[ok]] = x[ok]
        tail = ~ok & (layer == 0)
        if tail.any():
            done, value = _tail(seeds, used, lanes[tail], x[tail] < 0.0)
            out[lanes[tail][done]] = value[done]
            fallback.append(lanes[tail][~done])
        wedge = np.flatnonzero(~ok & (layer != 0))
        at, i, xw = lanes[wedge], layer[wedge], x[wedge]
        height = _unit(_word(seeds[at], used[at]))
        used[at] += np.uint64(1)
        below = (ZIG.density[i - 1] - ZIG.density[i]) * height + ZIG.density[i] < libm("exp")(
            -0.5 * xw * xw
        )
        out[at[below]] = xw[below]
        lanes = at[~below]
        if not lanes.size:
            break
    fallback.append(lanes)
    stuck = np.concatenate(fallback)
    if stuck.size:  # never met in practice (see MAX_ATTEMPTS): Box–Muller on the next words
        u1 = _unit(_word(seeds[stuck], used[stuck]))
        u2 = _unit(_word(seeds[stuck], used[stuck] + np.uint64(1)))
        out[stuck] = numeric.sqrt(-2.0 * numeric.log1p(-u1)) * numeric.cos(_TWO_PI * u2)
    return out


def _tail(
    seeds: NDArray[np.uint64],
    used: NDArray[np.uint64],
    lanes: NDArray[np.intp],
    negative: NDArray[np.bool_],
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Marsaglia's tail method beyond ``R`` for ``lanes`` (two words a try, at most
    MAX_TAIL_TRIES tries): whether each lane was settled, and its value (signed as its
    attempt's point). Advances ``used``."""
    n = lanes.shape[0]
    done = np.zeros(n, dtype=bool)
    value = np.zeros(n, dtype=np.float64)
    open_ = np.arange(n)
    for _ in range(MAX_TAIL_TRIES):
        at = lanes[open_]
        xx = _NEG_INV_R * numeric.log1p(-_unit(_word(seeds[at], used[at])))
        yy = -numeric.log1p(-_unit(_word(seeds[at], used[at] + np.uint64(1))))
        used[at] += np.uint64(2)
        ok = yy + yy > xx * xx
        hit = open_[ok]
        value[hit] = np.where(negative[hit], -(R + xx[ok]), R + xx[ok])
        done[hit] = True
        open_ = open_[~ok]
        if not open_.size:
            break
    return done, value


def build_ufuncs() -> None:
    """Build the C library's functions that normal draws call as ufuncs (``log1p``, ``exp``,
    ``cos``, :mod:`redline.core.numeric`), which starts Numba: for a process about to fork
    workers, which then inherit them. Only a draw's rare steps call them, so a first draw may
    not."""
    numeric.ufunc("log1p")
    numeric.ufunc("cos")
    libm("exp")


@dataclass(frozen=True)
class KeyedDraws:
    """The keyed generator bound to a seed, a step and a set of runs.

    This is the interface the expression language draws through: ``uniform(site, sub)`` returns
    one number in [0, 1) per bound run, and ``normal(site)`` one standard normal per run.
    """

    seed: int
    step: int
    runs: NDArray[np.int64]

    def uniform(self, site: int, sub: int = 0) -> NDArray[np.float64]:
        return uniform(self.seed, self.step, site, self.runs, sub)

    def normal(self, site: int) -> NDArray[np.float64]:
        return standard_normal(self.seed, self.step, site, self.runs)
