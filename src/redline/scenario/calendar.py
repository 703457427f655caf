"""Dates to step indices and back, for the step units a scenario may use."""

from __future__ import annotations

import datetime as dt

from redline.scenario.model import TimeSpec

_MONTHS = {"month": 1, "quarter": 3, "year": 12}
_DAYS = {"day": 1, "week": 7}
#: the step units a scenario may use
STEP_UNITS = frozenset(_DAYS) | frozenset(_MONTHS)


def step_of(date: dt.date, time: TimeSpec) -> int:
    """The step in which ``date`` falls (negative when before the start)."""
    if time.start is None:
        raise ValueError("the scenario's time.start is needed to place dated events")
    start = time.start
    if time.step in _DAYS:
        return (date - start).days // _DAYS[time.step]
    months = (date.year - start.year) * 12 + (date.month - start.month)
    if date.day < start.day:
        months -= 1
    return months // _MONTHS[time.step]


def date_of(step: int, time: TimeSpec) -> dt.date | None:
    """The first calendar day of ``step``, or None when the scenario has no start date."""
    if time.start is None:
        return None
    start = time.start
    if time.step in _DAYS:
        return start + dt.timedelta(days=step * _DAYS[time.step])
    months = start.month - 1 + step * _MONTHS[time.step]
    year, month = start.year + months // 12, months % 12 + 1
    day = min(start.day, 28)
    return dt.date(year, month, day)
