"""Mechanisms of a lowered program, and the program with one of them switched off (ablation).

A mechanism is one element of the scenario's front end as the core program carries it: a red
line, a treaty clause, a doctrine, a generic rule or a scheduled event (each lowered to
reactions), a dynamic (a state update), or a decision-maker. Switching one off:

- a reaction never triggers: its trigger becomes the constant ``false``; a red line also stops
  deterring (deciders no longer weigh crossing it), so "switch off red line X" means the line was
  never declared;
- a dynamic is removed: its variable keeps its value from step to step;
- a decision-maker always holds (its kind becomes ``doctrine``: it acts only through doctrines).

:func:`switch_off` does that by changing the program's structure; it is the definition.
:func:`switchable` gives one program in which every mechanism has a switch — a per-run constant
``switch:<mechanism>`` read by its trigger, dynamic or decisions — so that all ablations of a
scenario share one structure (the fused engine compiles it once) and differ only in a parameter
value (:func:`switched_off`). Both give the same runs exactly; the tests hold them to it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

from redline.compile.configure import configure
from redline.core.expr import Binary, Bool, Call, Compare, Expr, Name, Num
from redline.core.program import (
    Crossing,
    Decider,
    Expression,
    Program,
    Reaction,
    RunConstant,
    StateUpdate,
)
from redline.errors import UserError
from redline.scenario.errors import suggest

MechanismKind: TypeAlias = Literal[
    "red_line", "clause", "doctrine", "rule", "schedule", "dynamic", "decision"
]

#: the order mechanisms are listed in, by kind
KINDS: tuple[MechanismKind, ...] = (
    "red_line",
    "clause",
    "doctrine",
    "rule",
    "schedule",
    "dynamic",
    "decision",
)
#: where each kind of reaction comes from in a scenario file
_SECTIONS = {
    "red_line": "red_lines",
    "clause": "alliances",
    "doctrine": "doctrines",
    "rule": "rules",
    "schedule": "schedule",
}
#: the prefix of a switch parameter's name (no scenario name can contain a colon)
SWITCH = "switch:"


@dataclass(frozen=True)
class Mechanism:
    """One mechanism of a program: ``id`` (``kind:name``, unique in the program), its kind, the
    element's name (``rl_aircraft``, ``NATO.article5``, an actor) and its path in the scenario
    (``red_lines.rl_aircraft``, ``alliances.NATO.article5``, ``actors.RUS.decision``)."""

    id: str
    kind: MechanismKind
    name: str
    path: str

    @property
    def switch(self) -> str:
        """The name of its switch parameter in a :func:`switchable` program."""
        return SWITCH + self.id


def mechanisms(program: Program) -> tuple[Mechanism, ...]:
    """Every mechanism of ``program`` that can be switched off, grouped by kind (red lines,
    clauses, doctrines, rules, scheduled events, dynamics, decision-makers), in program order.

    Reactions are grouped by the element they come from, so a red line lowered to several
    reactions is one mechanism. Decision-makers count when they choose: a logit actor with
    actions to choose among, or a scripted one with a plan; a ``doctrine`` actor already holds."""
    found: dict[str, Mechanism] = {}
    for r in (*program.rules, *program.schedule):
        m = Mechanism(f"{r.kind}:{r.id}", r.kind, r.id, f"{_SECTIONS[r.kind]}.{r.id}")
        found.setdefault(m.id, m)
    for d in program.dynamics:
        name = _dynamic_name(program, d)
        m = Mechanism(f"dynamic:{name}", "dynamic", name, f"dynamics.{name}")
        found.setdefault(m.id, m)
    for dec in program.deciders:
        if _chooses(dec):
            m = Mechanism(
                f"decision:{dec.actor}", "decision", dec.actor, f"actors.{dec.actor}.decision"
            )
            found.setdefault(m.id, m)
    order = {k: i for i, k in enumerate(KINDS)}
    return tuple(sorted(found.values(), key=lambda m: order[m.kind]))


def find(program: Program, mechanism: Mechanism | str) -> Mechanism:
    """The mechanism named ``mechanism`` (its id, or its name when that is unambiguous)."""
    known = mechanisms(program)
    if isinstance(mechanism, Mechanism):
        if mechanism not in known:
            raise UserError(suggest(mechanism.id, [m.id for m in known], "mechanism"))
        return mechanism
    by_id = {m.id: m for m in known}
    if mechanism in by_id:
        return by_id[mechanism]
    named = [m for m in known if m.name == mechanism]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise UserError(f"mechanism '{mechanism}' is ambiguous: " + ", ".join(m.id for m in named))
    raise UserError(suggest(mechanism, list(by_id), "mechanism"))


def switch_off(program: Program, mechanism: Mechanism | str) -> Program:
    """``program`` with one mechanism switched off, by changing its structure (the definition of
    switching off; :func:`switchable` does the same with a parameter). Pure: ``program`` is
    unchanged. The result's fingerprint names the change, so compiled code kept by fingerprint
    is never shared between the two structures."""
    m = find(program, mechanism)
    changes: dict[str, object] = {
        "fingerprint": f"{program.fingerprint}-without-{m.id}" if program.fingerprint else ""
    }
    if m.kind == "dynamic":
        changes["dynamics"] = tuple(
            d for d in program.dynamics if _dynamic_name(program, d) != m.name
        )
    elif m.kind == "decision":
        changes["deciders"] = tuple(
            dataclasses.replace(d, kind="doctrine") if d.actor == m.name else d
            for d in program.deciders
        )
    else:
        changes["rules"] = tuple(_never(r) if _is(r, m) else r for r in program.rules)
        changes["schedule"] = tuple(_never(r) if _is(r, m) else r for r in program.schedule)
        if m.kind == "red_line":
            gone = {i for i, r in enumerate(program.rules) if _is(r, m)}
            changes["deciders"] = tuple(
                dataclasses.replace(
                    d,
                    crossings=tuple(
                        tuple(c for c in cs if c.red_line not in gone) for cs in d.crossings
                    ),
                )
                for d in program.deciders
            )
    return dataclasses.replace(program, **changes)  # type: ignore[arg-type]


def switchable(program: Program, which: Iterable[Mechanism] | None = None) -> Program:
    """``program`` with a switch for each of ``which`` (default: every mechanism that a switch
    can turn off exactly, :func:`can_switch`): a per-run constant ``switch:<id>``, 1 (on) to
    start with, that the mechanism's trigger, dynamic or decisions read. With every switch on it
    gives the same runs as ``program``; with one off (:func:`switched_off`), the same runs as
    :func:`switch_off`. Every setting of the switches shares one structure (fingerprint)."""
    chosen = tuple(mechanisms(program) if which is None else which)
    for m in chosen:
        if not can_switch(program, m):
            raise ValueError(f"mechanism {m.id} cannot be switched by a parameter")
    params = list(program.params)
    rules, schedule = list(program.rules), list(program.schedule)
    dynamics, actions = list(program.dynamics), list(program.actions)
    deciders = list(program.deciders)
    for m in chosen:
        params.append(RunConstant(m.switch, 1.0))
        on = _on(m)
        if m.kind == "dynamic":
            dynamics = [
                StateUpdate(d.var, _where(on, d.value, program.var_names[d.var]))
                if _dynamic_name(program, d) == m.name
                else d
                for d in dynamics
            ]
        elif m.kind == "decision":
            d = next(d for d in deciders if d.actor == m.name)
            for c in d.candidates:
                if c >= 0:
                    actions[c] = dataclasses.replace(
                        actions[c], requires=_both(on, actions[c].requires)
                    )
        else:
            rules = [_gated(r, on) if _is(r, m) else r for r in rules]
            schedule = [_gated(r, on) if _is(r, m) else r for r in schedule]
            if m.kind == "red_line":
                lines = {i for i, r in enumerate(program.rules) if _is(r, m)}
                deciders = [_gated_crossings(d, lines, on) for d in deciders]
    ids = ",".join(m.id for m in chosen)
    digest = hashlib.blake2b(ids.encode(), digest_size=6).hexdigest()
    return dataclasses.replace(
        program,
        params=tuple(params),
        rules=tuple(rules),
        schedule=tuple(schedule),
        dynamics=tuple(dynamics),
        actions=tuple(actions),
        deciders=tuple(deciders),
        fingerprint=f"{program.fingerprint}-switches-{digest}" if program.fingerprint else "",
    )


def switched_off(program: Program, off: Mechanism | Sequence[Mechanism] | None) -> Program:
    """A :func:`switchable` program with the given mechanisms' switches off (the others on)."""
    if off is None:
        return program
    chosen = (off,) if isinstance(off, Mechanism) else tuple(off)
    names = {p.name for p in program.params}
    for m in chosen:
        if m.switch not in names:
            raise ValueError(f"the program has no switch for {m.id}")
    return configure(program, {m.switch: 0.0 for m in chosen})


