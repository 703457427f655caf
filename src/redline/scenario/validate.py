"""Whole-scenario checks: references, duplicates, ranges and every expression.

Each check appends :class:`Issue` objects; nothing stops at the first problem, so a user sees
every mistake in one go.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from redline.core.expr import children
from redline.core.patterns import close_pattern, match_tags, validate_pattern
from redline.scenario import symbols as sym
from redline.scenario.calendar import step_of
from redline.scenario.errors import Issue, format_path, suggest
from redline.scenario.expr import Expr, ExprError, Name, NoSuchEvent, Type, check_source
from redline.scenario.expr.fold import fold, shorten
from redline.scenario.ladders import BUILTIN_LADDERS, builtin_ladder
from redline.scenario.model import (
    LLM_KEYS,
    Actor,
    Beta,
    Choice,
    Distribution,
    Element,
    EvidenceItem,
    EvidenceRef,
    Normal,
    Observation,
    Scenario,
    Triangular,
    Uniform,
)
from redline.scenario.record import (
    SUBJECTS,
    TIMING,
    TIMING_KEYS,
    Subject,
    forecast_subject,
    month_days,
    outcome_ids,
    resolution,
    subjects,
)
from redline.scenario.sources import (
    date_problem,
    find_record,
    is_reference,
    occurs_in,
    stated_value,
    url_problem,
)
from redline.scenario.symbols import scope_symbols
from redline.scenario.yamlsource import SourceDoc

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
    "observations",
    "forecasts",
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
    "observations": "observation",
    "forecasts": "forecast",
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


@dataclass(frozen=True)
class Bounds:
    """The range a value must lie in (None: unbounded), and how messages name the value."""

    lo: float | None
    hi: float | None
    what: str  # the value itself: "probability", "initial"
    role: str  # what a parameter used there serves as: "a probability"

    @property
    def limits(self) -> tuple[float, float]:
        """The lowest and highest value allowed, infinite where unbounded."""
        lo = -math.inf if self.lo is None else self.lo
        hi = math.inf if self.hi is None else self.hi
        return lo, hi

    def holds(self, value: float, slack: float = 0.0) -> bool:
        """Whether ``value`` is in range (never for nan); ``slack`` allows for rounding."""
        lo, hi = self.limits
        return lo - slack <= value <= hi + slack

    @property
    def shown(self) -> str:
        lo, hi = self.limits
        return f"[{lo}, {hi}]"


PROBABILITY = Bounds(0, 1, "probability", "a probability")
#: how far a computed value may stray out of range by rounding (``0.1 * 3 + 0.7``)
_SLACK = 1e-9


def bounded_sites(s: Scenario) -> Iterator[tuple[PathT, float | str | None, Bounds]]:
    """Every value that must lie in a range: probabilities, and initial values of bounded
    variables."""
    for i, var in enumerate(s.variables):
        role = f"the initial value of variable '{var.id}'"
        bounds = Bounds(var.min, var.max, "initial", role)
        lo, hi = bounds.limits
        # no bounds: nothing to check; min above max is reported on its own
        if (lo, hi) != (-math.inf, math.inf) and lo <= hi:
            yield ("variables", i, "initial"), var.initial, bounds
    for i, alliance in enumerate(s.alliances):
        for j, clause in enumerate(alliance.clauses):
            yield ("alliances", i, "clauses", j, "invocation"), clause.invocation, PROBABILITY
    for i, red_line in enumerate(s.red_lines):
        yield ("red_lines", i, "enforce"), red_line.enforce, PROBABILITY
        for key in ("initial", "rise", "decay", "spillover"):
            value = getattr(red_line.credibility, key)
            yield ("red_lines", i, "credibility", key), value, PROBABILITY
    for section in ("doctrines", "schedule", "rules"):
        for i, element in enumerate(getattr(s, section)):
            yield (section, i, "probability"), element.probability, PROBABILITY


@dataclass(frozen=True)
class Source:
    """Where a parameter or uncertainty gets a value: its own, or a lever option's or lens's."""

    path: PathT
    value: float | Distribution


def settings(s: Scenario) -> Iterator[tuple[PathT, Mapping[str, float | Distribution]]]:
    """The parameter values each lever option and each lens sets, with the path of its ``set``."""
    for i, lever in enumerate(s.levers):
        for j, option in enumerate(lever.options):
            yield ("levers", i, "options", j, "set"), option.set
    for i, lens in enumerate(s.lenses):
        yield ("lenses", i, "set"), lens.set


def value_sources(s: Scenario) -> dict[str, list[Source]]:
    """Every value each parameter and uncertainty can take, by name."""
    found: dict[str, list[Source]] = {}
    for i, param in enumerate(s.parameters):
        found.setdefault(param.id, []).append(Source(("parameters", i, "value"), param.value))
    for i, unc in enumerate(s.uncertainties):
        path: PathT = ("uncertainties", i, "distribution")
        found.setdefault(unc.id, []).append(Source(path, unc.distribution))
    for base, values in settings(s):
        for name, value in values.items():
            found.setdefault(name, []).append(Source((*base, name), value))
    return found


def support(dist: Distribution) -> tuple[float, float]:
    """The smallest and largest value a distribution can draw."""
    if isinstance(dist, Normal):
        return (dist.mean, dist.mean) if dist.sd == 0 else (-math.inf, math.inf)
    if isinstance(dist, Choice):
        return min(dist.values), max(dist.values)
    return dist.low, dist.high


def describe(dist: Distribution) -> str:
    """``uniform(0.2, 1.4)``: a distribution as messages show it."""
    if isinstance(dist, Uniform):
        return f"uniform({dist.low}, {dist.high})"
    if isinstance(dist, Triangular):
        return f"triangular({dist.low}, {dist.mode}, {dist.high})"
    if isinstance(dist, Beta):
        return f"beta({dist.alpha}, {dist.beta}) on [{dist.low}, {dist.high}]"
    if isinstance(dist, Normal):
        return f"normal({dist.mean}, {dist.sd})"
    return f"a choice of {', '.join(str(v) for v in dist.values)}"


def names_in(expr: Expr) -> list[str]:
    """The names an expression reads, in first-seen order."""
    if isinstance(expr, Name):
        return [expr.name]
    return list(dict.fromkeys(n for child in children(expr) for n in names_in(child)))


@dataclass(frozen=True)
class _Use:
    """An expression where a range must hold: its path, its text (shortened), its tree."""

    path: PathT
    text: str
    tree: Expr
    bounds: Bounds


def _shown(value: float) -> str:
    return f"{value:.10g}"


def _same(path: PathT) -> PathT:
    return path


@dataclass(frozen=True)
class Leniency:
    """What a check of a salvaged scenario allows for (:mod:`redline.scenario.salvage` removed
    the parts of its document pydantic refused, so that the rest can be checked in the same
    pass): ``original`` maps a path of the salvaged document to the author's file (list items
    after a removed one moved up); the names in ``broken`` belong to elements removed whole, so
    a reference to one is no unknown name; with ``events_missing`` a removed part may have
    emitted the event a pattern looks for; and a check of an element that lost a part
    (a path in ``removed`` is at or below the issue's) would only repeat the structural one."""

    original: Callable[[PathT], PathT] = _same
    broken: frozenset[str] = frozenset()
    events_missing: bool = False
    removed: tuple[PathT, ...] = ()
    #: top-level sections removed whole: references to their elements cannot be checked
    lost: frozenset[str] = frozenset()

    def loses(self, what: str) -> bool:
        """Whether the section of elements called ``what`` (``action``) was removed whole."""
        lost = {_SINGULAR[section] for section in self.lost if section in _SINGULAR}
        return what in lost or (what == "actor" and "alliance" in lost)

    @property
    def names_lost(self) -> bool:
        """Whether a section of names expressions read (variables, parameters, uncertainties)
        was removed whole."""
        return bool(self.lost & {"variables", "parameters", "uncertainties"})

    def hides(self, path: PathT) -> bool:
        """Whether an issue at ``path`` (of the author's file) is about a removed part: at it,
        inside it, or at an element holding it."""
        return path in self._around or any(
            path[:cut] in self._removed for cut in range(1, len(path))
        )

    @functools.cached_property
    def _removed(self) -> frozenset[PathT]:
        return frozenset(self.removed)

    @functools.cached_property
    def _around(self) -> frozenset[PathT]:
        """Every removed path and every path holding one."""
        return frozenset(r[:cut] for r in self.removed for cut in range(len(r) + 1))


class _Checker:
    def __init__(
        self, scenario: Scenario, source: SourceDoc, leniency: Leniency | None = None
    ) -> None:
        self.s = scenario
        self.doc = source
        self.lenient = leniency or Leniency()
        self.issues: list[Issue] = []
        #: the checked syntax tree of each expression, by path
        self.trees: dict[PathT, Expr] = {}
        #: parameter values out of range, by (where the value is, name, range): the users
        self.misused: dict[tuple[Source, str, Bounds], list[PathT]] = {}

    def add(self, path: PathT, message: str) -> None:
        file, line = self.doc.where(path)
        original = self.lenient.original(path)
        if not self.lenient.hides(original):
            self.issues.append(Issue(file, line, original, message))

    def shown(self, path: PathT) -> str:
        """A path as a message names it: where it is in the author's file."""
        return format_path(self.lenient.original(path))

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
        if (name in self.lenient.broken or self.lenient.loses(what)) and name not in known:
            return False  # an element removed for its structural problem: known, not checkable
        if name not in known:
            self.add(path, suggest(name, known, what))
            return False
        return True

    def run(self) -> list[Issue]:
        self.ids()
        self.references()
        self.time()
        self.evidence()
        self.sources()
        self.expressions()
        self.ranges()
        self.observations()
        self.forecasts()
        return self.issues

    def expressions(self) -> None:
        """Check every expression, keeping the syntax tree of each one that passes."""
        symbols = scope_symbols(self.s)
        if self.lenient.broken:  # names of removed elements: known, of unknown use
            extra = dict.fromkeys(self.lenient.broken, Type.NUMBER)
            symbols = {
                scope: dataclasses.replace(table, names={**extra, **table.names})
                for scope, table in symbols.items()
            }
        for site in expression_sites(self.s):
            try:
                self.trees[site.path] = check_source(site.text, symbols[site.scope], site.expect)
            except ExprError as exc:
                if self.lenient.events_missing and isinstance(exc, NoSuchEvent):
                    continue
                if self.lenient.names_lost and exc.message.startswith("unknown name"):
                    continue
                self.add(site.path, exc.message)

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
            self._llm_decision(i, actor, by_action, actions)
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

    def _llm_decision(
        self, i: int, actor: Actor, by_action: Mapping[str, object], actions: list[str]
    ) -> None:
        """A language-model actor names its model and a fallback it may take; the keys only
        such an actor reads are errors on any other kind (they would be silently ignored)."""
        d = actor.decision
        base: PathT = ("actors", i, "decision")
        if d.kind != "llm":
            for key in sorted(d.model_fields_set & set(LLM_KEYS)):
                self.add((*base, key), f"'{key}' is only used by kind 'llm', not '{d.kind}'")
            return
        if d.model is None:
            self.add(
                (*base, "kind"),
                "kind 'llm' needs a 'model' (the name the endpoint serves, e.g. 'gpt-4o-mini')",
            )
        if d.fallback != "hold":
            self._action_by((*base, "fallback"), d.fallback, actor.id, by_action, actions)

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
        tags = sym.all_tags(self.s)
        if not match_tags(pattern, tags) and not self.lenient.events_missing:
            close = close_pattern(pattern, tags)
            hint = f"; did you mean '{close}'?" if close is not None else ""
            self.add(
                path,
                f"pattern '{pattern}' matches no event any action, clause, rule or "
                f"scheduled event emits{hint}",
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
        sources = value_sources(s)
        for path, given, bounds in bounded_sites(s):
            self.bounded(path, given, bounds, sources)
        self.report_misused()
        for i, unc in enumerate(s.uncertainties):
            self._distribution(("uncertainties", i, "distribution"), unc.distribution)
        for i, lens in enumerate(s.lenses):
            for name, value in lens.set.items():
                if not isinstance(value, float | int):
                    self._distribution(("lenses", i, "set", name), value)

    def bounded(
        self,
        path: PathT,
        value: float | str | None,
        bounds: Bounds,
        sources: Mapping[str, list[Source]],
    ) -> None:
        """A value that must lie in ``bounds``: a literal, a parameter's name or an expression."""
        if isinstance(value, float | int):
            if not bounds.holds(value):
                self.add(path, f"{bounds.what} {value} is outside {bounds.shown}")
        elif isinstance(value, str) and path in self.trees:
            tree = self.trees[path]
            if isinstance(tree, Name) and tree.name in sources:
                self.named(path, tree.name, bounds, sources[tree.name])
            else:
                self.computed(path, value, tree, bounds)

    def named(self, site: PathT, name: str, bounds: Bounds, sources: list[Source]) -> None:
        """A parameter used by name where ``bounds`` hold: each value it can take must too."""
        for source in sources:
            if isinstance(source.value, float | int):
                low = high = source.value
            else:
                low, high = support(source.value)
            if not (bounds.holds(low) and bounds.holds(high)):
                self.misused.setdefault((source, name, bounds), []).append(site)

    def report_misused(self) -> None:
        """One issue per out-of-range value, at the value, naming every place using it."""
        for (source, name, bounds), sites in self.misused.items():
            if isinstance(source.value, float | int):
                subject = f"{name} = {source.value} is outside {bounds.shown}"
            else:
                what = describe(source.value)
                subject = f"{name} ~ {what} takes values outside {bounds.shown}"
            users = ", ".join(self.shown(site) for site in sites)
            verb = "uses" if len(sites) == 1 else "use"
            self.add(source.path, f"{subject}, but {users} {verb} it as {bounds.role}")

    def computed(self, site: PathT, text: str, tree: Expr, bounds: Bounds) -> None:
        """An expression of literals and parameters where ``bounds`` hold: its value with the
        parameters' own values must lie in range, and so must its value with each lever
        option's and lens's."""
        own = {p.id: p.value for p in self.s.parameters}
        value = _evaluate(tree, own)
        if value is None:
            return  # it reads the state or an uncertainty, or draws
        use = _Use(site, shorten(text), tree, bounds)
        if not bounds.holds(value, _SLACK):
            given = ", ".join(f"{n} = {own[n]}" for n in names_in(tree))
            given = f" ({given})" if given else ""
            shown = _shown(value)
            stated = (
                f"{shown} is" if use.text.strip() == shown else f"{use.text} is {shown}{given},"
            )
            self.add(site, f"{bounds.what} {stated} outside {bounds.shown}")
        for base, sets in settings(self.s):
            changed = [n for n in names_in(tree) if n in sets]
            if changed:
                self.overridden(use, (*base, changed[0]), changed[0], {**own, **sets})

    def overridden(
        self, use: _Use, setter: PathT, name: str, values: Mapping[str, float | Distribution]
    ) -> None:
        """The expression's value where a lever option or a lens sets ``name``, one of the
        parameters it reads (at ``setter``); ``values``: every parameter's value there."""
        if any(not isinstance(values[n], float | int) for n in names_in(use.tree)):
            return  # a lens draws one of them: not a constant there
        fixed = {n: v for n, v in values.items() if isinstance(v, float | int)}
        value = _evaluate(use.tree, fixed)
        if value is None or use.bounds.holds(value, _SLACK):
            return
        self.add(
            setter,
            f"{name} = {fixed[name]} makes {self.shown(use.path)} ({use.text}) "
            f"{_shown(value)}, outside {use.bounds.shown}",
        )

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

    # -- the record: observations and forecasts -----------------------------------------------
    def observations(self) -> None:
        """Each observation: one subject, the timing keys that subject takes, known references,
        dates inside the horizon, ordered windows, and its evidence."""
        for i, ob in enumerate(self.s.observations):
            base: PathT = ("observations", i)
            given = subjects(ob)
            if len(given) != 1:
                found = f" (got {', '.join(given)})" if given else ""
                self.add(
                    base,
                    "give exactly one subject: "
                    + ", ".join(SUBJECTS[:-1])
                    + f" or {SUBJECTS[-1]}{found}",
                )
                continue
            subject = given[0]
            if not ob.evidence:
                self.add(
                    base,
                    "an observation needs evidence: a public record, quoted (an evidence id or "
                    "an inline {source, quote})",
                )
            self._observed(base, subject, ob)
            self._observed_when(base, subject, ob)

    def _observed(self, base: PathT, subject: Subject, ob: Observation) -> None:
        """The subject's references: a pattern that matches an event, known outcomes, a known
        variable, a known action its actor may take."""
        s = self.s
        if ob.event is not None:
            self._pattern((*base, "event"), ob.event)
        elif ob.outcome is not None:
            self._outcomes((*base, "outcome"), ob.outcome)
        elif ob.variable is not None:
            known = [v.id for v in s.variables] + [sym.credibility_name(r.id) for r in s.red_lines]
            self.ref((*base, "variable"), ob.variable, known, "variable")
        elif ob.action is not None:
            actor = ob.actor
            action = ob.action
            if actor is None:
                self.add(base, f"an observation of action '{action}' needs the actor who took it")
            elif self.ref((*base, "actor"), actor, sym.actors_of(s), "actor"):
                by_action = {a.id: a for a in s.actions}
                self._action_by((*base, "action"), action, actor, by_action, list(by_action))
        if subject != "action" and ob.actor is not None:
            self.add(
                (*base, "actor"),
                f"'actor' is for an observation of an action, not of {_article(subject)}",
            )

    def _outcomes(self, path: PathT, ref: str | list[str] | None) -> None:
        known = [o.id for o in self.s.outcomes]
        if isinstance(ref, list):
            for j, name in enumerate(ref):
                self.ref((*path, j), name, known, "outcome")
        elif ref is not None:
            self.ref(path, ref, known, "outcome")

    def _observed_when(self, base: PathT, subject: Subject, ob: Observation) -> None:
        """The timing keys: exactly one of those the subject takes (a variable: ``at`` and
        ``range``), none of the others, dates inside the horizon, windows in order."""
        allowed = TIMING[subject]
        extra = ("range", "tolerance") if subject == "variable" else ()
        for key in TIMING_KEYS:
            if getattr(ob, key) is not None and key not in (*allowed, *extra):
                self.add(
                    (*base, key),
                    f"'{key}' does not apply to an observation of {_article(subject)}; use "
                    + " or ".join(f"'{k}'" for k in allowed),
                )
        used = [k for k in allowed if getattr(ob, k) is not None]
        if subject == "variable":
            for key in ("at", "range"):
                if getattr(ob, key) is None:
                    self.add(base, f"an observation of a variable needs '{key}'")
            rng = ob.range
            if rng is not None and rng[0] > rng[1]:
                self.add((*base, "range"), f"low {rng[0]} is above high {rng[1]}")
        elif len(used) != 1:
            choices = ", ".join(f"'{k}'" for k in allowed)
            found = f" (got {', '.join(used)})" if used else ""
            self.add(base, f"give exactly one of {choices}{found}")
        for key in used:
            self._dates((*base, key), getattr(ob, key))

    def _dates(self, path: PathT, value: object) -> None:
        """Dates of the record: inside the horizon, and a window's first not after its last."""
        s = self.s
        if s.time.start is None:
            self.add(path, "a date needs time.start to be set")
            return
        if isinstance(value, str):  # a month
            days: tuple[dt.date, ...] = month_days(value)
        elif isinstance(value, tuple):
            days = value
            if days[0] > days[1]:
                self.add(path, f"the window starts ({days[0]}) after it ends ({days[1]})")
                return
        else:
            assert isinstance(value, dt.date)
            days = (value,)
        horizon = s.time.horizon
        for day in days:
            step = step_of(day, s.time)
            if not 0 <= step < horizon:
                self.add(path, f"date {day} is outside the horizon (steps 0..{horizon - 1})")
                return

    def forecasts(self) -> None:
        """Each forecast: an outcome or an event, a probability or a range, its source, dates in
        order, and the observation that resolves it deciding its question."""
        s = self.s
        observations = {ob.id: ob for ob in s.observations}
        for i, f in enumerate(s.forecasts):
            base: PathT = ("forecasts", i)
            if (f.event is None) == (f.outcome is None):
                self.add(base, "give exactly one of 'event' or 'outcome': what the question asks")
            elif f.event is not None:
                self._pattern((*base, "event"), f.event)
            else:
                self._outcomes((*base, "outcome"), f.outcome)
            if (f.probability is None) == (f.range is None):
                self.add(base, "give exactly one of 'probability' or 'range'")
            elif f.range is not None and f.range[0] > f.range[1]:
                self.add((*base, "range"), f"low {f.range[0]} is above high {f.range[1]}")
            if not f.evidence:
                self.add(
                    base,
                    "a forecast needs its source: evidence quoting the published statement",
                )
            if f.by < f.made:
                self.add(
                    (*base, "by"), f"the question's date {f.by} is before it was made ({f.made})"
                )
            if s.time.start is None:
                self.add((*base, "by"), "a date needs time.start to be set")
            if f.resolved_by is None:
                continue
            if not self.ref((*base, "resolved_by"), f.resolved_by, observations, "observation"):
                continue
            subject = forecast_subject(f)
            ob = observations[f.resolved_by]
            if subject is not None and resolution(ob, subject, f.by) is None:
                what = f.event if f.event is not None else ", ".join(outcome_ids(f.outcome))
                self.add(
                    (*base, "resolved_by"),
                    f"observation '{ob.id}' does not say whether {what} happened by {f.by}",
                )

    def evidence(self) -> None:
        known = [e.id for e in self.s.evidence if e.id is not None]
        for path, refs in _evidence_refs(self.s):
            for j, ref in enumerate(refs):
                if isinstance(ref, str):
                    self.ref((*path, "evidence", j), ref, known, "evidence")

    def sources(self) -> None:
        """The bibliographic records (unique ids and files, real dates, web URLs) and what each
        evidence item says of its source: a one-word source names a record where the scenario
        has any, and each number it ``states`` occurs in its quote."""
        records = self.s.sources
        self.unique(("sources",), [r.id for r in records], "source")
        files: dict[str, str] = {}
        for i, record in enumerate(records):
            if record.file is not None:
                if record.file in files:
                    first = files[record.file]
                    self.add(
                        ("sources", i, "file"),
                        f"file '{record.file}' is already the file of source '{first}'",
                    )
                files.setdefault(record.file, record.id)
            for key, problem in (
                ("date", date_problem(record.date)),
                ("url", url_problem(record.url)),
            ):
                if problem is not None:
                    self.add(("sources", i, key), problem)
        known = [r.id for r in records] + list(files)
        for path, item in evidence_items(self.s):
            if records and is_reference(item.source) and find_record(records, item.source) is None:
                self.add(
                    (*path, "source"),
                    suggest(item.source, known, "source")
                    + " (a public record without an entry in sources is named in words: "
                    "publisher, title, date)",
                )
            for k, entry in enumerate(item.states):
                if stated_value(entry) is None:
                    self.add(
                        (*path, "states", k),
                        f"a stated number is a number (0.08) or a percentage ('8%'), got '{entry}'",
                    )
                elif not occurs_in(entry, item.quote):
                    shown = entry if isinstance(entry, str) else f"{entry:g}"
                    self.add(
                        (*path, "states", k),
                        f"the quote does not state {shown}: no such number (or percentage) in "
                        "its text",
                    )


def evidence_items(s: Scenario) -> Iterator[tuple[PathT, EvidenceItem]]:
    """Every evidence item with its path: the top-level list, then each inline one."""
    for i, item in enumerate(s.evidence):
        yield ("evidence", i), item
    for path, refs in _evidence_refs(s):
        for j, ref in enumerate(refs):
            if isinstance(ref, EvidenceItem):
                yield (*path, "evidence", j), ref


def _article(noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


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


def _evaluate(tree: Expr, values: Mapping[str, float]) -> float | None:
    """The value of an expression of literals and the given names, else None; inf where it
    overflows float64."""
    try:
        value = fold(tree, values)
    except ExprError:
        return math.inf
    return None if isinstance(value, bool) else value


def validate(
    scenario: Scenario, source: SourceDoc, leniency: Leniency | None = None
) -> list[Issue]:
    """Every problem with a typed scenario, each with its file, line (from ``source``, the
    document it was read from) and element path; ``leniency`` for a scenario salvaged from a
    document with structural problems."""
    return _Checker(scenario, source, leniency).run()
