"""The assumptions register: every tunable number in a scenario with its value and support.

Each row says what the value is, and either which source backs it (with the quote) or that it is
an assumption (with the stated reason) — or, so that gaps are visible, that it has neither.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from redline.scenario.model import (
    Element,
    EvidenceItem,
    EvidenceRef,
    Lens,
    Lever,
    RedLine,
    Scenario,
    Uncertainty,
)


@dataclass(frozen=True)
class Citation:
    source: str
    quote: str
    supports: str | None


@dataclass(frozen=True)
class RegisterRow:
    """One parameter of the scenario and what supports its value."""

    element: str  # e.g. "red_lines.no_tanks"
    name: str  # e.g. "credibility.decay"
    value: str
    citations: tuple[Citation, ...]
    assumption: str | None

    @property
    def status(self) -> str:
        if self.citations:
            return "cited"
        return "assumption" if self.assumption else "unsupported"


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
    return tuple(Citation(i.source, i.quote, i.supports) for i in items)


def _values(element: Element) -> Iterator[tuple[str, str]]:
    if isinstance(element, RedLine):
        c = element.credibility
        yield from (
            ("credibility.initial", str(c.initial)),
            ("credibility.rise", str(c.rise)),
            ("credibility.decay", str(c.decay)),
            ("credibility.spillover", str(c.spillover)),
        )
        if element.enforce is not None:
            yield ("enforce", str(element.enforce))
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
            yield (key, str(getattr(element, key)))


def register(scenario: Scenario) -> list[RegisterRow]:
    """Rows for every parameter, uncertainty, variable, red line, doctrine, clause, lens, lever."""
    rows: list[RegisterRow] = []

    def add(section: str, element: Element) -> None:
        cites = resolve_evidence(scenario, element.evidence)
        for name, value in _values(element):
            rows.append(
                RegisterRow(f"{section}.{element.id}", name, value, cites, element.assumption)
            )

    for section in (
        "parameters",
        "uncertainties",
        "variables",
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
            f"levers.{lever.id}", f"option {option.id}", shown, cites, lever.assumption
        )
