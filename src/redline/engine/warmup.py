"""The ``auto`` backend: the NumPy kernel at once, the fused engine as soon as it is ready.

The fused engine (``numba``) runs a chunk about twice as fast as the NumPy kernel, but its
module must first be compiled — loaded in a second or so where an earlier run left it in the
disk cache (:mod:`redline.engine.fused.cache`), compiled in tens of seconds where none did. A
sweep on ``auto`` starts computing on the kernel while a background thread makes the fused
module ready, and hands each unit after that to the fused engine. Every backend gives the same
per-run results exactly, so which units ran where changes nothing but time.

A cold compile is started only where it pays: where the sweep's run-steps are enough that the
time the fused engine saves exceeds it (:data:`COMPILE_PAYS_ABOVE`); a smaller sweep stays on
the kernel, unless the module is already on disk.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from redline.engine.backends import BackendName, needs
from redline.engine.simulate import AUTO

if TYPE_CHECKING:
    from redline.core.program import Program

__all__ = ["AUTO", "COMPILE_PAYS_ABOVE", "FusedWarmup"]

#: run-steps above which compiling the fused module from scratch (30–90 s of CPU for the largest
#: built-in scenario) pays for itself: the fused engine saves about 1 µs of CPU a run-step
COMPILE_PAYS_ABOVE: Final = 100_000_000


class FusedWarmup:
    """Makes the fused engine's run loops of some programs ready in a background thread
    (loaded from the disk cache, or compiled where that pays), and says which backend a unit of
    each program should run on at the moment it is handed out.

    Only programs the fused engine can run are prepared (strategic ones stay on the kernel);
    one whose module fails to compile stays on the kernel too, and :attr:`failed` says why.

    ``here``: the units run in this process, which loads the run loops; otherwise (worker
    processes, which load them themselves) a run loop already on disk is ready at once, and
    this process only compiles one that is not."""

    def __init__(self, programs: Iterable[Program], run_steps: int, here: bool = True) -> None:
        self._here = here
        self._programs: dict[str, Program] = {}
        for program in programs:
            if not _fused_runs(program):
                continue
            self._programs.setdefault(_key(program), program)
        self._compile = run_steps > COMPILE_PAYS_ABOVE
        self._ready: set[str] = set()
        self.failed: dict[str, str] = {}
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the background thread (once; a no-op when there is nothing to prepare).
        Start it after any worker processes are forked: a fork while it compiles would copy
        its held locks into the workers."""
        with self._lock:
            if self._thread is not None or not self._programs:
                return
            self._thread = threading.Thread(
                target=self.prepare, name="redline-fused-warmup", daemon=True
            )
            self._thread.start()

    def prepare(self) -> None:
        """Make every program's fused run loop ready, one after another (the background
        thread's work; callable directly)."""
        import numpy as np

        from redline.engine.fused import cache, run_chunk  # imports Numba: only when warming up
        from redline.engine.semantics import Unsupported

        for key, program in self._programs.items():
            if key in self._ready or key in self.failed:
                continue
            on_disk = cache.on_disk(program)
            if not self._compile and not on_disk:
                continue  # a cold compile would cost more than the kernel takes
            try:
                if self._here or not on_disk:
                    # one run: Numba compiles the loop on its first call (and writes the
                    # machine code to the cache), not when the module is loaded
                    run_chunk(program, 0, np.zeros(1, dtype=np.int64))
            except Unsupported as exc:
                self.failed[key] = str(exc)
                continue
            except Exception as exc:  # a compiler failure: the kernel runs it, as before
                self.failed[key] = f"{type(exc).__name__}: {exc}"
                continue
            with self._lock:
                self._ready.add(key)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the background thread, if started."""
        if self._thread is not None:
            self._thread.join(timeout)

    def backend_for(self, program: Program) -> BackendName:
        """``numba`` where the program's fused run loop is ready, else ``numpy``."""
        with self._lock:
            return "numba" if _key(program) in self._ready else "numpy"


def _key(program: Program) -> str:
    """Programs that share a fingerprint share a fused module."""
    return program.fingerprint or f"id:{id(program)}"


def _fused_runs(program: Program) -> bool:
    """Whether the fused engine declares what running ``program`` needs."""
    from redline.engine.backends import REGISTRY

    return not REGISTRY["numba"].capabilities.lacking(needs(program))
