"""The ``auto`` backend: the fused engine where it pays, the NumPy kernel until it is ready.

The fused engine (``numba``) runs a chunk about twice as fast as the NumPy kernel, but its
module must first be made ready — loaded in about a second where an earlier run left it in the
disk cache (:mod:`redline.engine.fused.cache`), compiled in ten seconds or more of CPU where
none did. A sweep on ``auto`` weighs, for each program structure, what the fused engine would
save over the kernel against what making it ready costs (:func:`plan`):

- a sweep too small to pay even for loading it (a story's, a test's, a few hundred runs) stays
  on the kernel without looking at the disk cache;
- where the module is on disk, every unit runs on the fused engine from the start;
- where it is not and a compile pays for itself (on this sweep, and on later ones that load
  it from the disk cache), the sweep starts on the kernel while a
  process of its own compiles the module (:mod:`redline.engine.fused.background`), and hands
  each unit after that to the fused engine;
- otherwise the sweep stays on the kernel.

Every backend gives the same per-run results exactly, so which units ran where changes nothing
but time. Where Numba cannot be imported or the compile fails, the units stay on the kernel and
:meth:`FusedWarmup.note` says why.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from redline.engine.backends import BackendName, needs
from redline.engine.simulate import AUTO

if TYPE_CHECKING:
    from redline.core.program import Program
    from redline.engine.fused.background import BackgroundCompile

__all__ = ["AUTO", "Costs", "FusedWarmup", "plan"]

#: What a sweep does about a program's fused module: nothing (the kernel runs it), load it from
#: the disk cache, or compile it in the background
Plan = Literal["numpy", "load", "compile"]


@dataclass(frozen=True)
class Costs:
    """What the choice weighs, in CPU seconds, for a program whose fused module has ``chars``
    characters (its size: the kernel's time and the compile's both grow with it).

    Measured with the fused engine of a function per phase, on nato-russia (40,489 characters)
    on one core of a busy machine, chunks of 20,000 runs: the kernel takes about 2.3 µs a
    run-step (5.7e-11 s per character), the fused engine about half of that, and a cold compile
    9–14 s (2.5e-4 s per character). A compile measured on this machine replaces the last
    figure (:func:`~redline.engine.fused.background.measured_seconds_per_char`). A compiled
    module stays in the disk cache, where later sweeps of the same structure (the same
    scenario under other levers or lenses, the same command again) load it: a compile counts
    what it saves on ``later_sweeps`` sweeps like this one besides what it saves on this one."""

    chars: int
    #: the kernel's CPU seconds a run-step, per character of the module
    numpy_per_char_step: float = 5.7e-11
    #: the share of the kernel's time the fused engine saves
    saved_share: float = 0.5
    #: a cold compile's CPU seconds per character of the module
    compile_per_char: float = 2.5e-4
    #: the fused engine's runtime and a module loaded from the disk cache, in each process that
    #: runs units
    load_seconds: float = 1.0
    #: the sweeps of the same size after this one that load the module a compile leaves on disk
    later_sweeps: float = 1.0

    @property
    def numpy_per_run_step(self) -> float:
        return self.numpy_per_char_step * self.chars

    @property
    def saved_per_run_step(self) -> float:
        return self.saved_share * self.numpy_per_run_step

    @property
    def compile_seconds(self) -> float:
        return self.compile_per_char * self.chars


def plan(
    costs: Costs, run_steps: int, processes: int, on_disk: bool | None, spare_core: bool = False
) -> Plan:
    """What to do about a program's fused module for a sweep of ``run_steps`` of it on
    ``processes`` processes at once: ``load`` it where it is ``on_disk`` and what it saves
    exceeds loading it in every process; ``compile`` it where it is not and what it saves —
    on the run-steps left once it is compiled (the processes go on on the kernel meanwhile),
    and on the later sweeps that load it from the disk cache (``costs.later_sweeps``) — exceeds
    what the compile costs: the loading it brings, and its CPU time unless it has a
    ``spare_core`` (a core the sweep's processes leave idle); else ``numpy``. ``on_disk`` None:
    not looked at yet — ``load`` then means "look", and says whether the sweep is large enough
    for that."""
    processes = max(processes, 1)
    saved = costs.saved_per_run_step
    loading = processes * costs.load_seconds
    if run_steps * saved <= loading:
        return "numpy"
    if on_disk is None or on_disk:
        return "load"
    meanwhile = processes * costs.compile_seconds / costs.numpy_per_run_step
    now = max(run_steps - meanwhile, 0.0) * saved
    later = costs.later_sweeps * (run_steps * saved - loading)
    cost = loading + (0.0 if spare_core else costs.compile_seconds)
    if now + later > cost:
        return "compile"
    return "numpy"


class FusedWarmup:
    """Makes the fused engine's run loops of a sweep's programs ready where that pays, and says
    which backend a unit of each program should run on at the moment it is handed out.

    ``work``: each unit's program and run-steps. ``processes``: how many units are computed at
    once; ``spare_core``: whether the machine has a core they leave idle (for the compile).
    ``here``: the units run in this process, which then loads each run loop once it is
    compiled (worker processes load it themselves, on their first unit on it). ``pays``:
    whether making the fused module ready pays, where the cost model (:func:`plan`) should not
    decide (a test's small sweep): true, it is loaded where it is on disk and compiled where
    not; false, the kernel runs everything. ``command``: the compiling process's command line
    (a test's failing or slow compiler).

    Call :meth:`decide` before the first unit is handed out (a module on disk is used from the
    start), :meth:`start` then where the units run :attr:`here` and once the first unit has
    been handed out where they do not (local worker processes are forked by then), and
    :meth:`stop` when the sweep ends, however it ends."""

    def __init__(
        self,
        work: Iterable[tuple[Program, int]],
        *,
        processes: int = 1,
        spare_core: bool = False,
        here: bool = True,
        pays: bool | None = None,
        command: Sequence[str] | None = None,
    ) -> None:
        self._programs: dict[str, Program] = {}
        self._run_steps: dict[str, int] = {}
        for program, run_steps in work:
            if not _fused_runs(program):
                continue
            key = _key(program)
            self._programs.setdefault(key, program)
            self._run_steps[key] = self._run_steps.get(key, 0) + run_steps
        self._processes = processes
        self._spare_core = spare_core
        #: the units run in this process
        self.here = here
        self._force = pays
        self._command = command
        self._plans: dict[str, Plan] | None = None
        self._ready: set[str] = set()
        #: why a program's fused module is not used, by key (the compile failed, ...)
        self.failed: dict[str, str] = {}
        #: why the fused engine cannot run here at all (Numba cannot be imported)
        self.unavailable: str | None = None
        #: the background compile was still running when the sweep ended
        self.unfinished = False
        #: units handed out on each backend
        self.handed: dict[BackendName, int] = {}
        self.compiler: BackgroundCompile | None = None
        self._lock = threading.Lock()

    def decide(self) -> dict[str, Plan]:
        """Decide, for each program, whether to use, compile or leave its fused module (once);
        modules on disk are ready from now on."""
        if self._plans is not None:
            return self._plans
        plans: dict[str, Plan] = {}
        for key, program in self._programs.items():
            plans[key] = self._plan(key, program)
            if plans[key] == "load":
                self._ready.add(key)
        self._plans = plans
        return plans

    def _plan(self, key: str, program: Program) -> Plan:
        from redline.engine.fused.codegen import generate  # no Numba

        try:
            chars = len(generate(program).text)
        except Exception as exc:  # Unsupported, or a generator's failure: the kernel runs it
            self.failed[key] = str(exc)
            return "numpy"
        run_steps = self._run_steps[key]
        if self._force is False:
            return "numpy"
        if self._force is None and plan(Costs(chars), run_steps, self._processes, None) == "numpy":
            return "numpy"  # too small even to look at the disk cache
        try:
            from redline.engine.fused import background, cache  # Numba, the runtime
        except Exception as exc:  # Numba missing or broken here: the kernel runs everything
            self.unavailable = f"the fused engine is not available: {type(exc).__name__}: {exc}"
            return "numpy"
        try:
            on_disk = cache.on_disk(program)
        except OSError:  # an unreadable cache folder: as good as empty
            on_disk = False
        if on_disk:
            return "load"
        if self._force:
            return "compile"
        rate = background.measured_seconds_per_char()
        costs = Costs(chars) if rate is None else Costs(chars, compile_per_char=rate)
        return plan(costs, run_steps, self._processes, False, self._spare_core)

    def start(self) -> None:
        """Start compiling, in a process of its own, the modules that pay for it (once; a no-op
        where none does)."""
        plans = self.decide()
        with self._lock:
            if self.compiler is not None:
                return
            todo = {k: self._programs[k] for k, p in plans.items() if p == "compile"}
            if not todo:
                return
            from redline.engine.fused.background import BackgroundCompile

            self.compiler = BackgroundCompile(todo, self._compiled, self._command)
        self.compiler.start()

    def _compiled(self, key: str, why: str | None) -> None:
        """The background compile finished ``key``'s module (``why`` not: it failed)."""
        if why is None and self.here:
            why = _load(self._programs[key])  # this process runs the units: load it now
        if why is not None:
            self.failed[key] = why
            return
        with self._lock:
            self._ready.add(key)

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the background compile to finish (or ``timeout`` seconds)."""
        if self.compiler is not None:
            self.compiler.wait(timeout)

    def stop(self) -> None:
        """End the background compile, if any is still running, and reap its process."""
        if self.compiler is not None:
            self.unfinished = self.unfinished or bool(self.compiler.pending())
            self.compiler.stop()

    def backend_for(self, program: Program) -> BackendName:
        """``numba`` where the program's fused run loop is ready, else ``numpy``; counted in
        :attr:`handed`."""
        with self._lock:
            chosen: BackendName = "numba" if _key(program) in self._ready else "numpy"
            self.handed[chosen] = self.handed.get(chosen, 0) + 1
        return chosen

    def note(self) -> str | None:
        """A line on what the background compile did for the sweep (none where there was
        none): how many units ran on the fused engine, or why none did."""
        if self.unavailable is not None:
            return f"{self.unavailable}; every unit ran on the NumPy kernel"
        if self.compiler is None:
            return None
        fused = self.handed.get("numba", 0)
        units = sum(self.handed.values())
        failed = [self.failed[k] for k in self.compiler.programs if k in self.failed]
        if self.unfinished and not fused:
            return (
                "the fused engine's background compile had not finished when the sweep did; "
                "every unit ran on the NumPy kernel"
            )
        if failed and not fused:
            return (
                f"the fused engine could not be compiled ({failed[0]}); every unit ran on the "
                "NumPy kernel"
            )
        return (
            f"the fused engine was compiled in the background; {fused} of {units} "
            f"unit{'' if units == 1 else 's'} ran on it, the others on the NumPy kernel"
        )


def _load(program: Program) -> str | None:
    """Load a compiled run loop from the disk cache into this process; why not, if it failed."""
    import numpy as np

    try:
        from redline.engine.fused import run_chunk

        run_chunk(program, 0, np.zeros(1, dtype=np.int64))  # loads it: not compiled again
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _key(program: Program) -> str:
    """Programs that share a fingerprint share a fused module."""
    return program.fingerprint or f"id:{id(program)}"


def _fused_runs(program: Program) -> bool:
    """Whether the fused engine declares what running ``program`` needs."""
    from redline.engine.backends import REGISTRY

    return not REGISTRY["numba"].capabilities.lacking(needs(program))
