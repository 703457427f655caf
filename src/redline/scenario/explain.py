"""A readable summary of a scenario, ending with its assumptions register."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from redline.scenario.model import Scenario
from redline.scenario.register import register


def _num(value: object) -> str:
    return str(value)


def _row(table: Table, *cells: str | Text) -> None:
    """Add a row; scenario text is shown as written, never read as rich markup (a name such as
    ``"[/]"`` would otherwise break the output)."""
    table.add_row(*(Text(cell) if isinstance(cell, str) else cell for cell in cells))


def explain(s: Scenario, console: Console) -> None:
    """Print actors, alliances and clauses, red lines, doctrines, schedule, levers, lenses,
    outcomes and the assumptions register."""
    start = f" from {s.time.start}" if s.time.start else ""
    console.print(
        f"[bold]{escape(s.title)}[/] ({s.id}) — {s.time.horizon} {s.time.step}s{start}, "
        f"ladder: {escape(s.ladder) if isinstance(s.ladder, str) else 'inline'}"
    )
    if s.description:
        console.print(s.description.strip(), markup=False)

    actors = Table("actor", "name", "decides by", "nuclear", title="Actors")
    for a in s.actors:
        decision = a.decision
        how = decision.kind if decision.kind != "logit" else f"logit (λ={decision.rationality})"
        _row(actors, a.id, a.label, how, "yes" if a.nuclear else "")
    console.print(actors)

    if s.alliances:
        table = Table(
            "alliance / clause",
            "kind",
            "trigger",
            "invocation",
            "response",
            title="Alliances and treaty clauses",
        )
        for al in s.alliances:
            _row(
                table,
                Text(al.id, style="bold"),
                f"{len(al.members)} members",
                ", ".join(al.members),
                "",
                "",
            )
            for clause in al.clauses:
                _row(
                    table,
                    f"  {clause.id}",
                    clause.kind,
                    clause.trigger,
                    _num(clause.invocation),
                    clause.response or "—",
                )
        console.print(table)

    if s.red_lines:
        table = Table(
            "red line", "owner", "crossed by", "response", "credibility", title="Red lines"
        )
        for r in s.red_lines:
            c = r.credibility
            _row(
                table,
                r.label,
                r.owner,
                r.crossing,
                r.response,
                f"{c.initial} (rise {c.rise}, decay {c.decay}, spill {c.spillover})",
            )
        console.print(table)

    if s.doctrines:
        table = Table("doctrine", "actor", "when", "action", "probability", title="Doctrines")
        for doctrine in s.doctrines:
            _row(
                table,
                doctrine.label,
                doctrine.actor,
                doctrine.when,
                doctrine.action,
                _num(doctrine.probability),
            )
        console.print(table)

    if s.schedule:
        table = Table("event", "kind", "when", "probability", "changes", title="Schedule")
        for e in s.schedule:
            at = str(e.at) if e.at is not None else f"step {e.step}"
            changes = ", ".join(f"{k} += {v}" for k, v in e.effects.items())
            _row(table, e.label, e.kind, at, _num(e.probability), changes)
        console.print(table)

    if s.levers:
        table = Table("lever", "option", "sets", title="Levers")
        for lever in s.levers:
            for i, option in enumerate(lever.options):
                sets = ", ".join(f"{k}={v}" for k, v in option.set.items()) or "(no change)"
                _row(table, lever.label if i == 0 else "", option.id, sets)
        console.print(table)

    if s.lenses:
        table = Table("lens", "sets", title="Lenses")
        for lens in s.lenses:
            _row(table, lens.label, ", ".join(f"{k}={v}" for k, v in lens.set.items()))
        console.print(table)

    if s.outcomes:
        table = Table("outcome", "when", "ends the run", title="Outcomes")
        for outcome in s.outcomes:
            _row(table, outcome.label, outcome.when, "yes" if outcome.absorbing else "")
        console.print(table)

    rows = register(s)
    table = Table("element", "parameter", "value", "support", title="Assumptions register")
    for row in rows:
        if row.citations:
            support = Text("\n".join(f"{c.source}: “{c.quote}”" for c in row.citations))
            if row.assumption:  # the stated reason for the number, beside the sources
                support.append_text(
                    Text.assemble("\n", ("assumption:", "yellow"), f" {row.assumption}")
                )
        elif row.assumption:
            support = Text.assemble(("assumption:", "yellow"), f" {row.assumption}")
        else:
            support = Text("unsupported", style="red")
        _row(table, row.element, row.name, row.value, support)
    console.print(table)
    counts = {k: sum(r.status == k for r in rows) for k in ("cited", "assumption", "unsupported")}
    console.print(
        f"{counts['cited']} cited, {counts['assumption']} marked as assumptions, "
        f"{counts['unsupported']} unsupported"
    )
