"""The core program every scenario compiles to: variables, actions, rules, dynamics, outcomes.

The engine and the reference interpreter know only these types. Domain mechanisms (red lines,
treaty clauses, doctrines, elections, settlement) are lowered to them by :mod:`.lower`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from redline.scenario.expr.ast import Expr
from redline.scenario.model import Distribution


@dataclass(frozen=True)
class CExpr:
    """An expression compiled both ways: vectorised (``sample``/``mean``) and as an AST for the
    scalar reference evaluator. ``site`` is the draw-site base of its random calls."""

    source: str
    ast: Expr
    site: str
    sample: Callable[[Any], Any]
    mean: Callable[[Any], Any]
    constant: float | bool | None = None

    def __str__(self) -> str:
        return self.source


@dataclass(frozen=True)
class Variable:
    name: str
    initial: CExpr
    lo: float
    hi: float


@dataclass(frozen=True)
class Param:
    """A per-run constant: a parameter (fixed value) or an uncertainty (a distribution)."""

    name: str
    value: float | None
    distribution: Distribution | None = None


@dataclass(frozen=True)
class Delta:
    """Add the value of ``expr`` to state variable number ``var``."""

    var: int
    expr: CExpr


@dataclass(frozen=True)
class Effect:
    """What happens when an action is performed or a rule fires: deltas and emitted tags.

    ``level`` is the ladder rung index reached (or -1), ``actions`` the core actions performed
    (recorded in traces)."""

    deltas: tuple[Delta, ...] = ()
    tags: tuple[int, ...] = ()
    level: int = -1
    actions: tuple[int, ...] = ()

    @property
    def unique_tags(self) -> tuple[int, ...]:
        """Each tag once, in order: an effect emits a tag at most once."""
        return tuple(dict.fromkeys(self.tags))


@dataclass(frozen=True)
class Action:
    """One actor's action: an action with several actors becomes one core action per actor."""

    id: str
    actor: str
    requires: CExpr
    effect: Effect
    escalation: float


@dataclass(frozen=True)
class Crossing:
    """A red line that an action would cross, as the deciding actor sees it."""

    red_line: int  # rule index of the red line
    owner: str
    credibility_var: int
    when: CExpr
    cost: CExpr | None  # explicit cost, or None to value the response's effects


@dataclass(frozen=True)
class Decider:
    """An actor's decision-maker and the actions it chooses among (index 0 is hold)."""

    actor: str
    kind: Literal["logit", "doctrine", "scripted"]
    candidates: tuple[int, ...]  # core action indices; -1 is hold
    rationality: CExpr
    weights: tuple[tuple[int, CExpr], ...]
    escalation_cost: CExpr
    perception_noise: CExpr
    crossings: tuple[tuple[Crossing, ...], ...]  # per candidate
    responses: Mapping[int, Effect] = field(default_factory=dict)  # red-line rule -> response
    plan: Mapping[int, int] = field(default_factory=dict)  # step -> candidate position


@dataclass(frozen=True)
class Rule:
    """A reaction: when ``trigger`` holds (at most once a step), fire with ``probability``.

    ``at_step`` set makes it a scheduled rule, tried only in phase 1 of that step."""

    id: str
    kind: Literal["red_line", "clause", "doctrine", "rule", "schedule"]
    trigger: CExpr
    probability: CExpr
    fire: Effect
    fail: Effect
    at_step: int | None = None
    evidence: tuple[str, ...] = ()
    #: the state variables and event tags the trigger reads: only a change to one of them can
    #: make it hold where it did not
    watch_vars: frozenset[int] = frozenset()
    watch_tags: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Dynamic:
    var: int
    value: CExpr


@dataclass(frozen=True)
class Outcome:
    id: str
    name: str
    when: CExpr
    absorbing: bool


@dataclass(frozen=True)
class Program:
    """A compiled scenario: everything the engine needs, no scenario objects."""

    scenario_id: str
    horizon: int
    variables: tuple[Variable, ...]
    params: tuple[Param, ...]
    tags: tuple[str, ...]
    actions: tuple[Action, ...]
    deciders: tuple[Decider, ...]
    schedule: tuple[Rule, ...]
    dynamics: tuple[Dynamic, ...]
    rules: tuple[Rule, ...]
    outcomes: tuple[Outcome, ...]
    rungs: tuple[str, ...]
    max_depth: int = 8
    #: whether some actor's utilities read another's choice (``chose()``): decisions then
    #: solve for a quantal response equilibrium
    strategic: bool = False

    @property
    def var_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables)

    def var_index(self, name: str) -> int:
        return self.var_names.index(name)
