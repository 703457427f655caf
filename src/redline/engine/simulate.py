"""What simulating needs around the backends: chunk bounds, limits, the backends' names.

A run's result depends only on (scenario, configuration, seed, run index); chunks are slices of
run indices, so chunk size, worker count and backend never change a result. The backends
themselves, and what each can run, are in :mod:`redline.engine.backends`.
"""

from __future__ import annotations

from typing import Literal

from redline.engine import backends
from redline.engine.backends import BACKEND_HELP, BackendName
from redline.errors import RedlineValueError

__all__ = [
    "AUTO",
    "BACKENDS",
    "BACKEND_HELP",
    "DEFAULT_CHUNK",
    "MAX_CHUNK",
    "MAX_RUNS",
    "SWEEP_BACKENDS",
    "SWEEP_BACKEND_HELP",
    "Backend",
    "SweepBackend",
    "check_sizes",
    "chunk_bounds",
]

#: a backend's name (numba: the fused engine; numpy: the vectorised kernel; reference: the
#: interpreter that specifies both); the registry's record of one is ``backends.Backend``
Backend = BackendName
#: the registered backends' names
BACKENDS: tuple[str, ...] = backends.BACKENDS
#: what a sweep (``redline run``, ``redline sweep``) may run on besides a backend: the fused
#: engine where it pays, the NumPy kernel until its module is ready (:mod:`redline.engine.warmup`)
AUTO: Literal["auto"] = "auto"
#: a sweep's backend: one of the registered backends, or ``auto``
SweepBackend = Literal["auto", "numba", "numpy", "reference"]
SWEEP_BACKENDS: tuple[str, ...] = (AUTO, *BACKENDS)
#: a sweep's backends, for a command-line option's help
SWEEP_BACKEND_HELP = (
    "auto (the default: numba where it pays — from the start where its compiled module is in "
    "the disk cache; else numpy, while a separate process compiles it where the sweep is "
    "large enough to pay for that), " + BACKEND_HELP
)
#: the most runs one call may ask for (memory stays bounded by the chunk; time does not)
MAX_RUNS = 100_000_000
MAX_CHUNK = 1_000_000
DEFAULT_CHUNK = 50_000


def chunk_bounds(runs: int, chunk_size: int, first: int = 0) -> list[tuple[int, int]]:
    """Half-open run-index ranges of at most ``chunk_size`` runs covering ``first..first+runs``."""
    return [(a, min(a + chunk_size, first + runs)) for a in range(first, first + runs, chunk_size)]


def check_sizes(runs: int, chunk_size: int, workers: int, backend: str) -> None:
    if not 1 <= runs <= MAX_RUNS:
        raise RedlineValueError(
            f"runs must be between 1 and {MAX_RUNS:,}, got {runs:,}", parameter="runs"
        )
    if not 1 <= chunk_size <= MAX_CHUNK:
        raise RedlineValueError(
            f"chunk_size must be between 1 and {MAX_CHUNK:,}, got {chunk_size:,}",
            parameter="chunk_size",
        )
    if not 1 <= workers <= 256:
        raise RedlineValueError(
            f"workers must be between 1 and 256, got {workers}", parameter="workers"
        )
    if backend not in BACKENDS:
        raise RedlineValueError(
            f"backend must be one of {', '.join(BACKENDS)}, got '{backend}'", parameter="backend"
        )
