"""``redline explain`` on the terminal: a scenario's explanation as rich tables."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from redline.scenario.explain import Explanation, Section
from redline.scenario.register import RegisterRow


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


def _support(row: RegisterRow) -> Text:
    """The sources' quotes behind a value, its stated assumption, or a warning that it has
    neither."""
    if row.citations:
        support = Text("\n".join(f"{c.source}: “{c.quote}”" for c in row.citations))
        if row.assumption:  # the stated reason for the number, beside the sources
            support.append_text(
                Text.assemble("\n", ("assumption:", "yellow"), f" {row.assumption}")
            )
        return support
    if row.assumption:
        return Text.assemble(("assumption:", "yellow"), f" {row.assumption}")
    return Text("unsupported", style="red")


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
    counts = x.counts
    console.print(
        f"{counts['cited']} cited, {counts['assumption']} marked as assumptions, "
        f"{counts['unsupported']} unsupported"
    )
