"""Counter-based random numbers keyed by (seed, run, step, draw site, sub-draw).

A draw is a pure function of its key, so a run's randomness does not depend on how runs are
chunked, ordered or distributed (DESIGN §7). The generator is SplitMix64: the scalar part of the
key (seed, step, site, sub) is hashed into a stream origin, and run ``r`` takes output ``r`` of
the SplitMix64 sequence started there, which passes BigCrush for consecutive outputs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from redline.core import numeric

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)
_MASK = (1 << 64) - 1
TO_UNIT = 2.0**-53

#: the step used for draws made before the first step (sampling uncertainties)
SETUP_STEP = -1


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


def uniform(
    seed: int, step: int, site: int, runs: NDArray[np.int64], sub: int = 0
) -> NDArray[np.float64]:
    """Uniform draws in [0, 1), one per run index in ``runs``, for one (seed, step, site, sub)."""
    origin = np.uint64(stream_origin(seed, step, site, sub))
    with np.errstate(over="ignore"):
        state = origin + (runs.astype(np.uint64) + np.uint64(1)) * GOLDEN
        bits = _mix(state)
    return (bits >> np.uint64(11)).astype(np.float64) * TO_UNIT


def standard_normal(
    seed: int, step: int, site: int, runs: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Standard normal draws by Box–Muller from sub-draws 0 and 1 of the same key."""
    u1 = uniform(seed, step, site, runs, sub=0)
    u2 = uniform(seed, step, site, runs, sub=1)
    radius = numeric.sqrt(-2.0 * numeric.log1p(-u1))
    normal: NDArray[np.float64] = radius * numeric.cos(2.0 * np.pi * u2)
    return normal


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
