"""Lower a scenario's record — its ``observations`` and ``forecasts`` — to checks on runs.

Each observation becomes one or two :class:`Check` objects, each decided at the end of one step
(a date stands for the step that contains it):

- an event or outcome that ``first_between: [A, B]``: it has not happened by the end of the step
  before A's (when A is after step 0), and it has by the end of B's step;
- ``by: D``: it has happened by the end of D's step; ``not_by: D``: it has not;
- a variable ``at: D`` in ``range: [LO, HI]``: its value at the end of D's step lies in the range
  (a hard constraint; with ``tolerance`` τ, a value at distance d outside counts exp(−½(d/τ)²));
- an action ``at: D``, ``in_month: M`` or ``between: [A, B]``: the actor took it in some step of
  the window (``now("act:ACTOR:ACTION")`` at the end of one of its steps).

A forecast becomes a :class:`Question`: whether its outcomes (or event) happen by a step. When
it was made before the scenario starts, the model is asked the same question over the same
length of time from the start (the question is *transposed*, and says so); otherwise the model
answers it from when it was made, knowing the observations decided before then.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Literal

from redline.core.program import Expression
from redline.scenario import symbols as sym
from redline.scenario.calendar import date_of, step_of
from redline.scenario.expr import Type, check_source
from redline.scenario.expr.fold import fold
from redline.scenario.model import Forecast, Observation, Scenario
from redline.scenario.record import (
    forecast_subject,
    midpoint,
    outcome_ids,
    resolution,
    subjects,
    timing,
)
from redline.scenario.register import resolve_evidence

__all__ = ["Check", "ObservedFact", "Question", "Record", "record_of"]


@dataclass(frozen=True)
class Check:
    """A condition an observation puts on each run, decided at the end of step ``step``.

    ``holds``: the condition ``expr`` holds at the end of some step from ``start`` to ``step``
    (one step when they are equal). ``reached``: one of ``outcomes`` (indices) has been first
    hit by the end of ``step`` — or, ``negate``, none has. ``range``: the number ``expr`` lies in
    [``lo``, ``hi``] at the end of ``step``; with ``tolerance`` τ a value at distance d outside
    weighs exp(−½(d/τ)²) instead of 0."""

    kind: Literal["holds", "reached", "range"]
    step: int
    start: int
    expr: Expression | None = None
    outcomes: tuple[int, ...] = ()
    negate: bool = False
    lo: float = -math.inf
    hi: float = math.inf
    tolerance: float | None = None


@dataclass(frozen=True)
class ObservedFact:
    """One observation, lowered: its checks, what it says in words, and its evidence."""

    id: str
    name: str
    text: str
    checks: tuple[Check, ...]
    first: dt.date
    last: dt.date
    evidence: tuple[str, ...]

    @property
    def step(self) -> int:
        """The step at whose end the observation is decided (its last check)."""
        return max(c.step for c in self.checks)


@dataclass(frozen=True)
class Question:
    """A published forecast, lowered: the forecaster's probability and question, and the
    question the model answers — whether ``outcomes`` (indices; any of them) or the event
    ``expr`` happen by the end of step ``step``, knowing the observations decided before step
    ``made_step`` (``step`` None: the question runs past the horizon)."""

    id: str
    forecaster: str
    made: dt.date
    by: dt.date
    text: str
    probability: float
    range: tuple[float, float] | None
    step: int | None
    made_step: int
    transposed: bool
    covers: str
    outcomes: tuple[int, ...]
    expr: Expression | None
    #: how the forecaster's question resolved (None: not known), and the model's
    resolved: bool | None
    model_resolved: bool | None
    resolved_by: str | None
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Record:
    """A scenario's observations and forecasts, lowered."""

    facts: tuple[ObservedFact, ...]
    questions: tuple[Question, ...]

    @property
    def checks(self) -> tuple[tuple[int, Check], ...]:
        """Every check with its observation's index, in observation order."""
        return tuple((i, c) for i, f in enumerate(self.facts) for c in f.checks)

    @property
    def last_step(self) -> int:
        """The last step at whose end an observation is decided (−1 with none)."""
        return max((f.step for f in self.facts), default=-1)


def _condition(s: Scenario, source: str, site: str) -> Expression:
    tree = check_source(source, sym.scope_symbols(s)["post"], Type.BOOL)
    return Expression(source=source, tree=tree, site=site, constant=fold(tree))


def _number(s: Scenario, source: str, site: str) -> Expression:
    tree = check_source(source, sym.scope_symbols(s)["post"], Type.NUMBER)
    return Expression(source=source, tree=tree, site=site, constant=fold(tree))


def _quoted(pattern: str) -> str:
    return '"' + pattern.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _outcome_names(s: Scenario, ids: tuple[str, ...]) -> str:
    labels = {o.id: o.label for o in s.outcomes}
    return " or ".join(labels[i] for i in ids)


