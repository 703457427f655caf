"""What ``redline explain`` says about a scenario, as plain data: a heading, a table per section
(actors, alliances and treaty clauses, red lines, doctrines, schedule, levers, lenses, outcomes,
the record and published forecasts, the sources with their bibliographic records) and the
assumptions register, whose rows say how each number is supported. Showing it is the command
line's business; :func:`explanation_json` gives the same as JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redline.scenario.model import Scenario, SourceRecord
from redline.scenario.record import outcome_ids, timing
from redline.scenario.register import Citation, Kind, RegisterRow, kind_counts, register
from redline.scenario.sources import find_record, shown_date
from redline.scenario.validate import evidence_items


@dataclass(frozen=True)
class Row:
    """One row of a section; a ``group`` row heads the rows under it (an alliance above its
    treaty clauses)."""

    cells: tuple[str, ...]
    group: bool = False


@dataclass(frozen=True)
class Section:
    """One table: its title, its column headings and its rows (scenario text as written)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Explanation:
    """A scenario summarised: heading facts, sections (only those the scenario has, Actors
    always) and the assumptions register."""

    id: str
    title: str
    horizon: int
    step: str
    start: str | None
    ladder: str  # the built-in ladder's name, or "inline"
    description: str
    sections: tuple[Section, ...]
    register: tuple[RegisterRow, ...]
    sources: tuple[SourceRecord, ...] = ()
    #: the free-text sources evidence names (public records without an entry in ``sources``)
    free_text: tuple[str, ...] = ()

    @property
    def counts(self) -> dict[Kind, int]:
        """How many register rows are stated by a source, supported by one qualitatively,
        assumptions and unsupported."""
        return kind_counts(self.register)


def _section(title: str, columns: tuple[str, ...], rows: list[Row]) -> Section:
    return Section(title, columns, tuple(rows))


def _rows(*rows: tuple[str, ...]) -> list[Row]:
    return [Row(cells) for cells in rows]


