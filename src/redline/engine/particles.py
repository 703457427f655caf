"""Populations of runs for sequential Monte Carlo: the ``particles`` capability of a backend.

A population ("particles") is a set of runs of one program that a caller advances to a step,
looks at (evaluates an expression on each run's state at the end of the last step done, reads
outcome first hits and drawn uncertainties), and resamples: keeps, drops and copies runs —
their whole state, event counts, ladder levels, first hits and drawn parameters — and continues.
Backends that declare the capability (:mod:`redline.engine.backends`) implement it with the
same step semantics as their chunk runner, so a population that is never resampled gives the
same runs as :func:`~redline.engine.backends.run_chunk` on the same run indices.

Randomness: every draw is keyed by (seed, run id, step, draw site). A copy of a run must not
repeat the draws of its original, so resampling gives every particle of generation ``g`` a new
run id, :func:`particle_runs` (``g · 2**40 + position``), while its state — drawn parameters
included, which are copied, never drawn again — travels with it. Generation 0 is the plain runs
0..n−1. Resampling itself is :func:`systematic` with one uniform per generation keyed by the
seed (:func:`resample_uniform`), over the whole population: the particles chosen depend only on
their weights and the seed, never on how the population is split for computing.

A run that ended (an absorbing outcome) stays in the population as it ended: its state no
longer changes, nothing happens in it (``now(...)`` is false at later steps), and it can be
copied like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from redline.core.program import Expression, Program
from redline.engine import rng

#: a particle's position occupies the low bits of its run id, its generation the high ones
GENERATION_SHIFT = 40
#: the most particles a population may have (positions must fit below the generation bits)
MAX_PARTICLES = 1 << GENERATION_SHIFT
#: the most resampling generations (run ids stay below 2**63)
MAX_GENERATIONS = 1 << (63 - GENERATION_SHIFT)

_RESAMPLE_SITE = rng.site_id("particles.resample")


class Particles(Protocol):
    """A population of runs of one program, all at the same step."""

    @property
    def size(self) -> int:
        """How many particles."""
        ...

    @property
    def step(self) -> int:
        """How many steps have been done (the next step to do)."""
        ...

    def runs(self) -> NDArray[np.int64]:
        """Each particle's run id (its key for random draws)."""
        ...

    def advance(self, step: int) -> None:
        """Do the steps from :attr:`step` up to ``step`` − 1 (to the horizon at most)."""
        ...

    def evaluate(self, expr: Expression) -> NDArray[np.float64]:
        """An expression (without random draws) on each particle's state at the end of the last
        step done: 1.0 or 0.0 for a condition."""
        ...

    def first_hits(self) -> NDArray[np.int32]:
        """Each particle's first-hit step of each outcome so far (particles × outcomes; −1:
        not yet)."""
        ...

    def drawn(self) -> dict[str, NDArray[np.float64]]:
        """Each particle's value of every uncertainty drawn per run."""
        ...

    def take(self, rows: NDArray[np.intp], runs: NDArray[np.int64]) -> Particles:
        """A new population of copies of the particles at ``rows`` (repeats allowed), in that
        order, continuing with run ids ``runs``."""
        ...

    def join(self, others: Sequence[Particles]) -> Particles:
        """This population followed by ``others`` (same program, seed and step)."""
        ...


class ParticleStarter(Protocol):
    """A backend's population constructor: runs ``runs`` of ``program`` before step 0."""

    def __call__(self, program: Program, seed: int, runs: NDArray[np.int64]) -> Particles: ...


def particle_runs(generation: int, positions: NDArray[np.int64]) -> NDArray[np.int64]:
    """Run ids of particles at ``positions`` after resampling generation ``generation`` (0: the
    plain run indices)."""
    if not 0 <= generation < MAX_GENERATIONS:
        raise ValueError(f"generation must be in 0..{MAX_GENERATIONS - 1}, got {generation}")
    positions = np.asarray(positions, dtype=np.int64)
    if len(positions) and (positions.min() < 0 or positions.max() >= MAX_PARTICLES):
        raise ValueError(f"particle positions must be in 0..{MAX_PARTICLES - 1}")
    return (np.int64(generation) << np.int64(GENERATION_SHIFT)) | positions


def resample_uniform(seed: int, generation: int) -> float:
    """The one uniform in [0, 1) that systematic resampling of ``generation`` uses."""
    return float(rng.uniform(seed, generation, _RESAMPLE_SITE, np.zeros(1, dtype=np.int64))[0])


def systematic(weights: NDArray[np.float64], u: float) -> NDArray[np.intp]:
    """Systematic resampling: ``n`` indices (non-decreasing) drawn in proportion to ``weights``
    (n of them, non-negative, not all zero) at the points (u + j)/n. Particle i is copied
    ⌊n·w_i/Σw⌋ or ⌈n·w_i/Σw⌉ times."""
    w = np.asarray(weights, dtype=np.float64)
    n = len(w)
    total = float(w.sum())
    if not total > 0.0:
        raise ValueError("every weight is zero: nothing to resample")
    edges = np.cumsum(w / total)
    edges[-1] = 1.0  # rounding must not leave the last point beyond the last edge
    points = (u + np.arange(n, dtype=np.float64)) / n
    index: NDArray[np.intp] = np.searchsorted(edges, points, side="right").astype(np.intp)
    return np.minimum(index, n - 1)
