"""The backends that run a chunk of runs, each registered with the capabilities it declares.

Every backend runs the same core program with the same step semantics and keyed draws, so it
gives the same per-run results exactly; they differ in speed and in what they can run. Where a
program or a call needs a capability the chosen backend lacks — or the backend raises
:class:`~redline.engine.semantics.Unsupported` for something in the program — :func:`run_chunk`
runs it on the NumPy kernel instead, which can run everything. A result never depends on which
backend computed it, so falling back is invisible except in time.

Each backend's chunk runner is named by module and function and imported on first use: the
fused engine imports Numba, which commands that simulate nothing do not pay for. This module
imports no backend; no backend imports another (what they share is in
:mod:`redline.engine.semantics`, :mod:`~redline.engine.params`, :mod:`~redline.engine.rng`,
:mod:`~redline.engine.sites` and :mod:`~redline.engine.deciders`).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal, Protocol, cast

# the registry is read by the command line's options (names, help) before anything runs: what
# running a chunk needs (NumPy, the step semantics) is imported by the functions that run one
if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from redline.core.program import Program
    from redline.engine.deciders import DecisionMaker
    from redline.engine.particles import Particles, ParticleStarter
    from redline.engine.semantics import ChunkResult

#: a registered backend's name
BackendName = Literal["numba", "numpy", "reference"]


@dataclass(frozen=True)
class Capabilities:
    """What a backend can run, beyond a program's plain step semantics."""

    #: programs whose actors' utilities read each other's choices (``chose()``): decisions
    #: solved as a quantal response equilibrium (``Program.strategic``)
    equilibrium: bool
    #: plugged-in Python decision-makers in place of scenario actors' own
    decision_makers: bool
    #: a record per run and step of what happened (``ChunkResult.trace``)
    traces: bool
    #: the event record: per run, when each rule and scheduled reaction first fired or failed
    #: and each actor first chose each action (``ChunkResult.events``;
    #: :func:`~redline.engine.semantics.event_layout`)
    events: bool
    #: its work runs outside Python's global lock, so chunks computed on several threads of
    #: one process use several cores
    threads: bool
    #: populations of runs advanced to a step, kept, dropped and copied there, and continued
    #: (sequential Monte Carlo: :mod:`redline.engine.particles`)
    particles: bool = False

    def lacking(self, needed: Capabilities) -> tuple[str, ...]:
        """The capabilities ``needed`` asks for that these lack, by name."""
        return tuple(
            f.name for f in fields(self) if getattr(needed, f.name) and not getattr(self, f.name)
        )


class ChunkRunner(Protocol):
    """Simulates the given runs to the horizon: one result row per run, in the order given;
    ``makers`` replace the named actors' decision-makers, ``trace`` asks for trace records,
    ``events`` for the event record."""

    def __call__(
        self,
        program: Program,
        seed: int,
        runs: NDArray[np.int64],
        *,
        trace: bool = False,
        makers: Mapping[str, DecisionMaker] | None = None,
        events: bool = False,
    ) -> ChunkResult: ...


@dataclass(frozen=True)
class Backend:
    """A registered backend: its name, a line on what it is, what it can run, and where its
    chunk runner is (``module:function``, imported when first used)."""

    name: BackendName
    description: str
    capabilities: Capabilities
    runner: str
    #: its population constructor (``module:function``) where it declares ``particles``
    particles: str = ""

    def load(self) -> ChunkRunner:
        """The chunk runner (importing its module, and whatever that imports, the first time)."""
        module, _, function = self.runner.partition(":")
        return cast("ChunkRunner", getattr(importlib.import_module(module), function))

    def load_particles(self) -> ParticleStarter:
        """The population constructor (imported the first time)."""
        module, _, function = self.particles.partition(":")
        return cast("ParticleStarter", getattr(importlib.import_module(module), function))


