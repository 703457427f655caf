"""What simulating needs around the backends: chunk bounds, the reference backend, limits.

A run's result depends only on (scenario, configuration, seed, run index); chunks are slices of
run indices, so chunk size, worker count and backend never change a result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np

from redline.core.program import Program
from redline.engine.deciders import DecisionMaker
from redline.engine.reference import run_reference
from redline.engine.semantics import ChunkResult
from redline.errors import RedlineValueError

#: numba: the fused engine (one compiled loop per program); numpy: the vectorised kernel;
#: reference: the interpreter that specifies both
Backend = Literal["numba", "numpy", "reference"]
BACKENDS: tuple[str, ...] = ("numba", "numpy", "reference")
BACKEND_HELP = (
    "numpy (vectorised), numba (fused: several times faster, compiled on first use of a "
    "scenario and cached), or reference (the plain-Python specification)."
)
#: the most runs one call may ask for (memory stays bounded by the chunk; time does not)
MAX_RUNS = 100_000_000
MAX_CHUNK = 1_000_000
DEFAULT_CHUNK = 50_000


def run_reference_chunk(
    program: Program,
    seed: int,
    runs: np.ndarray,
    makers: Mapping[str, DecisionMaker] | None = None,
) -> ChunkResult:
    """The reference interpreter over a chunk, shaped like the engine's result."""
    results = [run_reference(program, seed, int(r), makers=makers) for r in runs]
    names = [p.name for p in program.params if p.distribution is not None]
    occupancy = np.zeros((program.horizon, len(program.rungs)), dtype=np.int64)
    for r in results:
        for t, level in enumerate(r.levels):
            occupancy[t, level] += 1
    n_out, n_var = len(program.outcomes), len(program.variables)
    return ChunkResult(
        runs=np.asarray(runs, dtype=np.int64),
        first_hit=np.array([r.first_hit for r in results], dtype=np.int32).reshape(
            len(results), n_out
        ),
        peak_level=np.array([r.peak_level for r in results], dtype=np.int32),
        steps=np.array([r.steps for r in results], dtype=np.int32),
        final=np.array([r.final for r in results], dtype=np.float64).reshape(len(results), n_var),
        params={k: np.array([r.params[k] for r in results]) for k in names},
        occupancy=occupancy,
    )


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
