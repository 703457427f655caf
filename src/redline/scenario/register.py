"""The assumptions register: every tunable number in a scenario with its value and support.

Each row says what the value is, and either which source backs it (with the quote) or that it is
an assumption (with the stated reason) — or, so that gaps are visible, that it has neither.

Besides parameters, initial values, probabilities, credibility, distributions, lenses and levers,
the register lists the numbers of the decision-makers that drive results: each logit actor's
``lambda``, preference ``weights``, ``escalation_cost`` and ``perception_noise``, each red line's
``cost``, and the ``escalation`` score of each action a logit actor may choose (its given score,
or the one its rung implies). A value written as an expression is shown as its text. Numbers the
engine never reads are left out: the decision parameters of doctrine and scripted actors, and the
escalation of actions only rules perform (``requires: "false"``) or only non-logit actors take.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

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
                RegisterRow(f"{section}.{element.id}", name, value, cites, element.assumption)
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
            f"levers.{lever.id}", f"option {option.id}", shown, cites, lever.assumption
        )
