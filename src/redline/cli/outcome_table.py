"""The outcome probabilities of ``redline run`` and ``redline results show``, laid out to fit
the terminal.

One row per lens × configuration, named by the scenario's names (not ids). Outcomes are columns
where they fit the console's width; where they do not, they are split across several tables
that each repeat the rows' names; where fewer than two outcome columns fit beside the names,
each lens gets a table with a row per configuration × outcome (the long format). Nothing is
cut: every outcome and every number is printed whole. Probabilities are percentages whose
precision follows their size, so that a small one reads small (``<0.1% (0–0.02%)``) instead of
as certainty (``0.0``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from redline.experiment.design import lever_defaults
from redline.results import OutcomeSummary
from redline.scenario.model import Scenario

#: the narrowest a column of names (lens, levers, outcome) is made: words wrap inside it
NAME_WIDTH = 16


def percent(x: float) -> str:
    """A probability as a percentage without its sign, precise enough not to read as 0 or 100
    when it is neither: one decimal, or one significant digit of the distance from 0 or 100
    (``0.02``, ``99.98``)."""
    v = 100 * x
    if v <= 0:
        return "0"
    if v >= 100:
        return "100"
    if v < 0.1:
        return f"{v:.{-math.floor(math.log10(v))}f}"
    if v > 99.9:
        return f"{v:.{-math.floor(math.log10(100 - v))}f}"
    return f"{v:.1f}"


def estimate(x: float) -> str:
    """A point estimate in percent: one decimal, or ``<0.1%`` / ``>99.9%`` where one decimal
    would print 0.0 or 100.0."""
    v = 100 * x
    if v < 0.05:
        return "<0.1%"
    if v >= 99.95:
        return ">99.9%"
    return f"{v:.1f}%"


def cell(summary: OutcomeSummary) -> str:
    """``14.0% (10.5–18.4%)``: the share of runs and its interval."""
    return f"{estimate(summary.p)} ({percent(summary.lo)}–{percent(summary.hi)}%)"


def setting_name(
    s: Scenario, levers: Mapping[str, str], defaults: Mapping[str, str], fixed: Mapping[str, float]
) -> str:
    """A configuration by the names of what it changes from the lever defaults (``Lever: its
    option``) and the uncertainties a design point fixes; ``defaults`` when it changes
    nothing."""
    parts = []
    for lever in s.levers:
        chosen = levers.get(lever.id)
        if chosen is None or chosen == defaults.get(lever.id):
            continue
        option = next((o for o in lever.options if o.id == chosen), None)
        parts.append(f"{lever.label}: {option.name or option.id if option else chosen}")
    labels = {p.id: p.label for p in (*s.parameters, *s.uncertainties)}
    parts += [f"{labels.get(k, k)} = {v:.4g}" for k, v in fixed.items()]
    return "; ".join(parts) or "defaults"


def defaults_line(s: Scenario) -> str:
    """The lever defaults every row not naming a lever keeps, by name."""
    defaults = lever_defaults(s)
    parts = []
    for lever in s.levers:
        option = next(o for o in lever.options if o.id == defaults[lever.id])
        parts.append(f"{lever.label}: {option.name or option.id}")
    return "defaults: " + "; ".join(parts) if parts else ""


@dataclass(frozen=True)
class Row:
    """One lens × configuration: its names and its outcome summaries, in the scenario's order."""

    lens: str
    setting: str
    summaries: Sequence[OutcomeSummary]


def rows_of(
    s: Scenario, rows: Sequence[tuple[str, dict[str, Any], list[OutcomeSummary]]]
) -> list[Row]:
    """The stored design points (``runner.stored_summaries``) as named rows, grouped by lens in
    the order lenses first appear."""
    defaults = lever_defaults(s)
    lens_names = {lens.id: lens.label for lens in s.lenses}
    named = [
        Row(
            lens_names.get(point["lens"], point["lens"]) if point["lens"] else "",
            setting_name(s, point["levers"], defaults, point.get("fixed", {})),
            summ,
        )
        for _, point, summ in rows
    ]
    order = list(dict.fromkeys(r.lens for r in named))
    return sorted(named, key=lambda r: order.index(r.lens))


#: what a column adds to its text: one space of padding each side and its left border
COLUMN_EXTRA = 3


def _name_widths(naturals: Sequence[int], room: int, least: int = NAME_WIDTH) -> list[int] | None:
    """Widths for columns of names whose longest lines are ``naturals``, within ``room``
    characters of text: each its natural width where all fit, else the room shared out with
    none under ``least`` (the names wrap); ``None`` when not even that fits."""
    if sum(naturals) <= room:
        return list(naturals)
    if least * len(naturals) > room:
        return None
    widths = [min(n, least) for n in naturals]
    spare = room - sum(widths)
    while spare > 0:  # one character at a time to the narrowest column still wrapping
        short = [i for i in range(len(widths)) if widths[i] < naturals[i]]
        if not short:
            break
        widths[min(short, key=lambda i: widths[i])] += 1
        spare -= 1
    return widths


@dataclass(frozen=True)
class _Layout:
    """A table's columns: each a header, its cells' texts and its width. The widths are set,
    not left to rich, which squeezes columns evenly and would cut numbers to fit."""

    headers: list[str]
    widths: list[int]


