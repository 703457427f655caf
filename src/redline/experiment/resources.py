"""What a sweep will take before it takes it: worker processes capped by the machine's cores and
memory, and an estimate of the store's growth and of the time to go, which a large sweep asks the
user to confirm.

A worker's memory is estimated from the chunk size and the scenario: the interpreter with
redline's libraries (:data:`WORKER_BASE_BYTES`) and, per run of a chunk in flight, the engine's
arrays (:func:`bytes_per_run_in_flight`; fitted to the numpy kernel's measured peak allocation on
nato-russia, about 1.8 kB a run, and convoy-strike, about 0.5 kB, and rounded up). The store's
growth is the stored columns' widths (:meth:`redline.experiment.layout.Layout.stored`), before
DuckDB's compression: an upper estimate. The time is measured: the CPU time of a short chunk of
the first design point on the sweep's backend, scaled to the runs to go and the processes that
run them.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from redline.compile import Program
from redline.engine import backends
from redline.engine.simulate import Backend
from redline.experiment.layout import Layout

#: the resident memory of a worker before it simulates: Python, NumPy, Arrow, DuckDB, redline
WORKER_BASE_BYTES = 150 * 1024**2
#: the share of the available memory that workers may take (the sweep's own process and the
#: rest of the machine keep the remainder)
MEMORY_SHARE = 0.8
#: a sweep estimated to add more than this to the store asks first
CONFIRM_BYTES = 2 * 1024**3
#: a sweep estimated to take longer than this asks first
CONFIRM_SECONDS = 15 * 60.0
#: below this many run-steps to go a sweep takes less than :data:`CONFIRM_SECONDS` on one core
#: of the compiled backends (they do more than 200,000 run-steps a second), and its time is not
#: measured; the reference interpreter's always is
CALIBRATE_ABOVE_RUN_STEPS = 100_000_000
#: runs of the calibration chunk (after a short warm-up), per backend: enough that the
#: engine's fixed cost per chunk and step does not count for much
CALIBRATION_RUNS = {"reference": 20, "numpy": 20_000, "numba": 20_000}


def bytes_per_run_in_flight(program: Program) -> int:
    """The engine's memory per run of a chunk being simulated: its state variables and
    parameters (float64 arrays and their temporaries) and a fixed part (outcomes, levels,
    occupancy, masks)."""
    return 400 + 16 * (len(program.var_names) + len(program.params))


def worker_bytes(program: Program, chunk_size: int) -> int:
    """The memory one worker process is estimated to need for chunks of ``chunk_size`` runs."""
    return WORKER_BASE_BYTES + chunk_size * bytes_per_run_in_flight(program)


def available_memory() -> int | None:
    """Bytes of memory available to new processes (Linux: MemAvailable), ``None`` where the
    system does not say."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not on Linux
        return None


@dataclass(frozen=True)
class WorkerCap:
    """How many worker processes a sweep uses, and why when it is fewer than asked."""

    asked: int
    used: int
    reason: str | None

    def note(self, option: str) -> str | None:
        """The message for the user (``None`` when the ask is used as it is)."""
        if self.reason is None:
            return None
        return f"{option} {self.asked}: using {self.used} worker processes ({self.reason})"


def cap_workers(asked: int, cores: int, per_worker: int, available: int | None) -> WorkerCap:
    """At most one worker per usable core, and no more than :data:`MEMORY_SHARE` of the
    available memory holds (at least one worker always)."""
    by_memory = (
        max(int(available * MEMORY_SHARE // per_worker), 1) if available is not None else asked
    )
    used = max(min(asked, cores, by_memory), 1)
    if used == asked:
        return WorkerCap(asked, used, None)
    reasons = []  # what set the number used
    if cores == used:
        reasons.append(f"this machine has {cores} usable cores")
    if by_memory == used and available is not None:
        reasons.append(
            f"each worker needs about {_size(per_worker)} and {_size(available)} of memory is "
            "available"
        )
    return WorkerCap(asked, used, "; ".join(reasons))


@dataclass(frozen=True)
class Estimate:
    """What a sweep's units still to compute will take."""

    runs: int
    run_steps: int
    #: bytes the store grows by (the stored columns' widths: an upper estimate)
    store_bytes: int
    #: free bytes where the store is, ``None`` if unknown
    free_bytes: int | None
    #: estimated seconds to compute them, ``None`` when not measured (a quick sweep)
    seconds: float | None

    @property
    def large(self) -> bool:
        """Whether the sweep asks before it starts: more than :data:`CONFIRM_BYTES` of store,
        more than :data:`CONFIRM_SECONDS`, or more than the disk's free space."""
        return (
            self.store_bytes > CONFIRM_BYTES
            or (self.seconds is not None and self.seconds > CONFIRM_SECONDS)
            or (self.free_bytes is not None and self.store_bytes > self.free_bytes)
        )

    def describe(self) -> str:
        """One line: runs, store growth (and free space), time."""
        text = (
            f"{self.runs:,} runs to simulate will add up to {_size(self.store_bytes)} to the store"
        )
        if self.free_bytes is not None:
            text += f" ({_size(self.free_bytes)} free there"
            text += ": NOT ENOUGH)" if self.store_bytes > self.free_bytes else ")"
        if self.seconds is not None:
            text += f" and take about {_duration(self.seconds)}"
        return text


def estimate(
    program: Program,
    layout: Layout,
    runs: int,
    horizon: int,
    backend: Backend,
    seed: int,
    processes: int,
    store: Path,
    chunk_size: int = 100_000,
) -> Estimate:
    """The store's growth and the time of ``runs`` runs, computed by ``processes`` processes
    at once; the time is measured on a short chunk of ``program`` when the sweep is not
    quick."""
    run_steps = runs * horizon
    per_run = sum(_width(t) for _, t in layout.stored()) + (len(layout.stored()) + 7) // 8
    where = store.parent if str(store.parent) else Path(".")
    try:
        free: int | None = shutil.disk_usage(where if where.exists() else Path(".")).free
    except OSError:
        free = None
    seconds = None
    if run_steps > CALIBRATE_ABOVE_RUN_STEPS or backend == "reference":
        rate = _run_steps_per_second(program, backend, seed, horizon, chunk_size)
        seconds = run_steps / (rate * max(processes, 1))
    return Estimate(runs, run_steps, runs * per_run, free, seconds)


def _run_steps_per_second(
    program: Program, backend: Backend, seed: int, horizon: int, chunk_size: int
) -> float:
    """The backend's run-steps per CPU second, measured on a short chunk (after a warm-up of
    a few runs, which also compiles the fused engine). CPU time, not the wall clock: on a
    machine busy with other work the estimate is of the sweep's own work."""
    n = min(CALIBRATION_RUNS.get(backend, 20_000), chunk_size)
    backends.run_chunk(backend, program, seed, np.arange(min(n, 10), dtype=np.int64))
    started = time.process_time()
    backends.run_chunk(backend, program, seed, np.arange(n, dtype=np.int64))
    return n * horizon / max(time.process_time() - started, 1e-6)


def _width(duckdb_type: str) -> int:
    return {"UTINYINT": 1, "USMALLINT": 2, "INTEGER": 4, "DOUBLE": 8}.get(duckdb_type, 8)


def _size(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    raise AssertionError  # pragma: no cover


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
