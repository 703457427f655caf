"""The decision-maker interface: what a batch of runs shows an actor, and its one choice per run.

The built-in kinds (``logit``, ``doctrine``, ``scripted``) are compiled into the engine for speed.
Any other decision-maker — a language model behind an endpoint, a human player, a learned policy —
implements :class:`DecisionMaker` and is handed to :func:`redline.simulate` for an actor. It is
asked once per step with every live run of a chunk in one :class:`Situation`, so it can answer
the whole batch concurrently; the reference interpreter asks it with batches of one run.

Determinism (DESIGN §7) holds when a decision-maker's choice for a run depends only on that run's
row of the situation (its state, its keyed ``uniform`` draw), never on which other runs share the
batch: then chunk size, worker count and backend never change a result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from redline.core.program import Decider, Program
from redline.engine.semantics import Happening
from redline.errors import UserError


@dataclass(frozen=True)
class Situation:
    """One actor's decision at one step, for a batch of ``n`` runs.

    Candidate positions index ``actions``; position 0 is always ``hold``."""

    actor: str
    step: int
    runs: NDArray[np.int64]  # (n,) run indices
    actions: tuple[str, ...]  # candidate action ids, "hold" first
    available: NDArray[np.bool_]  # (n, K): the candidate's requirements hold in that run
    utility: NDArray[np.float64]  # (n, K): the expected one-step utility a logit actor weighs
    state: Mapping[str, NDArray[np.float64]]  # state variable and parameter values, (n,) each
    uniform: NDArray[np.float64]  # (n,): a draw in [0, 1) keyed by (seed, run, step, actor)
    #: (n,): the ladder rung each run stands on (as the previous step left it)
    level: NDArray[np.int64] | None = None
    #: per candidate, the red lines (ids) choosing it would cross
    crosses: tuple[tuple[str, ...], ...] = ()
    #: per red line a candidate would cross, its credibility as this actor perceives it, (n,)
    credibility: Mapping[str, NDArray[np.float64]] = field(default_factory=dict)
    #: per run, what happened since this actor's previous decision, in the order it happened
    #: (the decisions and reactions of the previous step, then this step's scheduled events);
    #: given to decision-makers whose ``history`` attribute is true, ``None`` to the others
    recent: tuple[tuple[Happening, ...], ...] | None = None

    @property
    def n(self) -> int:
        return len(self.runs)


@runtime_checkable
class DecisionMaker(Protocol):
    """Anything that picks one available candidate position per run of a situation.

    One whose ``history`` attribute is true (a language model told the story so far) is also
    given :attr:`Situation.recent`, which costs the engine a record of every reaction."""

    def decide(self, situation: Situation) -> NDArray[np.int64]:
        """One candidate position per run, each available in its run (0, hold, always is)."""
        ...


class DecisionError(UserError):
    """A plugged-in decision-maker answered something that is not a choice."""


def require_makers(deciders: Sequence[Decider], makers: Mapping[str, DecisionMaker]) -> None:
    """Refuse to run actors whose scenario says a plugged-in maker decides (``kind: llm``) when
    none is plugged in: the engine itself cannot ask a language model."""
    missing = [d.actor for d in deciders if d.kind == "llm" and d.actor not in makers]
    if missing:
        raise DecisionError(
            f"actor {missing[0]} is decided by a language model (decision kind 'llm') and "
            "nothing asks one here: redline run, sweep, story, why, ablate and analyze robust, "
            "game, sensitivity and discover do (with --llm-endpoint URL or the OPENAI_BASE_URL "
            "setting), as do redline.simulate, trace, story, why, ablate, robust, game, "
            "sensitivity and discover with llm=; elsewhere plug in a decision-maker of your own "
            "(docs/llm.md)"
        )


def still_asked(
    deciders: Sequence[Decider], makers: Mapping[str, DecisionMaker] | None
) -> dict[str, DecisionMaker]:
    """The language-model makers (``kind: llm``) of ``makers`` whose actor a program still has
    decided by one: an analysis that switches an actor's decision off (ablation: it holds) or
    pins it (a game's player) must not hand that actor back to its model."""
    asked = {d.actor for d in deciders if d.kind == "llm"}
    return {actor: m for actor, m in (makers or {}).items() if actor in asked}


def checked_choices(answer: object, situation: Situation) -> NDArray[np.int64]:
    """The answer as candidate positions, or a :class:`DecisionError` that says what is wrong:
    it must give one integer per run, each naming a candidate that is available in that run."""
    who = f"decision-maker of {situation.actor} at step {situation.step}"
    try:
        chosen = np.asarray(answer)
    except (TypeError, ValueError) as exc:
        raise DecisionError(f"{who}: answer is not an array of choices ({exc})") from None
    if chosen.shape != (situation.n,):
        raise DecisionError(
            f"{who}: expected {situation.n} choices (one per run), got shape {chosen.shape}"
        )
    if chosen.dtype.kind not in "iu":
        raise DecisionError(f"{who}: choices must be integers, got {chosen.dtype}")
    chosen = chosen.astype(np.int64)
    K = len(situation.actions)
    outside = (chosen < 0) | (chosen >= K)
    if outside.any():
        bad = int(chosen[np.flatnonzero(outside)[0]])
        raise DecisionError(f"{who}: choice {bad} is not a candidate position (0–{K - 1})")
    rows = np.arange(situation.n)
    unavailable = ~situation.available[rows, chosen]
    if unavailable.any():
        i = int(np.flatnonzero(unavailable)[0])
        raise DecisionError(
            f"{who}: run {int(situation.runs[i])} chose "
            f"'{situation.actions[int(chosen[i])]}', whose requirements do not hold"
        )
    return chosen


def as_columns(values: list[Any], n: int, dtype: type) -> NDArray[Any]:
    """Per-candidate values (scalars or (n,) arrays) as an (n, K) array."""
    return np.column_stack([np.broadcast_to(np.asarray(v, dtype=dtype), (n,)) for v in values])


def wants_history(makers: Mapping[str, DecisionMaker]) -> bool:
    """Whether any plugged-in decision-maker asks for :attr:`Situation.recent`."""
    return any(getattr(m, "history", False) is True for m in makers.values())


def crossed_red_lines(program: Program, d: Decider) -> tuple[tuple[str, ...], ...]:
    """Per candidate of ``d``, the ids of the red lines choosing it would cross."""
    return tuple(tuple(program.rules[c.red_line].id for c in cs) for cs in d.crossings)
