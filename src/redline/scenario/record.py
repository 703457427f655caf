"""The record a scenario is scored against: what each observation and forecast is about, and
the dates and steps its timing spans.

Shared by validation (:mod:`redline.scenario.validate`) and the compiler
(:mod:`redline.compile.observe`), so that what is checked is what is scored. A date stands for
the step that contains it (:func:`redline.scenario.calendar.step_of`); an observation is made at
the end of its step.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from typing import Literal

from redline.scenario.model import Forecast, Observation, OutcomeRef

Subject = Literal["event", "outcome", "variable", "action"]
#: what an observation may be about, in the order messages list them
SUBJECTS: tuple[Subject, ...] = ("event", "outcome", "variable", "action")
#: the timing keys each subject takes (one of them, except a variable: ``at`` and ``range``)
TIMING: dict[Subject, tuple[str, ...]] = {
    "event": ("first_between", "by", "not_by"),
    "outcome": ("first_between", "by", "not_by"),
    "variable": ("at",),
    "action": ("at", "in_month", "between"),
}
#: every timing key, and the keys that only some subjects take
TIMING_KEYS = ("first_between", "by", "not_by", "at", "range", "tolerance", "in_month", "between")


def subjects(ob: Observation) -> list[Subject]:
    """The subject keys an observation gives (valid when exactly one)."""
    return [k for k in SUBJECTS if getattr(ob, k) is not None]


def outcome_ids(ref: OutcomeRef | None) -> tuple[str, ...]:
    """An observation's or forecast's outcomes: one id, or several (any of them)."""
    if ref is None:
        return ()
    return (ref,) if isinstance(ref, str) else tuple(ref)


def month_days(month: str) -> tuple[dt.date, dt.date]:
    """The first and last day of ``YYYY-MM``."""
    year, number = (int(part) for part in month.split("-"))
    return dt.date(year, number, 1), dt.date(year, number, _calendar.monthrange(year, number)[1])


def timing(ob: Observation) -> tuple[str, dt.date, dt.date] | None:
    """The timing key an observation uses and the dates it spans (from, to), or None when it
    gives none; the first one given when it gives several (validation reports that)."""
    for key in ("first_between", "between"):
        window = getattr(ob, key)
        if window is not None:
            return key, window[0], window[1]
    for key in ("by", "not_by", "at"):
        day = getattr(ob, key)
        if day is not None:
            return key, day, day
    if ob.in_month is not None:
        first, last = month_days(ob.in_month)
        return "in_month", first, last
    return None


def midpoint(forecast: Forecast) -> float | None:
    """The forecaster's probability: as given, or the middle of the range given."""
    if forecast.probability is not None:
        return forecast.probability
    if forecast.range is not None:
        return (forecast.range[0] + forecast.range[1]) / 2.0
    return None


def forecast_subject(forecast: Forecast) -> tuple[str, tuple[str, ...]] | None:
    """``("event", (pattern,))`` or ``("outcome", ids)``: what a forecast's question is about."""
    if forecast.event is not None:
        return "event", (forecast.event,)
    if forecast.outcome is not None:
        return "outcome", outcome_ids(forecast.outcome)
    return None


def resolution(ob: Observation, subject: tuple[str, tuple[str, ...]], by: dt.date) -> bool | None:
    """How observation ``ob`` resolves the question "``subject`` happens by ``by``": True (it
    did), False (it did not), or None when the observation does not decide it.

    ``not_by D`` on the same subject, or on outcomes that include the question's (none of them
    happened), with ``D`` on or after ``by``: no. ``by D`` or ``first_between [A, B]`` on the
    same subject (or on outcomes all of which the question counts) with the observed first
    happening on or before ``by`` (``D`` or ``B``): yes; ``first_between [A, B]`` with ``A``
    after ``by``: no."""
    kind, names = subject
    if kind == "event":
        if ob.event is None or ob.event != names[0]:
            return None
        covers = counted = True
    else:
        observed = set(outcome_ids(ob.outcome))
        if not observed:
            return None
        # "none of the observed happened" covers the question's outcomes if they are among them;
        # "one of the observed happened" counts for the question if they all are the question's
        covers, counted = set(names) <= observed, observed <= set(names)
    if ob.not_by is not None:
        return False if covers and ob.not_by >= by else None
    if ob.by is not None:
        return True if counted and ob.by <= by else None
    if ob.first_between is not None:
        start, end = ob.first_between
        if counted and end <= by:
            return True
        if covers and start > by:
            return False
    return None
