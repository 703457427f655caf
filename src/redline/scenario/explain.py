"""A readable summary of a scenario, ending with its assumptions register."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from redline.scenario.model import Scenario
from redline.scenario.register import register


def _num(value: object) -> str:
    return str(value)


def explain(s: Scenario, console: Console) -> None:
    """Print actors, alliances and clauses, red lines, doctrines, schedule, levers, lenses,
    outcomes and the assumptions register."""
    start = f" from {s.time.start}" if s.time.start else ""
    console.print(
        f"[bold]{s.title}[/] ({s.id}) — {s.time.horizon} {s.time.step}s{start}, "
        f"ladder: {s.ladder if isinstance(s.ladder, str) else 'inline'}"
    )
    if s.description:
        console.print(s.description.strip(), markup=False)

    actors = Table("actor", "name", "decides by", "nuclear", title="Actors")
    for a in s.actors:
        d = a.decision
        how = d.kind if d.kind != "logit" else f"logit (λ={d.rationality})"
        actors.add_row(a.id, a.label, how, "yes" if a.nuclear else "")
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
            table.add_row(
                f"[bold]{al.id}[/]", f"{len(al.members)} members", ", ".join(al.members), "", ""
            )
            for c in al.clauses:
                table.add_row(f"  {c.id}", c.kind, c.trigger, _num(c.invocation), c.response or "—")
        console.print(table)

    if s.red_lines:
        table = Table(
            "red line", "owner", "crossed by", "response", "credibility", title="Red lines"
        )
        for r in s.red_lines:
            c = r.credibility
            table.add_row(
                r.label,
                r.owner,
                r.crossing,
                r.response,
                f"{c.initial} (rise {c.rise}, decay {c.decay}, spill {c.spillover})",
            )
        console.print(table)

    if s.doctrines:
        table = Table("doctrine", "actor", "when", "action", "probability", title="Doctrines")
        for d in s.doctrines:
            table.add_row(d.label, d.actor, d.when, d.action, _num(d.probability))
        console.print(table)

    if s.schedule:
        table = Table("event", "kind", "when", "probability", "changes", title="Schedule")
        for e in s.schedule:
            at = str(e.at) if e.at is not None else f"step {e.step}"
            changes = ", ".join(f"{k} += {v}" for k, v in e.effects.items())
            table.add_row(e.label, e.kind, at, _num(e.probability), changes)
        console.print(table)

    if s.levers:
        table = Table("lever", "option", "sets", title="Levers")
        for lever in s.levers:
            for i, o in enumerate(lever.options):
                sets = ", ".join(f"{k}={v}" for k, v in o.set.items()) or "(no change)"
                table.add_row(lever.label if i == 0 else "", o.id, sets)
        console.print(table)

    if s.lenses:
        table = Table("lens", "sets", title="Lenses")
        for lens in s.lenses:
            table.add_row(lens.label, ", ".join(f"{k}={v}" for k, v in lens.set.items()))
        console.print(table)

    if s.outcomes:
        table = Table("outcome", "when", "ends the run", title="Outcomes")
        for o in s.outcomes:
            table.add_row(o.label, o.when, "yes" if o.absorbing else "")
        console.print(table)

    rows = register(s)
    table = Table("element", "parameter", "value", "support", title="Assumptions register")
    for row in rows:
        if row.citations:
            support = "\n".join(f"{c.source}: “{c.quote}”" for c in row.citations)
        elif row.assumption:
            support = f"[yellow]assumption:[/] {row.assumption}"
        else:
            support = "[red]unsupported[/]"
        table.add_row(row.element, row.name, row.value, support)
    console.print(table)
    counts = {k: sum(r.status == k for r in rows) for k in ("cited", "assumption", "unsupported")}
    console.print(
        f"{counts['cited']} cited, {counts['assumption']} marked as assumptions, "
        f"{counts['unsupported']} unsupported"
    )
