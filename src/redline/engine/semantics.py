"""The step semantics every backend shares: its phases, constants and result types.

The reference interpreter (:mod:`redline.engine.reference`) is the specification of a step; the
NumPy kernel and the fused engine implement the same phases under the same names, and give the
same per-run results exactly. No backend imports another: what they share lives here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: the candidate position of ``hold`` (every decider's first), and the core action index that
#: stands for it among a decider's candidates
HOLD = -1

# State values are stored clamped to their variable's bounds, and a zero is stored as +0.0:
# dynamics and initial values are written as ``value + 0.0`` (which changes only a -0.0), and
# effects add a sum that starts from +0.0, so no backend's skipped no-op can leave a -0.0 that
# another backend's ``x + 0.0`` would have turned into +0.0.

#: the phases of one step, in order (DESIGN §5); each backend names its code after them
PHASES = (
    "schedule",  # (1) scheduled events due this step
    "dynamics",  # (2) every dynamic, simultaneously, from the state the step found
    "decide",  # (3) every actor's choice, all on the same state
    "perform",  # (4) the chosen actions' effects and events
    "react",  # (5) rule cascades: each rule at most once a step, at most max_depth rounds
    "outcomes",  # (6) outcomes recorded; absorbing ones end the run
)


class Unsupported(Exception):
    """A backend cannot run this program or call; the registry
    (:mod:`redline.engine.backends`) then runs it on the NumPy kernel, which runs everything."""


@dataclass
class ChunkResult:
    """Per-run summaries of one chunk, in the order of ``runs``."""

    runs: NDArray[np.int64]
    first_hit: NDArray[np.int32]  # (runs, outcomes); -1 where never reached
    peak_level: NDArray[np.int32]
    steps: NDArray[np.int32]  # steps the run lasted (horizon when never absorbed)
    final: NDArray[np.float64]  # (runs, variables)
    params: dict[str, NDArray[np.float64]]  # drawn uncertainties
    occupancy: NDArray[np.int64]  # (steps, rungs): live runs on each rung after each step
    trace: list[dict[str, Any]] | None = None


@dataclass
class Happening:
    """One thing that happened in a step: an actor's decision or a rule's reaction."""

    kind: str  # "schedule", "decision" or a rule kind
    id: str
    actor: str | None
    fired: bool
    detail: str = ""
    evidence: tuple[str, ...] = ()


@dataclass
class StepLog:
    """What one step of one run did, as the reference interpreter logs it."""

    step: int
    level: int
    happenings: list[Happening]
    events: list[str]
    state: dict[str, float]


@dataclass
class RunResult:
    """The summary of one run (as the engine gives it) and, on request, its step log."""

    run: int
    first_hit: list[int]
    peak_level: int
    steps: int
    final: list[float]
    params: dict[str, float]
    levels: list[int] = field(default_factory=list)  # the ladder rung after each step
    log: list[StepLog] = field(default_factory=list)