def _fact(s: Scenario, ob: Observation) -> ObservedFact:
    (subject,) = subjects(ob)
    when = timing(ob)
    assert when is not None
    key, first, last = when
    a, b = step_of(first, s.time), step_of(last, s.time)
    site = f"observations.{ob.id}"
    checks: list[Check] = []
    outcome_index = {o.id: k for k, o in enumerate(s.outcomes)}
    if subject in ("event", "outcome"):
        if subject == "event":
            assert ob.event is not None
            what = ob.event
            happened = _condition(s, f"happened({_quoted(ob.event)})", site)
            missing = _condition(s, f"not happened({_quoted(ob.event)})", site)

            def seen(step: int, negate: bool) -> Check:
                return Check("holds", step, step, expr=missing if negate else happened)

        else:
            ids = outcome_ids(ob.outcome)
            what = _outcome_names(s, ids)
            indices = tuple(outcome_index[i] for i in ids)

            def seen(step: int, negate: bool) -> Check:
                return Check("reached", step, step, outcomes=indices, negate=negate)

        if key == "first_between":
            if a > 0:
                checks.append(seen(a - 1, True))
            checks.append(seen(b, False))
            text = f"{what}: first between {first} and {last}"
        elif key == "by":
            checks.append(seen(b, False))
            text = f"{what}: by {last}"
        else:
            checks.append(seen(b, True))
            text = f"{what}: not by {last}"
    elif subject == "variable":
        assert ob.variable is not None and ob.range is not None
        lo, hi = ob.range
        checks.append(
            Check(
                "range",
                b,
                b,
                expr=_number(s, ob.variable, site),
                lo=lo,
                hi=hi,
                tolerance=ob.tolerance,
            )
        )
        soft = f" (±{ob.tolerance:g})" if ob.tolerance is not None else ""
        text = f"{ob.variable} in [{lo:g}, {hi:g}]{soft} on {last}"
    else:
        assert ob.action is not None and ob.actor is not None
        tag = sym.action_tag(ob.actor, ob.action)
        checks.append(Check("holds", b, a, expr=_condition(s, f"now({_quoted(tag)})", site)))
        span = (
            f"on {first}"
            if key == "at"
            else f"in {ob.in_month}"
            if key == "in_month"
            else f"between {first} and {last}"
        )
        text = f"{ob.actor} takes {ob.action} {span}"
    quotes = tuple(f"{c.reference}: “{c.quote}”" for c in resolve_evidence(s, ob.evidence))
    return ObservedFact(ob.id, ob.label, text, tuple(checks), first, last, quotes)


def _end_of(step: int, s: Scenario) -> dt.date:
    """The last calendar day of ``step``."""
    following = date_of(step + 1, s.time)
    assert following is not None
    return following - dt.timedelta(days=1)


def _question(s: Scenario, f: Forecast) -> Question:
    subject = forecast_subject(f)
    assert subject is not None
    kind, names = subject
    assert s.time.start is not None
    made, by = step_of(f.made, s.time), step_of(f.by, s.time)
    horizon = s.time.horizon
    transposed = made < 0
    if transposed:
        length = max(by - made, 1)
        last: int | None = length - 1
        made_step = 0
    else:
        last, made_step = by, made
    if last is not None and last >= horizon:
        last = None
    if made_step >= horizon:
        last = None
    outcome_index = {o.id: k for k, o in enumerate(s.outcomes)}
    expr = None
    indices: tuple[int, ...] = ()
    if kind == "event":
        expr = _condition(s, f"happened({_quoted(names[0])})", f"forecasts.{f.id}")
    else:
        indices = tuple(outcome_index[i] for i in names)
    observations = {ob.id: ob for ob in s.observations}
    resolved = (
        resolution(observations[f.resolved_by], subject, f.by)
        if f.resolved_by is not None
        else None
    )
    model_resolved: bool | None = None
    if last is None:
        covers = "past the horizon"
    else:
        start = date_of(made_step, s.time)
        end = _end_of(last, s)
        covers = f"{start} – {end}"
        if transposed:
            covers += f" (transposed: the same {last + 1} {s.time.step}s from the scenario's start)"
        ordered = [observations[f.resolved_by]] if f.resolved_by is not None else []
        ordered += [ob for ob in s.observations if ob.id != f.resolved_by]
        for ob in ordered:
            model_resolved = resolution(ob, subject, end)
            if model_resolved is not None:
                break
    quotes = tuple(f"{c.reference}: “{c.quote}”" for c in resolve_evidence(s, f.evidence))
    p = midpoint(f)
    assert p is not None
    return Question(
        id=f.id,
        forecaster=f.forecaster,
        made=f.made,
        by=f.by,
        text=f.question,
        probability=p,
        range=f.range,
        step=last,
        made_step=made_step,
        transposed=transposed,
        covers=covers,
        outcomes=indices,
        expr=expr,
        resolved=resolved,
        model_resolved=model_resolved,
        resolved_by=f.resolved_by,
        evidence=quotes,
    )


def record_of(s: Scenario) -> Record:
    """A validated scenario's observations and forecasts as checks and questions."""
    return Record(
        facts=tuple(_fact(s, ob) for ob in s.observations),
        questions=tuple(_question(s, f) for f in s.forecasts),
    )