def explain(s: Scenario) -> Explanation:
    """Actors, alliances and clauses, red lines, doctrines, schedule, levers, lenses, outcomes
    and the assumptions register of a scenario."""
    sections = []
    columns: tuple[str, ...]
    actors = []
    for a in s.actors:
        decision = a.decision
        how = decision.kind if decision.kind != "logit" else f"logit (λ={decision.rationality})"
        actors.append((a.id, a.label, how, "yes" if a.nuclear else ""))
    sections.append(_section("Actors", ("actor", "name", "decides by", "nuclear"), _rows(*actors)))

    if s.alliances:
        rows = []
        for al in s.alliances:
            rows.append(
                Row((al.id, f"{len(al.members)} members", ", ".join(al.members), "", ""), True)
            )
            rows.extend(
                Row(
                    (
                        f"  {clause.id}",
                        clause.kind,
                        clause.trigger,
                        str(clause.invocation),
                        clause.response or "—",
                    )
                )
                for clause in al.clauses
            )
        columns = ("alliance / clause", "kind", "trigger", "invocation", "response")
        sections.append(_section("Alliances and treaty clauses", columns, rows))

    if s.red_lines:
        red_lines = []
        for r in s.red_lines:
            c = r.credibility
            credibility = f"{c.initial} (rise {c.rise}, decay {c.decay}, spill {c.spillover})"
            red_lines.append((r.label, r.owner, r.crossing, r.response, credibility))
        columns = ("red line", "owner", "crossed by", "response", "credibility")
        sections.append(_section("Red lines", columns, _rows(*red_lines)))

    if s.doctrines:
        doctrines = [(d.label, d.actor, d.when, d.action, str(d.probability)) for d in s.doctrines]
        columns = ("doctrine", "actor", "when", "action", "probability")
        sections.append(_section("Doctrines", columns, _rows(*doctrines)))

    if s.schedule:
        events = []
        for e in s.schedule:
            at = str(e.at) if e.at is not None else f"step {e.step}"
            changes = ", ".join(f"{k} += {v}" for k, v in e.effects.items())
            events.append((e.label, e.kind, at, str(e.probability), changes))
        columns = ("event", "kind", "when", "probability", "changes")
        sections.append(_section("Schedule", columns, _rows(*events)))

    if s.levers:
        options = []
        for lever in s.levers:
            for i, option in enumerate(lever.options):
                sets = ", ".join(f"{k}={v}" for k, v in option.set.items()) or "(no change)"
                options.append((lever.label if i == 0 else "", option.id, sets))
        sections.append(_section("Levers", ("lever", "option", "sets"), _rows(*options)))

    if s.lenses:
        lenses = [(x.label, ", ".join(f"{k}={v}" for k, v in x.set.items())) for x in s.lenses]
        sections.append(_section("Lenses", ("lens", "sets"), _rows(*lenses)))

    if s.outcomes:
        outcomes = [(o.label, o.when, "yes" if o.absorbing else "") for o in s.outcomes]
        columns = ("outcome", "when", "ends the run")
        sections.append(_section("Outcomes", columns, _rows(*outcomes)))

    if s.observations:
        facts = []
        for ob in s.observations:
            when = timing(ob)
            subject = ob.event or ob.variable or ob.action or ", ".join(outcome_ids(ob.outcome))
            if ob.actor is not None:
                subject = f"{ob.actor} {subject}"
            if ob.range is not None:
                subject += f" in [{ob.range[0]:g}, {ob.range[1]:g}]"
            shown = (
                ""
                if when is None
                else f"{when[0]} {when[1]}" + (f" – {when[2]}" if when[2] != when[1] else "")
            )
            facts.append((ob.label, subject, shown))
        sections.append(_section("Record", ("observation", "what", "when"), _rows(*facts)))

    if s.forecasts:
        said = []
        for f in s.forecasts:
            p = f"{f.probability:g}" if f.probability is not None else ""
            if f.range is not None:
                p = f"{f.range[0]:g}–{f.range[1]:g}"
            said.append((f.forecaster, str(f.made), f.question, p, f.resolved_by or ""))
        columns = ("forecaster", "made", "question", "probability", "resolved by")
        sections.append(_section("Published forecasts", columns, _rows(*said)))

    if s.sources:
        records = [
            (
                r.id,
                r.title,
                " · ".join(p for p in (r.author, r.publisher) if p) or "not stated",
                shown_date(r.date) or "not stated",
                r.url or (f"text: {r.file}" if r.file else ""),
            )
            for r in s.sources
        ]
        columns = ("source", "title", "author · publisher", "date", "where")
        sections.append(_section("Sources", columns, _rows(*records)))

    return Explanation(
        id=s.id,
        title=s.title,
        horizon=s.time.horizon,
        step=s.time.step,
        start=str(s.time.start) if s.time.start else None,
        ladder=s.ladder if isinstance(s.ladder, str) else "inline",
        description=(s.description or "").strip(),
        sections=tuple(sections),
        register=tuple(register(s)),
        sources=tuple(s.sources),
        free_text=_free_text(s),
    )


def _free_text(s: Scenario) -> tuple[str, ...]:
    """The distinct sources evidence names in words, with no record in ``sources``."""
    found = (i.source for _, i in evidence_items(s) if find_record(s.sources, i.source) is None)
    return tuple(dict.fromkeys(found))


def _record_json(record: SourceRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    data = record.model_dump(exclude_none=True)
    if "date" in data:
        data["date"] = str(record.date)
    return data


def _citation_json(c: Citation) -> dict[str, Any]:
    return {
        "source": c.source,
        "reference": c.reference,
        "record": _record_json(c.record),
        "quote": c.quote,
        "supports": c.supports,
        "states": list(c.states),
    }


def explanation_json(x: Explanation) -> dict[str, Any]:
    """The explanation as JSON-ready data: heading, sections, sources, the register (each row
    with its kind of support, the reasoning for a qualitative one, and its citations with their
    bibliographic records) and the counts of each kind."""
    return {
        "id": x.id,
        "title": x.title,
        "horizon": x.horizon,
        "step": x.step,
        "start": x.start,
        "ladder": x.ladder,
        "description": x.description,
        "sections": [
            {"title": s.title, "columns": list(s.columns), "rows": [list(r.cells) for r in s.rows]}
            for s in x.sections
        ],
        "sources": [_record_json(r) for r in x.sources],
        "free_text_sources": list(x.free_text),
        "register": [
            {
                "element": r.element,
                "name": r.name,
                "value": r.value,
                "kind": r.kind,
                "reasoning": r.reasoning,
                "assumption": r.assumption,
                "citations": [_citation_json(c) for c in r.citations],
            }
            for r in x.register
        ],
        "counts": dict(x.counts),
    }
