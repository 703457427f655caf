"""The core program every scenario compiles to: state variables, actions, reactions, updates,
outcome tests.

Every backend knows only these types. Domain mechanisms (red lines, treaty clauses, doctrines,
elections, settlement) are lowered to them by :mod:`redline.compile.lower`. A program is pure
data — expressions keep their source, tree, draw site and folded constant, and each backend
compiles them its own way — so it pickles and travels to worker processes as it is. Class names
differ from the scenario model's (``Action``, ``Rule`` …), which describe what a user writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from redline.core.distributions import Draw
from redline.core.expr import Expr


@dataclass(frozen=True)
class Expression:
    """A checked expression: its source, its tree, the draw-site base of its random calls
    (random call k draws at ``site_id(f"{site}#{k}")``) and its value when it is constant."""

    source: str
    tree: Expr
    site: str
    constant: float | bool | None = None

    def __str__(self) -> str:
        return self.source


@dataclass(frozen=True)
class StateVariable:
    name: str
    initial: Expression
    lo: float
    hi: float


@dataclass(frozen=True)
class RunConstant:
    """A per-run constant: a parameter (fixed value) or an uncertainty (a distribution)."""

    name: str
    value: float | None
    distribution: Draw | None = None


@dataclass(frozen=True)
class Delta:
    """Add the value of ``expr`` to state variable number ``var``."""

    var: int
    expr: Expression


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
class ActorAction:
    """One actor's action: an action with several actors becomes one core action per actor."""

    id: str
    actor: str
    requires: Expression
    effect: Effect
    escalation: float


@dataclass(frozen=True)
class Crossing:
    """A red line that an action would cross, as the deciding actor sees it."""

    red_line: int  # rule index of the red line
    owner: str
    credibility_var: int
    when: Expression
    cost: Expression | None  # explicit cost, or None to value the response's effects


@dataclass(frozen=True)
class Decider:
    """An actor's decision-maker and the actions it chooses among (index 0 is hold)."""

    actor: str
    kind: Literal["logit", "doctrine", "scripted", "llm"]  # llm: a plugged-in maker answers
    candidates: tuple[int, ...]  # core action indices; -1 is hold
    rationality: Expression
    weights: tuple[tuple[int, Expression], ...]
    escalation_cost: Expression
    perception_noise: Expression
    crossings: tuple[tuple[Crossing, ...], ...]  # per candidate
    responses: Mapping[int, Effect] = field(default_factory=dict)  # red-line rule -> response
    plan: Mapping[int, int] = field(default_factory=dict)  # step -> candidate position


@dataclass(frozen=True)
class Reaction:
    """A reaction: when ``trigger`` holds (at most once a step), fire with ``probability``.

    ``at_step`` set makes it a scheduled rule, tried only in phase 1 of that step."""

    id: str
    kind: Literal["red_line", "clause", "doctrine", "rule", "schedule"]
    trigger: Expression
    probability: Expression
    fire: Effect
    fail: Effect
    at_step: int | None = None
    evidence: tuple[str, ...] = ()
    #: the state variables and event tags the trigger reads: only a change to one of them can
    #: make it hold where it did not
    watch_vars: frozenset[int] = frozenset()
    watch_tags: frozenset[int] = frozenset()


@dataclass(frozen=True)
class StateUpdate:
    """A dynamic: each step, state variable ``var`` takes the value of ``value``."""

    var: int
    value: Expression


@dataclass(frozen=True)
class OutcomeTest:
    """An outcome: recorded at the first step its condition holds; absorbing ones end the run."""

    id: str
    name: str
    when: Expression
    absorbing: bool


@dataclass(frozen=True)
class Program:
    """A compiled scenario: everything the engine needs, no scenario objects."""

    scenario_id: str
    horizon: int
    variables: tuple[StateVariable, ...]
    params: tuple[RunConstant, ...]
    tags: tuple[str, ...]
    actions: tuple[ActorAction, ...]
    deciders: tuple[Decider, ...]
    schedule: tuple[Reaction, ...]
    dynamics: tuple[StateUpdate, ...]
    rules: tuple[Reaction, ...]
    outcomes: tuple[OutcomeTest, ...]
    rungs: tuple[str, ...]
    max_depth: int = 8
    #: whether some actor's utilities read another's choice (``chose()``): decisions then
    #: solve for a quantal response equilibrium
    strategic: bool = False
    #: names the structure (everything but parameter values): programs with the same
    #: fingerprint differ at most in their parameters, so backends may share compiled code
    fingerprint: str = ""

    @property
    def var_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables)

    def var_index(self, name: str) -> int:
        return self.var_names.index(name)
