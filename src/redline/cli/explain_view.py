"""``redline explain`` on the terminal: a scenario's explanation as rich tables."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from redline.scenario.explain import Explanation, Section
from redline.scenario.register import (
    Citation,
    QuoteUse,
    counts_line,
    quote_uses,
    register_groups,
)


def _row(table: Table, *cells: str | Text) -> None:
    """Add a row; scenario text is shown as written, never read as rich markup (a name such as
    ``"[/]"`` would otherwise break the output)."""
    table.add_row(*(Text(cell) if isinstance(cell, str) else cell for cell in cells))


def _table(section: Section) -> Table:
    table = Table(*section.columns, title=section.title)
    for row in section.rows:
        first, *rest = row.cells
        _row(table, Text(first, style="bold") if row.group else first, *rest)
    return table


#: the colour of each kind of support
_KIND_STYLE = {
    "stated": "green",
    "qualitative": "cyan",
    "assumption": "yellow",
    "unsupported": "red",
}


#: the number of each quote in the evidence list, by (source, quote)
Numbers = dict[tuple[str, str], int]


def _refs(citations: tuple[Citation, ...], numbers: Numbers) -> str:
    """``quotes 3, 7``: citations by their numbers in the evidence list."""
    shown = ", ".join(str(n) for n in sorted(numbers[(c.reference, c.quote)] for c in citations))
    return f"quote{'s' if len(citations) != 1 else ''} {shown}"


def _support(
    kind: str,
    citations: tuple[Citation, ...],
    assumption: str | None,
    reasoned: bool,
    numbers: Numbers,
) -> Text:
    """The kind of support (stated, qualitative, assumption, unsupported; empty for a group's
    heading), the quotes behind a value by their numbers in the evidence list, and the
    reasoning from quote to number or the stated assumption. ``reasoned``: whether the kind
    needs reasoning (qualitative)."""
    style = _KIND_STYLE.get(kind, "")
    if not citations:
        if assumption:
            return Text.assemble((f"{kind or 'assumption'}:", style), f" {assumption}")
        return Text(kind, style=style)
    support = Text(f"{kind} · " if kind else "", style=style)
    support.append(_refs(citations, numbers))
    if assumption:
        # a quote that shows the mechanism but not the number: the number is an assumption
        label = "assumption (not in the quote):" if kind == "assumption" else "reasoning:"
        support.append_text(Text.assemble("\n", (label, "yellow"), f" {assumption}"))
    elif reasoned:
        support.append_text(Text("\nno reasoning from quote to number given", style="red"))
    return support


def _register_table(x: Explanation, numbers: Numbers) -> Table:
    """The full register, element by element: an element's quotes (by number) and reasoning
    once, on its first row; each parameter's value and kind of support, with any quote of its
    own."""
    table = Table(title="Assumptions register")
    table.add_column("element / parameter", ratio=3)
    table.add_column("value", ratio=2)
    table.add_column("support", ratio=5)
    for group in register_groups(x.register):
        rows = group.rows
        if len(rows) == 1:
            row, own = rows[0]
            label = Text.assemble((group.element, "bold"), f" {row.name}")
            support = _support(row.kind, group.citations + own, row.assumption, True, numbers)
            _row(table, label, row.value, support)
            continue
        reasoned = any(row.kind == "qualitative" for row, _ in rows)
        heading = _support("", group.citations, group.assumption, reasoned, numbers)
        _row(table, Text(group.element, style="bold"), "", heading)
        for row, own in rows:
            support = Text(row.kind, style=_KIND_STYLE[row.kind])
            if own:
                support.append(" · " + _refs(own, numbers))
            _row(table, f"  {row.name}", row.value, support)
    return table


def _evidence(uses: list[QuoteUse], console: Console) -> None:
    """Each quote behind the register once, numbered, under its source, with what cites it."""
    if not uses:
        return
    sources = list(dict.fromkeys(u.citation.reference for u in uses))
    console.print(
        Text(
            f"Evidence: {counted(len(uses), 'quote')} from {counted(len(sources), 'source')}, "
            "each once",
            style="bold",
        )
    )
    current = None
    for number, use in enumerate(uses, start=1):
        c = use.citation
        if c.reference != current:
            current = c.reference
            public = "" if c.record is not None else " (public record, no entry in sources)"
            console.print(Text(f"{c.reference}{public}", style="cyan"))
        cited = ", ".join(use.elements[:_CITERS])
        if len(use.elements) > _CITERS:
            cited += f" and {len(use.elements) - _CITERS} more"
        line = Text(f"  {number}. “{c.quote}”")
        line.append(f" — {counted(use.values, 'value')}: {cited}", style="dim")
        console.print(line)


#: how many citing elements a quote of the evidence list names
_CITERS = 4


def counted(n: int, noun: str) -> str:
    """``1 quote``, ``3 quotes``."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def show_explanation(x: Explanation, console: Console, full: bool = False) -> None:
    """Print the heading, each section's table, the evidence (each quote once, numbered, under
    its source, with what cites it), with ``full`` the whole assumptions register (quotes by
    their numbers), and the register's counts."""
    start = f" from {x.start}" if x.start else ""
    console.print(
        Text.assemble(
            (x.title, "bold"), f" ({x.id}) — {x.horizon} {x.step}s{start}, ladder: {x.ladder}"
        )
    )
    if x.description:
        console.print(x.description, markup=False)
    for section in x.sections:
        console.print(_table(section))
    uses = quote_uses(x.register)
    _evidence(uses, console)
    if full:
        numbers = {(u.citation.reference, u.citation.quote): i for i, u in enumerate(uses, 1)}
        console.print(_register_table(x, numbers))
    console.print(f"Register: {counts_line(x.register)}", markup=False, highlight=False)
    if x.free_text:
        n = len(x.free_text)
        console.print(
            f"{n} source{'s' if n != 1 else ''} named in free text (public records without an "
            "entry in sources)",
            markup=False,
            highlight=False,
        )
    if not full:
        console.print(
            f"`redline explain {x.id} --full` lists every value with its support.",
            markup=False,
            highlight=False,
        )