def _layout(
    names: list[tuple[str, list[str]]],
    numbers: list[tuple[str, list[str]]],
    width: int,
    least: int = NAME_WIDTH,
) -> _Layout | None:
    """Widths for ``names`` columns (header, texts; they wrap) beside ``numbers`` columns (each
    as wide as its longest number; headers wrap at words), within ``width``; ``None`` when the
    numbers and the narrowest names do not fit."""
    number_widths = [max(len(t) for t in texts) for _, texts in numbers]
    room = width - 1 - COLUMN_EXTRA * (len(names) + len(numbers)) - sum(number_widths)
    naturals = [max(len(h), *(len(t) for t in texts)) for h, texts in names]
    name_widths = _name_widths(naturals, room, least)
    if name_widths is None:
        return None
    headers = [h for h, _ in names] + [h for h, _ in numbers]
    return _Layout(headers, name_widths + number_widths)


def _plain(text: str) -> Text:
    """Scenario text for a table (names of outcomes, lenses, levers and their options), shown as
    written: never read as rich markup, where ``[/]`` would crash and ``[ends]`` vanish."""
    return Text(text)


def _title(text: str | None) -> Text | None:
    """A table's title, as :func:`_plain`; none where it has none."""
    return None if text is None else Text(text)


def _table(layout: _Layout, title: str | None) -> Table:
    table = Table(title=_title(title), title_justify="left")
    for header, w in zip(layout.headers, layout.widths, strict=True):
        table.add_column(_plain(header), width=w, overflow="fold", vertical="top")
    return table


def _wide(
    rows: Sequence[Row], columns: Sequence[int], with_lens: bool, title: str | None, width: int
) -> Table | None:
    """Rows of lens × configuration, a column per outcome of ``columns`` (indices); ``None``
    when they do not fit ``width``."""
    names = ([("lens", [r.lens for r in rows])] if with_lens else []) + [
        ("levers", [r.setting for r in rows])
    ]
    numbers = [(rows[0].summaries[j].name, [cell(r.summaries[j]) for r in rows]) for j in columns]
    layout = _layout(names, numbers, width)
    if layout is None:
        return None
    table = _table(layout, title)
    for i, r in enumerate(rows):
        first = i == 0 or rows[i - 1].lens != r.lens
        last = i == len(rows) - 1 or rows[i + 1].lens != r.lens
        row = ([r.lens if first else ""] if with_lens else []) + [r.setting]
        table.add_row(
            *map(_plain, row),
            *(texts[i] for _, texts in numbers),
            end_section=last and with_lens,
        )
    return table


def _long(rows: Sequence[Row], title: str | None, width: int) -> Table:
    """A row per configuration × outcome of one lens (for a console too narrow for columns)."""
    outcomes = [x.name for x in rows[0].summaries]
    names = [("levers", [r.setting for r in rows]), ("outcome", outcomes)]
    texts = [[cell(x) for x in r.summaries] for r in rows]
    numbers = [("% of runs (95% interval)", [t for text in texts for t in text])]
    layout = _layout(names, numbers, width) or _layout(names, numbers, width, NAME_WIDTH // 2)
    if layout is None:  # narrower than any layout: rich's own squeezing, folded, not cut
        table = Table(title=_title(title), title_justify="left")
        for header, _ in [*names, *numbers]:
            table.add_column(_plain(header), overflow="fold", vertical="top")
    else:
        table = _table(layout, title)
    for r, text in zip(rows, texts, strict=True):
        for j, (outcome, t) in enumerate(zip(outcomes, text, strict=True)):
            table.add_row(
                _plain(r.setting if j == 0 else ""),
                _plain(outcome),
                t,
                end_section=j == len(text) - 1,
            )
    return table


def _long_tables(rows: Sequence[Row], lenses: Sequence[str], width: int) -> list[Table]:
    """The long format: a table per lens, titled with its name."""
    return [
        _long([r for r in rows if r.lens == lens], f"lens: {lens}" if lens else None, width)
        for lens in lenses
    ]


def outcome_tables(
    s: Scenario,
    rows: Sequence[tuple[str, dict[str, Any], list[OutcomeSummary]]],
    width: int,
) -> list[Table]:
    """The tables that show every outcome of every lens × configuration within ``width``
    columns: one table when every outcome fits as a column; the outcomes split over several
    tables (each with the rows' names) when at least two fit beside the names; else a table per
    lens with a row per configuration × outcome (the long format)."""
    named = rows_of(s, rows)
    if not named:
        return []
    lenses = list(dict.fromkeys(r.lens for r in named))
    with_lens = len(lenses) > 1
    title = None if with_lens or not lenses[0] else f"lens: {lenses[0]}"
    n = len(named[0].summaries)

    def wide(columns: list[int]) -> Table | None:
        return _wide(named, columns, with_lens, title, width)

    groups: list[list[int]] = []
    for j in range(n):
        if groups and wide([*groups[-1], j]) is not None:
            groups[-1].append(j)
        else:
            groups.append([j])
    tables = [wide(group) for group in groups]
    if len(groups[0]) < min(2, n) or None in tables:
        return _long_tables(named, lenses, width)
    return [t for t in tables if t is not None]


def print_outcome_tables(
    console: Console,
    s: Scenario,
    rows: Sequence[tuple[str, dict[str, Any], list[OutcomeSummary]]],
    title: str,
) -> None:
    """Print :func:`outcome_tables` under ``title``, saying when the outcomes were split to fit,
    and the lever defaults by name."""
    console.print(Text.assemble((title, "bold"), " — % of runs (95% interval)"))
    tables = outcome_tables(s, rows, console.width)
    long = any(str(c.header) == "outcome" for c in tables[0].columns) if tables else False
    if len(tables) > 1 and not long:  # outcomes split over tables (not a table per lens)
        console.print(
            f"(the {len(s.outcomes)} outcomes in {len(tables)} tables, to fit "
            f"{console.width} columns)",
            style="dim",
        )
    for table in tables:
        console.print(table)
    line = defaults_line(s)
    if line:
        console.print(line, markup=False)
