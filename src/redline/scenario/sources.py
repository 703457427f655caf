"""The sources a scenario quotes: their bibliographic records, how a citation names its source
to a reader, and the numbers a quote states.

A citation's ``source`` is the id of a record in the scenario's ``sources`` section, the file name
of such a record (``file:``, the text quotes are checked against), or free text naming a public
record that has no entry. Only a record gives a reader a title, an author or publisher and a
date; free text is shown as written and reported as such.

A number a source *states* is one the quote itself contains: an evidence item lists them under
``states`` and validation checks each against the quote's text mechanically (``0.08`` is found as
``0.08``, ``8%``, ``8 percent`` or ``8 per cent``; ``"8%"`` only as a percentage). Everything else
a quote backs is *supported* qualitatively, with the element's ``assumption`` as the reasoning
from quote to number.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Iterator

from redline.scenario.model import SourceRecord

_MONTHS = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)

#: a number as a quote writes it (thousands separated by commas allowed), and a percent sign
#: or word right after it
_NUMBER = re.compile(
    r"(?<![\w.,])(?P<n>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?P<f>\.[0-9]+)?(?![0-9])"
    r"(?P<pct>\s*(?:%|percent\b|per\s+cent\b))?",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"\s*(?P<n>[0-9]+(?:\.[0-9]+)?)\s*%\s*")
_PARTIAL_DATE = re.compile(r"(?P<y>[0-9]{4})(?:-(?P<m>[0-9]{2})(?:-(?P<d>[0-9]{2}))?)?")


def is_reference(source: str) -> bool:
    """Whether a citation's source is written as a reference to a record (one word: an id or a
    file name) rather than free text naming a public record."""
    return bool(source) and not any(ch.isspace() for ch in source)


def find_record(records: list[SourceRecord], source: str) -> SourceRecord | None:
    """The record a citation's source names: by its id, else by its ``file``; None for free
    text or an unknown reference."""
    for record in records:
        if record.id == source:
            return record
    for record in records:
        if record.file is not None and record.file == source:
            return record
    return None


def date_problem(value: dt.date | int | str | None) -> str | None:
    """What is wrong with a record's date, or None: a date is ``YYYY-MM-DD``, ``YYYY-MM`` or
    ``YYYY``, and a real one."""
    if value is None or isinstance(value, dt.date):
        return None
    text = str(value).strip()
    match = _PARTIAL_DATE.fullmatch(text)
    expected = f"a source's date is YYYY-MM-DD, YYYY-MM or YYYY, got '{value}'"
    if match is None or isinstance(value, bool):
        return expected
    year, month, day = match["y"], match["m"], match["d"]
    try:
        dt.date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return f"'{value}' is not a date on the calendar ({expected.split(', got')[0]})"
    return None


def shown_date(value: dt.date | int | str | None) -> str | None:
    """A record's date as a reader writes it (``10 July 2023``, ``July 2023``, ``2023``); the
    text as written where it is not a valid date."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"
    match = _PARTIAL_DATE.fullmatch(str(value).strip())
    if match is None or date_problem(value) is not None:
        return str(value)
    if match["d"]:
        return f"{int(match['d'])} {_MONTHS[int(match['m']) - 1]} {match['y']}"
    if match["m"]:
        return f"{_MONTHS[int(match['m']) - 1]} {match['y']}"
    return match["y"]


def url_problem(url: str | None) -> str | None:
    """What is wrong with a record's URL, or None: it starts with http:// or https:// and has no
    spaces."""
    if url is None:
        return None
    if not re.fullmatch(r"https?://\S+", url):
        return f"a source's url starts with http:// or https:// and has no spaces, got '{url}'"
    return None


def reference(record: SourceRecord) -> str:
    """How a reader is told the source: author, “title”, publisher, date (those it has)."""
    parts = [record.author, f"“{record.title}”", record.publisher, shown_date(record.date)]
    return ", ".join(p for p in parts if p)


def numbers_in(quote: str) -> Iterator[tuple[float, bool]]:
    """Each number a quote writes, with whether it is a percentage (``8%``, ``8 percent``)."""
    for m in _NUMBER.finditer(quote):
        value = float(m["n"].replace(",", "") + (m["f"] or ""))
        yield value, m["pct"] is not None


def stated_value(entry: float | str) -> float | None:
    """The value a ``states`` entry stands for (``"8%"`` is 0.08); None if it is text that is
    not a percentage."""
    if isinstance(entry, str):
        m = _PERCENT.fullmatch(entry)
        return None if m is None else float(m["n"]) / 100
    return float(entry)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def occurs_in(entry: float | str, quote: str) -> bool:
    """Whether a ``states`` entry occurs in the quote: a number as written or as a percentage
    (0.08 as ``8%``), a percentage entry only as a percentage."""
    value = stated_value(entry)
    if value is None:
        return False
    if isinstance(entry, str):
        return any(pct and _close(n / 100, value) for n, pct in numbers_in(quote))
    return any(_close(n, value) or (pct and _close(n / 100, value)) for n, pct in numbers_in(quote))


def states_value(states: Iterable[float | str], value: float) -> bool:
    """Whether ``value`` is one of the numbers an evidence item's ``states`` declares."""
    return any((v := stated_value(entry)) is not None and _close(v, value) for entry in states)