def can_switch(program: Program, mechanism: Mechanism) -> bool:
    """Whether a switch parameter turns ``mechanism`` off exactly as :func:`switch_off` does:
    every reaction and dynamic; a logit decision-maker (its actions become unavailable, so it
    holds) unless the program solves decisions as an equilibrium (where beliefs about it are
    part of the solution); never a scripted one (a plan is followed whatever ``requires``)."""
    if mechanism.kind != "decision":
        return True
    d = next(d for d in program.deciders if d.actor == mechanism.name)
    return d.kind == "logit" and not program.strategic


# -- helpers -----------------------------------------------------------------------------------


def _dynamic_name(program: Program, d: StateUpdate) -> str:
    """A dynamic's scenario id (its draw site is ``dynamics.<id>``), else its variable's name."""
    site = d.value.site
    return (
        site.removeprefix("dynamics.")
        if site.startswith("dynamics.")
        else (program.var_names[d.var])
    )


def _chooses(d: Decider) -> bool:
    if len(d.candidates) < 2:
        return False
    if d.kind in ("logit", "llm"):  # a language model chooses too
        return True
    return d.kind == "scripted" and any(k != 0 for k in d.plan.values())


def _is(r: Reaction, m: Mechanism) -> bool:
    return r.kind == m.kind and r.id == m.name