#: every backend, by name
REGISTRY: Mapping[BackendName, Backend] = MappingProxyType(
    {
        "numba": Backend(
            "numba",
            "fused: several times faster, compiled on first use of a scenario and cached",
            Capabilities(
                equilibrium=False, decision_makers=False, traces=False, events=True, threads=True
            ),
            "redline.engine.fused:run_chunk",
        ),
        "numpy": Backend(
            "numpy",
            "vectorised: all runs of a chunk advance together",
            Capabilities(
                equilibrium=True,
                decision_makers=True,
                traces=True,
                events=True,
                threads=True,
                particles=True,
            ),
            "redline.engine.kernel:run_chunk",
            "redline.engine.kernel:start_particles",
        ),
        "reference": Backend(
            "reference",
            "the plain-Python specification, one run at a time",
            Capabilities(
                equilibrium=True,
                decision_makers=True,
                traces=True,
                events=True,
                threads=False,
                particles=True,
            ),
            "redline.engine.reference:run_reference_chunk",
            "redline.engine.reference:start_reference_particles",
        ),
    }
)
#: the backend that runs what another cannot (it has every capability)
FALLBACK: BackendName = "numpy"
#: the names a caller may ask for
BACKENDS: tuple[BackendName, ...] = tuple(REGISTRY)
#: the backends, for a command-line option's help
BACKEND_HELP = (
    ", ".join(
        f"{'or ' if b.name == BACKENDS[-1] else ''}{b.name} ({b.description})"
        for b in REGISTRY.values()
    )
    + "."
)


def get(name: str) -> Backend:
    """The backend registered under ``name`` (a ``KeyError`` naming the known ones if none)."""
    try:
        return REGISTRY[cast(BackendName, name)]
    except KeyError:
        raise KeyError(f"unknown backend '{name}'; known: {', '.join(BACKENDS)}") from None


def needs(
    program: Program,
    *,
    trace: bool = False,
    makers: Mapping[str, DecisionMaker] | None = None,
    events: bool = False,
) -> Capabilities:
    """The capabilities running ``program`` this way asks of a backend."""
    return Capabilities(
        equilibrium=program.strategic,
        decision_makers=bool(makers),
        traces=trace,
        events=events,
        threads=False,
    )


def select(
    name: str,
    program: Program,
    *,
    trace: bool = False,
    makers: Mapping[str, DecisionMaker] | None = None,
    events: bool = False,
) -> Backend:
    """The backend that runs ``program`` when ``name`` is asked for: that one, or the fallback
    where it lacks a capability the program or the call needs."""
    chosen = get(name)
    if chosen.capabilities.lacking(needs(program, trace=trace, makers=makers, events=events)):
        return REGISTRY[FALLBACK]
    return chosen


def run_chunk(
    name: str,
    program: Program,
    seed: int,
    runs: NDArray[np.int64],
    *,
    trace: bool = False,
    makers: Mapping[str, DecisionMaker] | None = None,
    fallback: bool = True,
    events: bool = False,
) -> ChunkResult:
    """Simulate ``runs`` on the backend ``name``; where it lacks a capability the program or the
    call needs, or raises :class:`Unsupported`, on the fallback backend instead — unless
    ``fallback`` is false: then :class:`Unsupported` says what it lacks. ``events`` asks for
    the event record (``ChunkResult.events``)."""
    import numpy as np

    from redline.engine.semantics import Unsupported

    chosen = get(name)
    lacking = chosen.capabilities.lacking(needs(program, trace=trace, makers=makers, events=events))
    if lacking:
        if not fallback:
            raise Unsupported(f"the {name} backend lacks {', '.join(lacking)}")
        chosen = REGISTRY[FALLBACK]
    ids = np.asarray(runs, dtype=np.int64)
    asked = {"events": True} if events else {}
    try:
        return chosen.load()(program, seed, ids, trace=trace, makers=makers, **asked)
    except Unsupported:
        if not fallback or chosen.name == FALLBACK:
            raise
    return REGISTRY[FALLBACK].load()(program, seed, ids, trace=trace, makers=makers, **asked)


def start_particles(
    name: str, program: Program, seed: int, runs: NDArray[np.int64], *, fallback: bool = True
) -> Particles:
    """A population of ``runs`` of ``program`` before step 0 on the backend ``name``
    (:mod:`redline.engine.particles`); on the fallback backend where ``name`` lacks the
    ``particles`` capability or another the program needs — unless ``fallback`` is false: then
    :class:`Unsupported` says what it lacks."""
    import numpy as np

    from redline.engine.semantics import Unsupported

    chosen = get(name)
    needed = dataclasses.replace(needs(program), particles=True)
    lacking = chosen.capabilities.lacking(needed)
    if lacking:
        if not fallback:
            raise Unsupported(f"the {name} backend lacks {', '.join(lacking)}")
        chosen = REGISTRY[FALLBACK]
    ids = np.asarray(runs, dtype=np.int64)
    try:
        return chosen.load_particles()(program, seed, ids)
    except Unsupported:
        if not fallback or chosen.name == FALLBACK:
            raise
    return REGISTRY[FALLBACK].load_particles()(program, seed, ids)
