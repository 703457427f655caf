"""The rungs of an escalation ladder as ``redline ladder`` lists them.

A built-in ladder (``kahn``, ``condensed``) or a scenario's — built in or inline — bottom to top:
each rung's number, id, name, category and group, the threshold crossed on the way up to it, the
Kahn rungs it stands for, and, for a scenario, the actions placed on it (an action's ``level``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from redline.scenario.ladders import Ladder, builtin_ladder
from redline.scenario.model import Scenario


@dataclass(frozen=True)
class RungRow:
    """One rung: its 1-based number, id, name, category, group (None on an inline ladder
    without one), the threshold below it (crossed on the way up to it), the range of Kahn
    rungs it stands for, and the actions of the scenario on it."""

    number: int
    id: str
    name: str
    category: str
    group: str | None = None
    threshold: str | None = None
    kahn: tuple[int, int] | None = None
    actions: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class LadderView:
    """A ladder to list: its name (a built-in's, or ``inline``), title, source and rungs."""

    name: str
    title: str
    source: str
    rungs: tuple[RungRow, ...]


def builtin_rungs(ladder: Ladder) -> list[RungRow]:
    """The rungs of a built-in ladder, each with the threshold crossed on the way up to it."""
    firsts = {
        ladder.threshold_index(t.name): t.name for t in ladder.thresholds
    }  # position of the first rung above each threshold
    return [
        RungRow(r.rung, r.id, r.name, r.category, r.group, firsts.get(i), r.kahn)
        for i, r in enumerate(ladder.rungs)
    ]


def builtin_view(name: str) -> LadderView:
    """A built-in ladder by name (:class:`KeyError` for an unknown one)."""
    ladder = builtin_ladder(name)
    rows = tuple(builtin_rungs(ladder))
    return LadderView(ladder.name, ladder.title or ladder.name, ladder.source or "", rows)


def scenario_view(s: Scenario) -> LadderView:
    """A scenario's ladder with the actions on each rung (by name where they have one)."""
    if isinstance(s.ladder, str):
        base = builtin_view(s.ladder)
        rows, name, title, source = list(base.rungs), base.name, base.title, base.source
    else:
        rows = [
            RungRow(i, r.id, r.name, r.category, r.group) for i, r in enumerate(s.ladder, start=1)
        ]
        name, title, source = "inline", f"the ladder of {s.title}", ""
    on: dict[int, list[str]] = {}
    ids = [r.id for r in rows]
    for action in s.actions:
        if action.level is None:
            continue
        number = action.level if isinstance(action.level, int) else ids.index(action.level) + 1
        on.setdefault(number, []).append(action.label)
    placed = tuple(
        RungRow(
            r.number,
            r.id,
            r.name,
            r.category,
            r.group,
            r.threshold,
            r.kahn,
            tuple(on.get(r.number, ())),
        )
        for r in rows
    )
    return LadderView(name, title, source, placed)
