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
