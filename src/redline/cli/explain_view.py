"""``redline explain`` on the terminal: a scenario's explanation as rich tables."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from redline.scenario.explain import Explanation, Section
from redline.scenario.register import RegisterRow, counts_line


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


def _support(row: RegisterRow) -> Text:
    """The kind of support (stated, qualitative, assumption, unsupported), then the quotes
    behind a value (each with its source's author, title and date, or the free text naming a
    public record) and the reasoning from quote to number or the stated assumption."""
    style = _KIND_STYLE[row.kind]
    if not row.citations:
        if row.assumption:
            return Text.assemble((f"{row.kind}:", style), f" {row.assumption}")
        return Text("unsupported", style=style)
    support = Text(f"{row.kind} · ", style=style)
    for i, c in enumerate(row.citations):
        public = "" if c.record is not None else " (public record, no entry in sources)"
        support.append(("\n" if i else "") + f"{c.reference}{public}: “{c.quote}”")
    if row.assumption:
        support.append_text(Text.assemble("\n", ("reasoning:", "yellow"), f" {row.assumption}"))
    elif row.kind == "qualitative":
        support.append_text(Text("\nno reasoning from quote to number given", style="red"))
    return support


def show_explanation(x: Explanation, console: Console) -> None:
    """Print the heading, each section's table and the assumptions register with its counts."""
    start = f" from {x.start}" if x.start else ""
    console.print(
        f"[bold]{escape(x.title)}[/] ({x.id}) — {x.horizon} {x.step}s{start}, "
        f"ladder: {escape(x.ladder)}"
    )
    if x.description:
        console.print(x.description, markup=False)
    for section in x.sections:
        console.print(_table(section))
    table = Table("element", "parameter", "value", "support", title="Assumptions register")
    for row in x.register:
        _row(table, row.element, row.name, row.value, _support(row))
    console.print(table)
    console.print(f"Register: {counts_line(x.register)}", markup=False, highlight=False)
    if x.free_text:
        n = len(x.free_text)
        console.print(
            f"{n} source{'s' if n != 1 else ''} named in free text (public records without an "
            "entry in sources)",
            markup=False,
            highlight=False,
        )
