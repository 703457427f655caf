"""The assumptions register: every tunable number in a scenario with its value and support.

Each row says what the value is and which of four kinds of support it has (:data:`KINDS`):

- **stated**: a source states the number — a cited quote contains it, as the evidence item's
  ``states`` declares and validation checks against the quote's text;
- **qualitative**: a source supports the quantity qualitatively — a cited quote, with the
  reasoning from quote to number in the element's ``assumption``;
- **assumption**: no source, or a source for the mechanism but not its numbers (the element says
  ``numbers: assumption``), with a stated reason;
- **unsupported**: neither, so that gaps are visible.

Each citation carries its source's bibliographic record where the scenario has one (``sources``),
so that wherever a quote is shown its title, author and date can be.

Besides parameters, initial values, probabilities, credibility, distributions, lenses and levers,
the register lists the numbers of the decision-makers that drive results: each logit actor's
``lambda``, preference ``weights``, ``escalation_cost`` and ``perception_noise``, each red line's
``cost``, and the ``escalation`` score of each action a logit actor may choose (its given score,
or the one its rung implies). A value written as an expression is shown as its text. Numbers the
engine never reads are left out: the decision parameters of doctrine and scripted actors, and the
escalation of actions only rules perform (``requires: "false"``) or only non-logit actors take.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from redline.scenario.ladders import builtin_ladder
from redline.scenario.model import (
    Action,
    Actor,
    Element,
    EvidenceItem,
    EvidenceRef,
    Lens,
    Lever,
    RedLine,
    Scenario,
    SourceRecord,
    Uncertainty,
)
from redline.scenario.sources import find_record, reference, states_value

#: how a register row's value is supported, strongest first
Kind = Literal["stated", "qualitative", "assumption", "unsupported"]
KINDS: tuple[Kind, ...] = ("stated", "qualitative", "assumption", "unsupported")


@dataclass(frozen=True)
class Citation:
    """A quote behind a value: its source as the evidence names it, the quote, what it is said to
    support, the source's bibliographic record (None for free text naming a public record) and
    the numbers the quote states."""

    source: str
    quote: str
    supports: str | None
    record: SourceRecord | None = None
    states: tuple[float | str, ...] = ()

    @property
    def reference(self) -> str:
        """The source as a reader is told it: author, “title”, publisher, date from its record,
        else the free text as written."""
        return reference(self.record) if self.record is not None else self.source

    def states_number(self, value: float) -> bool:
        """Whether the quote states ``value`` (one of its declared, checked ``states``)."""
        return states_value(self.states, value)


def _number(value: str) -> float | None:
    """A register value that is one plain number, else None (expressions, distributions and
    computed defaults are never stated by a source)."""
    try:
        return float(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class RegisterRow:
    """One parameter of the scenario and what supports its value."""

    element: str  # e.g. "red_lines.no_tanks"
    name: str  # e.g. "credibility.decay"
    value: str
    citations: tuple[Citation, ...]
    assumption: str | None
    #: the element declares its numbers assumptions (``numbers: assumption``): its quotes show
    #: the mechanism, not the number
    assumed: bool = False

    @property
    def kind(self) -> Kind:
        """Stated (a cited quote states this very number), qualitative (cited quotes support
        it), an assumption (a reason, and no source or one the element says backs the mechanism
        only) or unsupported."""
        if self.citations:
            number = _number(self.value)
            if number is not None and any(c.states_number(number) for c in self.citations):
                return "stated"
            if not (self.assumed and self.assumption):
                return "qualitative"
        return "assumption" if self.assumption else "unsupported"

    @property
    def status(self) -> str:
        """Whether the value is cited (stated or qualitative), an assumption or unsupported: its
        :attr:`kind` with the two cited kinds together."""
        return "cited" if self.kind in ("stated", "qualitative") else self.kind

    @property
    def reasoning(self) -> str | None:
        """For a qualitatively supported value, the reasoning from quote to number (the
        element's stated assumption); None where it has none or the value is of another kind."""
        return self.assumption if self.kind == "qualitative" else None


def kind_counts(rows: Iterable[RegisterRow]) -> dict[Kind, int]:
    """How many rows are of each kind, in the order of :data:`KINDS`."""
    counts: dict[Kind, int] = dict.fromkeys(KINDS, 0)
    for row in rows:
        counts[row.kind] += 1
    return counts


def counts_line(rows: Iterable[RegisterRow]) -> str:
    """The register's counts in one sentence, as ``explain`` and ``validate`` say them: how many
    values a source states, supports with a quote (and how many of those give the reasoning from
    quote to number), rest on an assumption alone, or have no support."""
    rows = list(rows)
    counts = kind_counts(rows)
    reasoned = sum(r.reasoning is not None for r in rows)
    plural = "s" if counts["assumption"] != 1 else ""
    return (
        f"{len(rows)} values: {counts['stated']} stated by a source (the number is in the "
        f"quote), {counts['qualitative']} supported by a quote ({reasoned} with the reasoning from "
        f"quote to number), {counts['assumption']} assumption{plural} (no source for the number), "
        f"{counts['unsupported']} unsupported"
    )


#: how many unsupported values a warning names
_NAMED = 5


def unsupported_warning(file: str, rows: Iterable[RegisterRow]) -> str | None:
    """``validate``'s warning about values with neither a source nor a stated assumption: how
    many, and the first few by element and name; None when there are none."""
    missing = [r for r in rows if r.kind == "unsupported"]
    return _warning(
        file,
        missing,
        "without support (no evidence, no assumption)",
        f"`redline explain {file} --full` lists the register",
    )


def unreasoned_warning(file: str, rows: Iterable[RegisterRow]) -> str | None:
    """``validate``'s warning about values a quote supports qualitatively without the reasoning
    from quote to number (no ``assumption`` on the element): how many, and the first few by
    element and name; None when every such value gives its reasoning."""
    missing = [r for r in rows if r.kind == "qualitative" and not (r.assumption or "").strip()]
    return _warning(
        file,
        missing,
        "supported by a quote without the reasoning from quote to number (no assumption on "
        "the element)",
        "give it as the element's `assumption`, or say `numbers: assumption` if the quote does "
        "not support the number",
    )


def _warning(file: str, missing: list[RegisterRow], what: str, then: str) -> str | None:
    """``FILE: warning: N values WHAT: the first few by element and name; THEN``, or None."""
    if not missing:
        return None
    n = len(missing)
    named = ", ".join(f"{r.element} {r.name}" for r in missing[:_NAMED])
    more = f" and {n - _NAMED} more" if n > _NAMED else ""
    return f"{file}: warning: {n} value{'s' if n != 1 else ''} {what}: {named}{more}; {then}"


def _describe_dist(dist: object) -> str:
    fields = {k: v for k, v in vars(dist).items() if k != "kind"}
    inner = ", ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
    return f"{getattr(dist, 'kind', '?')}({inner})"


def resolve_evidence(scenario: Scenario, refs: list[EvidenceRef]) -> tuple[Citation, ...]:
    """Inline citations and references to the top-level ``evidence`` list, as citations."""
    by_id = {e.id: e for e in scenario.evidence if e.id}
    items: list[EvidenceItem] = []
    for ref in refs:
        if isinstance(ref, str):
            if ref in by_id:
                items.append(by_id[ref])
        else:
            items.append(ref)
    return tuple(
        Citation(
            i.source, i.quote, i.supports, find_record(scenario.sources, i.source), (*i.states,)
        )
        for i in items
    )


def _shown(value: float | str) -> str:
    """A number as written, or an expression's text on one line."""
    return " ".join(value.split()) if isinstance(value, str) else str(value)


def _logit_actors(scenario: Scenario) -> set[str]:
    return {a.id for a in scenario.actors if a.decision.kind == "logit"}


def _default_escalation(scenario: Scenario, action: Action) -> str:
    """The escalation score an action without one gets: its rung's position on the ladder (as the
    compiler computes it), or a description where the ladder or rung cannot be resolved."""
    try:
        if isinstance(scenario.ladder, str):
            ladder = builtin_ladder(scenario.ladder)
            rungs = len(ladder)
            position = -1 if action.level is None else ladder.index(action.level)
        else:
            rungs = len(scenario.ladder)
            ids = [r.id for r in scenario.ladder]
            if action.level is None:
                position = -1
            elif isinstance(action.level, int):
                position = action.level - 1
            else:
                position = ids.index(action.level)
    except (KeyError, ValueError):
        return "(its rung's position on the ladder)"
    value = max(position, 0) / max(rungs - 1, 1)
    return f"{round(value, 4)} (its rung's position on the ladder)"


def _values(element: Element, scenario: Scenario) -> Iterator[tuple[str, str]]:
    if isinstance(element, Actor):
        d = element.decision
        if d.kind != "logit":
            return
        yield ("decision.lambda", _shown(d.rationality))
        for var, weight in d.weights.items():
            yield (f"decision.weights.{var}", _shown(weight))
        yield ("decision.escalation_cost", _shown(d.escalation_cost))
        yield ("decision.perception_noise", _shown(d.perception_noise))
        return
    if isinstance(element, Action):
        choosers = _logit_actors(scenario) & set(element.actors)
        if not choosers or element.requires.strip() == "false":
            return
        if element.escalation is not None:
            yield ("escalation", str(element.escalation))
        else:
            yield ("escalation", _default_escalation(scenario, element))
        return
    if isinstance(element, RedLine):
        c = element.credibility
        yield from (
            ("credibility.initial", str(c.initial)),
            ("credibility.rise", str(c.rise)),
            ("credibility.decay", str(c.decay)),
            ("credibility.spillover", str(c.spillover)),
        )
        if element.enforce is not None:
            yield ("enforce", _shown(element.enforce))
        if element.cost is not None:
            yield ("cost", _shown(element.cost))
        return
    if isinstance(element, Uncertainty):
        yield ("distribution", _describe_dist(element.distribution))
        return
    if isinstance(element, Lens):
        for name, value in element.set.items():
            shown = str(value) if isinstance(value, float | int) else _describe_dist(value)
            yield (name, shown)
        return
    for key in ("value", "initial", "probability", "invocation"):
        if key in type(element).model_fields:
            yield (key, _shown(getattr(element, key)))


def register(scenario: Scenario) -> list[RegisterRow]:
    """Rows for every logit actor's decision parameters, parameter, uncertainty, variable, choosable
    action's escalation, red line, doctrine, scheduled event, rule, lens, clause and lever."""
    rows: list[RegisterRow] = []

    def add(section: str, element: Element) -> None:
        cites = resolve_evidence(scenario, element.evidence)
        for name, value in _values(element, scenario):
            rows.append(
                RegisterRow(
                    f"{section}.{element.id}",
                    name,
                    value,
                    cites,
                    element.assumption,
                    element.numbers == "assumption",
                )
            )

    for section in (
        "actors",
        "parameters",
        "uncertainties",
        "variables",
        "actions",
        "red_lines",
        "doctrines",
        "schedule",
        "rules",
        "lenses",
    ):
        for element in getattr(scenario, section):
            add(section, element)
    for alliance in scenario.alliances:
        for clause in alliance.clauses:
            add(f"alliances.{alliance.id}.clauses", clause)
    for lever in scenario.levers:
        rows.extend(_lever_rows(scenario, lever))
    return rows


def _lever_rows(scenario: Scenario, lever: Lever) -> Iterator[RegisterRow]:
    for option in lever.options:
        cites = resolve_evidence(scenario, [*lever.evidence, *option.evidence])
        shown = ", ".join(f"{k}={v}" for k, v in option.set.items()) or "(no change)"
        yield RegisterRow(
            f"levers.{lever.id}",
            f"option {option.id}",
            shown,
            cites,
            lever.assumption,
            lever.numbers == "assumption",
        )


@dataclass(frozen=True)
class RegisterGroup:
    """The register rows of one element, with what supports them said once: the citations all
    its rows share (an element's evidence backs each of its numbers) and its assumption; each
    row keeps only the citations of its own (a lever option's)."""

    element: str
    citations: tuple[Citation, ...]
    assumption: str | None
    rows: tuple[tuple[RegisterRow, tuple[Citation, ...]], ...]


def register_groups(rows: Iterable[RegisterRow]) -> list[RegisterGroup]:
    """The register element by element, in order, each quote of an element shown once: the
    full register as ``explain --full`` prints it (a parameter does not repeat its element's
    quotes)."""
    by_element: dict[str, list[RegisterRow]] = {}
    for row in rows:
        by_element.setdefault(row.element, []).append(row)
    groups = []
    for element, members in by_element.items():
        shared = tuple(c for c in members[0].citations if all(c in m.citations for m in members))
        own = tuple((m, tuple(c for c in m.citations if c not in shared)) for m in members)
        assumption = members[0].assumption
        groups.append(RegisterGroup(element, shared, assumption, own))
    return groups


@dataclass(frozen=True)
class QuoteUse:
    """One quote of the scenario and where it is cited: the elements whose numbers it supports
    and how many values those are."""

    citation: Citation
    elements: tuple[str, ...]
    values: int


def quote_uses(rows: Iterable[RegisterRow]) -> list[QuoteUse]:
    """Each distinct quote behind the register once, grouped by source (sources in order of
    first citation, quotes in order within each), with the elements citing it."""
    elements: dict[tuple[str, str], list[str]] = {}
    values: dict[tuple[str, str], int] = {}
    first: dict[tuple[str, str], Citation] = {}
    for row in rows:
        for c in row.citations:
            key = (c.reference, c.quote)
            first.setdefault(key, c)
            cited = elements.setdefault(key, [])
            if row.element not in cited:
                cited.append(row.element)
            values[key] = values.get(key, 0) + 1
    order = {ref: i for i, ref in enumerate(dict.fromkeys(ref for ref, _ in first))}
    keys = sorted(first, key=lambda k: order[k[0]])  # stable: quotes keep their order
    return [QuoteUse(first[k], tuple(elements[k]), values[k]) for k in keys]
