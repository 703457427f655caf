"""The names and events a scenario's expressions can see.

Shared by validation (to check expressions) and the compiler (to lay out state and compile
expressions), so that what is checked is exactly what runs: :func:`scope_symbols` is the symbol
table of each expression scope. Besides the tags written in actions, clauses, rules and the
schedule, the front end emits tags of its own, listed by :func:`auto_tags`.
"""

from __future__ import annotations

from collections.abc import Iterator

from redline.scenario.expr.symbols import Symbols, Type
from redline.scenario.model import Scenario

#: names every expression may read besides variables and parameters
BUILTIN_NAMES = ("step", "level", "peak_level")


def action_tag(actor: str, action: str) -> str:
    """Emitted whenever ``actor`` takes ``action`` (``act:RUS:strike_convoy``)."""
    return f"act:{actor}:{action}"


def crossed_tag(red_line: str) -> str:
    return f"crossed:{red_line}"


def enforced_tag(red_line: str) -> str:
    return f"enforced:{red_line}"


def triggered_tag(alliance: str, clause: str) -> str:
    return f"triggered:{alliance}.{clause}"


def invoked_tag(alliance: str, clause: str) -> str:
    return f"invoked:{alliance}.{clause}"


def credibility_name(red_line: str) -> str:
    """The state variable holding a red line's credibility."""
    return f"credibility.{red_line}"


def expand_members(text: str, members: list[str]) -> str:
    """Replace ``{members}`` in a clause trigger with the alternation of the alliance's members."""
    return text.replace("{members}", "{" + ",".join(members) + "}")


def actors_of(scenario: Scenario) -> list[str]:
    """Ids that may act: actors, then alliances (alliances act through treaty responses)."""
    return [a.id for a in scenario.actors] + [a.id for a in scenario.alliances]


def _tags(scenario: Scenario) -> Iterator[str]:
    for action in scenario.actions:
        yield from action.tags
        for actor in action.actors:
            yield action_tag(actor, action.id)
    for alliance in scenario.alliances:
        for clause in alliance.clauses:
            yield from clause.tags
            yield triggered_tag(alliance.id, clause.id)
            yield invoked_tag(alliance.id, clause.id)
            if clause.response:
                yield action_tag(alliance.id, clause.response)
    for red_line in scenario.red_lines:
        yield crossed_tag(red_line.id)
        yield enforced_tag(red_line.id)
        yield action_tag(red_line.owner, red_line.response)
    for doctrine in scenario.doctrines:
        yield action_tag(doctrine.actor, doctrine.action)
    for event in scenario.schedule:
        yield from event.tags
        yield f"{event.kind}:{event.id}"
    for rule in scenario.rules:
        yield from rule.tags
        yield f"rule:{rule.id}"


def all_tags(scenario: Scenario) -> tuple[str, ...]:
    """Every event tag that can be emitted in the scenario, in first-seen order."""
    return tuple(dict.fromkeys(_tags(scenario)))


def parameter_names(scenario: Scenario) -> list[str]:
    """Per-run constants: parameters and uncertainties."""
    return [p.id for p in scenario.parameters] + [u.id for u in scenario.uncertainties]


def state_names(scenario: Scenario) -> list[str]:
    """Names that change during a run: variables, red-line credibilities, built-ins."""
    return (
        [v.id for v in scenario.variables]
        + [credibility_name(r.id) for r in scenario.red_lines]
        + list(BUILTIN_NAMES)
    )


def choices(scenario: Scenario) -> frozenset[tuple[str, str]]:
    """The (actor, action) pairs a decision-maker may choose, for ``chose()``."""
    pairs = {(actor, "hold") for actor in (a.id for a in scenario.actors)}
    for action in scenario.actions:
        pairs.update((actor, action.id) for actor in action.actors)
    return frozenset(pairs)


def scope_symbols(s: Scenario) -> dict[str, Symbols]:
    """The symbol table for each expression scope: ``static`` (parameters only, no randomness),
    ``pre`` (state and events, before decisions) and ``post`` (also what was chosen)."""
    params = parameter_names(s)
    state = state_names(s)
    tags = all_tags(s)
    static = Symbols(
        names=dict.fromkeys(params, Type.NUMBER), tags=(), choices=frozenset(), allow_random=False
    )
    names = dict.fromkeys([*params, *state], Type.NUMBER)
    pre = Symbols(names=names, tags=tags, choices=frozenset())
    post = Symbols(names=names, tags=tags, choices=choices(s))
    return {"static": static, "pre": pre, "post": post}
