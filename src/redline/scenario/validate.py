"""Whole-scenario checks: references, duplicates, ranges and every expression.

Each check appends :class:`Issue` objects; nothing stops at the first problem, so a user sees
every mistake in one go.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from redline.scenario import symbols as sym
from redline.scenario.calendar import step_of
from redline.scenario.errors import Issue, suggest
from redline.scenario.expr import ExprError, Symbols, Type, check_source
from redline.scenario.expr.patterns import match_tags, validate_pattern
from redline.scenario.ladders import BUILTIN_LADDERS, builtin_ladder
from redline.scenario.model import Element, EvidenceRef, Scenario

if TYPE_CHECKING:
    from redline.scenario.loader import LoadedScenario

PathT = tuple[str | int, ...]
#: the top-level lists of elements with ids, in file order
ELEMENT_SECTIONS = (
    "actors",
    "alliances",
    "parameters",
    "variables",
    "actions",
    "red_lines",
    "doctrines",
    "schedule",
    "dynamics",
    "rules",
    "outcomes",
    "levers",
    "uncertainties",
    "lenses",
)

#: how one element of each section is called in messages
_SINGULAR = {
    "actors": "actor",
    "alliances": "alliance",
    "parameters": "parameter",
    "variables": "variable",
    "actions": "action",
    "red_lines": "red line",
    "doctrines": "doctrine",
    "schedule": "scheduled event",
    "dynamics": "dynamic",
    "rules": "rule",
    "outcomes": "outcome",
    "levers": "lever",
    "uncertainties": "uncertainty",
    "lenses": "lens",
    "evidence": "evidence",
}


@dataclass(frozen=True)
class ExprSite:
    """One expression in a scenario: where it is, its text, what type it must have, its scope."""

    path: PathT
    text: str
    expect: Type
    scope: str  # "static" (parameters only), "pre" (before decisions) or "post" (after them)


def _num(value: float | str) -> str | None:
    return value if isinstance(value, str) else None


def expression_sites(s: Scenario) -> Iterator[ExprSite]:
    """Every expression in the scenario with the type and scope it must be checked against."""
    n, b = Type.NUMBER, Type.BOOL
    for i, actor in enumerate(s.actors):
        d = actor.decision
        base: PathT = ("actors", i, "decision")
        for key, value in (
            ("lambda", d.rationality),
            ("escalation_cost", d.escalation_cost),
            ("perception_noise", d.perception_noise),
        ):
            if (text := _num(value)) is not None:
                yield ExprSite((*base, key), text, n, "pre")
        for weighed, weight in d.weights.items():
            if (text := _num(weight)) is not None:
                yield ExprSite((*base, "weights", weighed), text, n, "pre")
    for i, alliance in enumerate(s.alliances):
        for j, clause in enumerate(alliance.clauses):
            base = ("alliances", i, "clauses", j)
            trigger = sym.expand_members(clause.trigger, alliance.members)
            yield ExprSite((*base, "trigger"), trigger, b, "post")
            if (text := _num(clause.invocation)) is not None:
                yield ExprSite((*base, "invocation"), text, n, "post")
            yield from _effect_sites((*base, "effects"), clause.effects, "post")
    for i, var in enumerate(s.variables):
        if (text := _num(var.initial)) is not None:
            yield ExprSite(("variables", i, "initial"), text, n, "static")
    for i, action in enumerate(s.actions):
        yield ExprSite(("actions", i, "requires"), action.requires, b, "pre")
        yield from _effect_sites(("actions", i, "effects"), action.effects, "post")
    for i, red_line in enumerate(s.red_lines):
        base = ("red_lines", i)
        yield ExprSite((*base, "when"), red_line.when, b, "post")
        for key in ("enforce", "cost"):
            value = getattr(red_line, key)
            if value is not None and (text := _num(value)) is not None:
                yield ExprSite((*base, key), text, n, "post")
        for key in ("initial", "rise", "decay", "spillover"):
            if (text := _num(getattr(red_line.credibility, key))) is not None:
                scope = "static" if key == "initial" else "post"
                yield ExprSite((*base, "credibility", key), text, n, scope)
    for i, doctrine in enumerate(s.doctrines):
        yield ExprSite(("doctrines", i, "when"), doctrine.when, b, "post")
        if (text := _num(doctrine.probability)) is not None:
            yield ExprSite(("doctrines", i, "probability"), text, n, "post")
    for i, event in enumerate(s.schedule):
        yield ExprSite(("schedule", i, "when"), event.when, b, "pre")
        if (text := _num(event.probability)) is not None:
            yield ExprSite(("schedule", i, "probability"), text, n, "pre")
        yield from _effect_sites(("schedule", i, "effects"), event.effects, "pre")
    for i, dynamic in enumerate(s.dynamics):
        yield ExprSite(("dynamics", i, "value"), dynamic.value, n, "pre")
    for i, rule in enumerate(s.rules):
        yield ExprSite(("rules", i, "when"), rule.when, b, "post")
        if (text := _num(rule.probability)) is not None:
            yield ExprSite(("rules", i, "probability"), text, n, "post")
        yield from _effect_sites(("rules", i, "effects"), rule.effects, "post")
    for i, outcome in enumerate(s.outcomes):
        yield ExprSite(("outcomes", i, "when"), outcome.when, b, "post")


def _effect_sites(base: PathT, effects: dict[str, float | str], scope: str) -> Iterator[ExprSite]:
    for var, value in effects.items():
        if (text := _num(value)) is not None:
            yield ExprSite((*base, var), text, Type.NUMBER, scope)


def scope_symbols(s: Scenario) -> dict[str, Symbols]:
    """The symbol table for each expression scope."""
    params = sym.parameter_names(s)
    state = sym.state_names(s)
    tags = sym.all_tags(s)
    static = Symbols(
        names=dict.fromkeys(params, Type.NUMBER), tags=(), choices=frozenset(), allow_random=False
    )
    names = dict.fromkeys([*params, *state], Type.NUMBER)
    pre = Symbols(names=names, tags=tags, choices=frozenset())
    post = Symbols(names=names, tags=tags, choices=sym.choices(s))
    return {"static": static, "pre": pre, "post": post}


class _Checker:
    def __init__(self, loaded: LoadedScenario) -> None:
        self.s = loaded.scenario
        self.doc = loaded.source
        self.issues: list[Issue] = []

    def add(self, path: PathT, message: str) -> None:
        file, line = self.doc.where(path)
        self.issues.append(Issue(file, line, path, message))

    def unique(self, base: PathT, ids: Iterable[str | None], what: str) -> None:
        """Report repeated ids under ``base`` (ids that are None are skipped, keeping indices)."""
        seen: set[str] = set()
        for i, ident in enumerate(ids):
            if ident is None:
                continue
            if ident in seen:
                self.add((*base, i, "id"), f"duplicate {what} id '{ident}'")
            seen.add(ident)

    def ref(self, path: PathT, name: str, known: Iterable[str], what: str) -> bool:
        known = list(known)
        if name not in known:
            self.add(path, suggest(name, known, what))
            return False
        return True

    def prob(self, path: PathT, value: float | str | None) -> None:
        if isinstance(value, float | int) and not 0.0 <= value <= 1.0:
            self.add(path, f"probability {value} is outside [0, 1]")

    def run(self) -> list[Issue]:
        s = self.s
        self.ids()
        self.references()
        self.ranges()
        self.time()
        self.evidence()
        symbols = scope_symbols(s)
        for site in expression_sites(s):
            try:
                check_source(site.text, symbols[site.scope], site.expect)
            except ExprError as exc:
                self.add(site.path, exc.message)
        return self.issues

    def ids(self) -> None:
        s = self.s
        for section in (*ELEMENT_SECTIONS, "evidence"):
            elements = getattr(s, section)
            self.unique((section,), [e.id for e in elements], _SINGULAR[section])
        actor_ids = {a.id for a in s.actors}
        for i, alliance in enumerate(s.alliances):
            if alliance.id in actor_ids:
                self.add(("alliances", i, "id"), f"'{alliance.id}' is already an actor id")
            self.unique(("alliances", i, "clauses"), [c.id for c in alliance.clauses], "clause")
        names: dict[str, str] = {}
        for section in ("parameters", "uncertainties", "variables"):
            for i, element in enumerate(getattr(s, section)):
                other = names.setdefault(element.id, section)
                if other != section:
                    self.add((section, i, "id"), f"'{element.id}' is already used in {other}")
                if element.id in sym.BUILTIN_NAMES or element.id.startswith("credibility."):
                    self.add((section, i, "id"), f"'{element.id}' is a reserved name")
        if any(a.id == "hold" for a in s.actions):
            i = next(i for i, a in enumerate(s.actions) if a.id == "hold")
            self.add(("actions", i, "id"), "'hold' is built in (every actor may always hold)")

    def references(self) -> None:
        s = self.s
        actors = [a.id for a in s.actors]
        movers = sym.actors_of(s)
        actions = [a.id for a in s.actions]
        variables = [v.id for v in s.variables]
        by_action = {a.id: a for a in s.actions}
        for i, alliance in enumerate(s.alliances):
            for j, member in enumerate(alliance.members):
                self.ref(("alliances", i, "members", j), member, actors, "actor")
            for j, clause in enumerate(alliance.clauses):
                base: PathT = ("alliances", i, "clauses", j)
                if clause.response is not None:
                    self._action_by(
                        ("alliances", i, "clauses", j, "response"),
                        clause.response,
                        alliance.id,
                        by_action,
                        actions,
                    )
                for var in clause.effects:
                    self.ref((*base, "effects", var), var, variables, "variable")
        for i, action in enumerate(s.actions):
            for j, mover in enumerate(action.actors):
                self.ref(("actions", i, "actors", j), mover, movers, "actor")
            for var in action.effects:
                self.ref(("actions", i, "effects", var), var, variables, "variable")
        for i, red_line in enumerate(s.red_lines):
            owner_known = self.ref(("red_lines", i, "owner"), red_line.owner, movers, "actor")
            for j, target in enumerate(red_line.against):
                self.ref(("red_lines", i, "against", j), target, movers, "actor")
            if owner_known:
                self._action_by(
                    ("red_lines", i, "response"),
                    red_line.response,
                    red_line.owner,
                    by_action,
                    actions,
                )
            else:
                self.ref(("red_lines", i, "response"), red_line.response, actions, "action")
            self._pattern(("red_lines", i, "crossing"), red_line.crossing)
        for i, doctrine in enumerate(s.doctrines):
            if self.ref(("doctrines", i, "actor"), doctrine.actor, movers, "actor"):
                self._action_by(
                    ("doctrines", i, "action"), doctrine.action, doctrine.actor, by_action, actions
                )
        for i, event in enumerate(s.schedule):
            if event.actor is not None:
                self.ref(("schedule", i, "actor"), event.actor, movers, "actor")
            for var in event.effects:
                self.ref(("schedule", i, "effects", var), var, variables, "variable")
        for i, dynamic in enumerate(s.dynamics):
            self.ref(("dynamics", i, "variable"), dynamic.variable, variables, "variable")
        for i, rule in enumerate(s.rules):
            for var in rule.effects:
                self.ref(("rules", i, "effects", var), var, variables, "variable")
        for i, actor in enumerate(s.actors):
            for var in actor.decision.weights:
                self.ref(
                    ("actors", i, "decision", "weights", var),
                    var,
                    variables + [sym.credibility_name(r.id) for r in s.red_lines],
                    "variable",
                )
            for j, item in enumerate(actor.decision.plan):
                path: PathT = ("actors", i, "decision", "plan", j, "action")
                if item.action != "hold":
                    self._action_by(path, item.action, actor.id, by_action, actions)
            if actor.decision.kind != "scripted" and actor.decision.plan:
                self.add(
                    ("actors", i, "decision", "plan"),
                    f"a plan is only used by kind 'scripted', not '{actor.decision.kind}'",
                )
        settable = sym.parameter_names(s)
        for i, lever in enumerate(s.levers):
            option_ids = [o.id for o in lever.options]
            self.unique(("levers", i, "options"), option_ids, "option")
            if lever.default is not None:
                self.ref(("levers", i, "default"), lever.default, option_ids, "option")
            for j, option in enumerate(lever.options):
                for name in option.set:
                    self.ref(("levers", i, "options", j, "set", name), name, settable, "parameter")
        for i, lens in enumerate(s.lenses):
            for name in lens.set:
                self.ref(("lenses", i, "set", name), name, settable, "parameter")
        self._ladder_refs()

    def _action_by(
        self,
        path: PathT,
        action: str,
        actor: str,
        by_action: Mapping[str, object],
        actions: list[str],
    ) -> None:
        if not self.ref(path, action, actions, "action"):
            return
        allowed = self.s.actions[actions.index(action)].actors
        if actor not in allowed:
            self.add(
                path,
                f"action '{action}' may not be taken by '{actor}' "
                f"(its actors: {', '.join(allowed)})",
            )

    def _pattern(self, path: PathT, pattern: str) -> None:
        try:
            validate_pattern(pattern)
        except ExprError as exc:
            self.add(path, exc.message)
            return
        if not match_tags(pattern, sym.all_tags(self.s)):
            self.add(
                path,
                f"pattern '{pattern}' matches no event any action, clause, rule or "
                "scheduled event emits",
            )

    def _ladder_refs(self) -> None:
        s = self.s
        if isinstance(s.ladder, str):
            if s.ladder not in BUILTIN_LADDERS:
                self.add(("ladder",), suggest(s.ladder, BUILTIN_LADDERS, "ladder"))
                return
            rung_ids = [r.id for r in builtin_ladder(s.ladder).rungs]
        else:
            rung_ids = [r.id for r in s.ladder]
            self.unique(("ladder",), rung_ids, "rung")
        for i, action in enumerate(s.actions):
            level = action.level
            if isinstance(level, int) and level > len(rung_ids):
                self.add(
                    ("actions", i, "level"),
                    f"rung {level} is beyond the ladder's {len(rung_ids)} rungs",
                )
            elif isinstance(level, str):
                self.ref(("actions", i, "level"), level, rung_ids, "rung")

    def ranges(self) -> None:
        s = self.s
        for i, var in enumerate(s.variables):
            lo, hi = var.min, var.max
            if lo is not None and hi is not None and lo > hi:
                self.add(("variables", i, "max"), f"max {hi} is below min {lo}")
            if isinstance(var.initial, float | int) and (
                (lo is not None and var.initial < lo) or (hi is not None and var.initial > hi)
            ):
                self.add(
                    ("variables", i, "initial"), f"initial {var.initial} is outside [{lo}, {hi}]"
                )
        for i, alliance in enumerate(s.alliances):
            for j, clause in enumerate(alliance.clauses):
                self.prob(("alliances", i, "clauses", j, "invocation"), clause.invocation)
        for i, red_line in enumerate(s.red_lines):
            self.prob(("red_lines", i, "enforce"), red_line.enforce)
            for key in ("initial", "rise", "decay", "spillover"):
                self.prob(("red_lines", i, "credibility", key), getattr(red_line.credibility, key))
        for section in ("doctrines", "schedule", "rules"):
            for i, element in enumerate(getattr(s, section)):
                self.prob((section, i, "probability"), element.probability)
        for i, unc in enumerate(s.uncertainties):
            self._distribution(("uncertainties", i, "distribution"), unc.distribution)
        for i, lens in enumerate(s.lenses):
            for name, value in lens.set.items():
                if not isinstance(value, float | int):
                    self._distribution(("lenses", i, "set", name), value)

    def _distribution(self, path: PathT, dist: object) -> None:
        low, high = getattr(dist, "low", None), getattr(dist, "high", None)
        if low is not None and high is not None and low > high:
            self.add(path, f"low {low} is above high {high}")
        mode = getattr(dist, "mode", None)
        if mode is not None and low is not None and high is not None and not low <= mode <= high:
            self.add(path, f"mode {mode} is outside [{low}, {high}]")
        values, weights = getattr(dist, "values", None), getattr(dist, "weights", None)
        if values is not None and weights is not None:
            if len(weights) != len(values):
                self.add(path, f"{len(weights)} weights for {len(values)} values")
            elif sum(weights) <= 0:
                self.add(path, "weights must not all be zero")

    def time(self) -> None:
        s = self.s
        horizon = s.time.horizon
        dated: list[tuple[PathT, dt.date | None, int | None]] = [
            (("schedule", i), e.at, e.step) for i, e in enumerate(s.schedule)
        ]
        for i, actor in enumerate(s.actors):
            for j, item in enumerate(actor.decision.plan):
                dated.append((("actors", i, "decision", "plan", j), item.at, item.step))
        for base, at, step in dated:
            if at is not None:
                if s.time.start is None:
                    self.add((*base, "at"), "a date needs time.start to be set")
                    continue
                step = step_of(at, s.time)
                key = "at"
            else:
                key = "step"
            if step is not None and not 0 <= step < horizon:
                shown = f"date {at}" if at is not None else f"step {step}"
                self.add((*base, key), f"{shown} is outside the horizon (steps 0..{horizon - 1})")
        self.plan_clashes()

    def plan_clashes(self) -> None:
        """A scripted actor takes one action a step: two plan items in one step are an error."""
        s = self.s
        for i, actor in enumerate(s.actors):
            taken: dict[int, int] = {}
            for j, item in enumerate(actor.decision.plan):
                if item.at is not None and s.time.start is None:
                    continue
                step = item.step if item.step is not None else step_of(item.at, s.time)  # type: ignore[arg-type]
                if step in taken:
                    self.add(
                        ("actors", i, "decision", "plan", j),
                        f"plan items {taken[step]} and {j} both fall in step {step}; an "
                        "actor takes one action a step",
                    )
                taken.setdefault(step, j)

    def evidence(self) -> None:
        known = [e.id for e in self.s.evidence if e.id is not None]
        for path, refs in _evidence_refs(self.s):
            for j, ref in enumerate(refs):
                if isinstance(ref, str):
                    self.ref((*path, "evidence", j), ref, known, "evidence")


def _evidence_refs(s: Scenario) -> Iterator[tuple[PathT, list[EvidenceRef]]]:
    for section in ELEMENT_SECTIONS:
        for i, element in enumerate(getattr(s, section)):
            assert isinstance(element, Element)
            yield (section, i), element.evidence
            if section == "alliances":
                for j, clause in enumerate(element.clauses):  # type: ignore[attr-defined]
                    yield (section, i, "clauses", j), clause.evidence
            if section == "levers":
                for j, option in enumerate(element.options):  # type: ignore[attr-defined]
                    yield (section, i, "options", j), option.evidence


def validate(loaded: LoadedScenario) -> list[Issue]:
    """Every problem with a typed scenario, each with its file, line and element path."""
    return _Checker(loaded).run()
