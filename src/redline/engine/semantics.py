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

from redline.core.program import Program
from redline.engine.trouble import Trouble

#: the candidate position of ``hold`` (every decider's first), and the core action index that
#: stands for it among a decider's candidates
HOLD = -1

# State values are stored clamped to their variable's bounds, and a zero is stored as +0.0:
# dynamics and initial values are written as ``value + 0.0`` (which changes only a -0.0), and
# effects add a sum that starts from +0.0, so no backend's skipped no-op can leave a -0.0 that
# another backend's ``x + 0.0`` would have turned into +0.0.

# The logit quantal response equilibrium of a step (redline.engine.equilibrium, which
# describes the method): its accuracy and the settings of its path tracing.

#: converged when max |σ(p) − p| is below this at τ = 1 (the choice probabilities' accuracy)
QRE_TOLERANCE = 1e-10
#: the same test at the points traced on the way to τ = 1
QRE_CORRECTOR_TOLERANCE = 1e-6
#: forward-difference step for ∂U/∂p (a power of two; the step actually taken is used)
QRE_DIFFERENCE_STEP = 2.0**-20
#: the first step along the curve (arclength in (p, τ)), the largest, and the smallest tried
QRE_FIRST_STEP = 0.125
QRE_MAX_STEP = 1.0
QRE_MIN_STEP = 2.0**-30
#: step growth after a quick acceptance, and shrinkage after a rejection
QRE_GROW = 2.0
QRE_SHRINK = 0.5
#: an acceptance is quick after at most this many corrector iterations
QRE_QUICK = 3
#: corrector iterations before a step is rejected
QRE_MAX_CORRECTIONS = 8
#: each corrector iteration must shrink the residual by at least this factor
QRE_CONTRACTION = 0.5
#: the corrector's first move may be at most this fraction of the step, or of the floor below
#: (however short the step, the corrector must still remove the last point's own error)
QRE_MAX_DRIFT = 0.25
QRE_DRIFT_FLOOR = 2.0**-10
#: a step at least this long whose tangent's orientation flipped is rejected; a shorter one
#: crosses a bifurcation point
QRE_FLIP_STEP = 2.0**-6
#: consecutive tangents may turn by at most the angle of this cosine (else the step was too long)
QRE_MIN_COSINE = 0.8
#: evaluations (each: the utilities and their differences) before a run has failed
QRE_MAX_ITERATIONS = 1000

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


# -- the event record (the ``events`` capability) -----------------------------------------------
# On request a chunk result carries, per run, when each mechanism event first happened: for each
# scheduled reaction and each rule (program order), "fired" then "failed" (its trigger held and
# its draw failed: for a red line, crossed and not enforced), then for each decider each
# non-hold candidate "chosen". Each is a code, step × stride + stage, or -1 if it never
# happened: the stage orders the events of one step as the step runs them — scheduled events,
# then decisions, then each round of the rule cascade. Events of one stage are simultaneous (a
# phase reads the state it found); the record's column order (program order) breaks the tie.

#: the stages of a step in an event's code; round d of the rule cascade is STAGE_ROUND + d
STAGE_SCHEDULE = 0
STAGE_DECIDE = 1
STAGE_ROUND = 2


@dataclass(frozen=True)
class EventLayout:
    """The columns of a program's event record and how an event's code is made."""

    #: column of rule 0's "fired" (rule r: ``rules + 2r``, its "failed" the next column);
    #: scheduled reaction r's are ``2r`` and ``2r + 1``
    rules: int
    #: per decider, the column of its candidate 1 (candidate k: ``choices[i] + k - 1``)
    choices: tuple[int, ...]
    #: number of columns
    size: int
    #: codes per step: the stages of a step
    stride: int
    #: ``int16`` where every code fits, else ``int32``
    dtype: str

    def code(self, step: int, stage: int) -> int:
        return step * self.stride + stage

    def scheduled(self, r: int) -> int:
        """The "fired" column of scheduled reaction ``r`` (its "failed" is the next one)."""
        return 2 * r

    def rule(self, r: int) -> int:
        """The "fired" column of rule ``r`` (its "failed" is the next one)."""
        return self.rules + 2 * r


def event_layout(program: Program) -> EventLayout:
    """The event record's layout for ``program``."""
    rules = 2 * len(program.schedule)
    at = rules + 2 * len(program.rules)
    choices = []
    for d in program.deciders:
        choices.append(at)
        at += len(d.candidates) - 1
    stride = STAGE_ROUND + program.max_depth
    dtype = "int16" if program.horizon * stride <= np.iinfo(np.int16).max else "int32"
    return EventLayout(rules, tuple(choices), at, stride, dtype)


def event_columns(program: Program) -> list[tuple[str, int, str]]:
    """What each column of the event record is: ``("schedule", r, "fired" | "failed")``,
    ``("rule", r, "fired" | "failed")`` (indices into ``program.schedule`` and
    ``program.rules``) or ``("choice", i, action id)`` (decider ``i``'s candidate)."""
    columns: list[tuple[str, int, str]] = []
    for r in range(len(program.schedule)):
        columns += [("schedule", r, "fired"), ("schedule", r, "failed")]
    for r in range(len(program.rules)):
        columns += [("rule", r, "fired"), ("rule", r, "failed")]
    for i, d in enumerate(program.deciders):
        columns += [("choice", i, program.actions[c].id) for c in d.candidates[1:]]
    return columns


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
    #: (runs, event columns): each event's first code (:func:`event_layout`), -1 never; when
    #: asked for (the ``events`` capability)
    events: NDArray[np.int16] | NDArray[np.int32] | None = None
    #: NaN and out-of-range probabilities and NaN state met in these runs
    #: (:mod:`redline.engine.trouble`); every backend counts them
    trouble: Trouble | None = None


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
    events: list[int] = field(default_factory=list)  # the event record's codes, when asked