def _never(r: Reaction) -> Reaction:
    """The reaction, never triggering: its trigger is the constant ``false``."""
    false = Expression("false", Bool(False), r.trigger.site, False)
    return dataclasses.replace(r, trigger=false, watch_vars=frozenset(), watch_tags=frozenset())


def _on(m: Mechanism) -> Expr:
    return Compare(Name(m.switch), (">",), (Num(0.5),))


def _both(on: Expr, e: Expression) -> Expression:
    """``switch and (e)``: the switch reads no draws, so ``e``'s draws keep their numbers."""
    return Expression(f"{_on_source(on)} and ({e.source})", Binary("and", on, e.tree), e.site, None)


def _where(on: Expr, e: Expression, var: str) -> Expression:
    """``where(switch, e, var)``: the dynamic's value when on, the variable's own when off."""
    return Expression(
        f"where({_on_source(on)}, {e.source}, {var})",
        Call("where", (on, e.tree, Name(var))),
        e.site,
        None,
    )


def _on_source(on: Expr) -> str:
    assert isinstance(on, Compare) and isinstance(on.first, Name)
    return f"{on.first.name} > 0.5"


def _gated(r: Reaction, on: Expr) -> Reaction:
    return dataclasses.replace(r, trigger=_both(on, r.trigger))


def _gated_crossings(d: Decider, lines: set[int], on: Expr) -> Decider:
    if not any(c.red_line in lines for cs in d.crossings for c in cs):
        return d
    crossings: list[tuple[Crossing, ...]] = []
    for cs in d.crossings:
        crossings.append(
            tuple(
                dataclasses.replace(c, when=_both(on, c.when)) if c.red_line in lines else c
                for c in cs
            )
        )
    return dataclasses.replace(d, crossings=tuple(crossings))


__all__ = [
    "KINDS",
    "Mechanism",
    "MechanismKind",
    "can_switch",
    "find",
    "mechanisms",
    "switch_off",
    "switchable",
    "switched_off",
]
