"""One run told as a story: per step, what each actor did and which rules reacted, and why."""

from __future__ import annotations

from dataclasses import dataclass

from redline.compile import Program
from redline.engine.reference import RunResult
from redline.scenario.calendar import date_of
from redline.scenario.model import Scenario

_VERBS = {
    "red_line": ("red line crossed and enforced", "red line crossed, not enforced"),
    "clause": ("treaty clause invoked", "treaty clause triggered, not invoked"),
    "doctrine": ("doctrine applied", "doctrine's condition held, not applied"),
    "rule": ("rule fired", "rule's condition held, did not fire"),
    "schedule": ("scheduled event", "scheduled event did not happen"),
}


@dataclass(frozen=True)
class StoryLine:
    step: int
    when: str
    text: str
    why: str = ""
    evidence: tuple[str, ...] = ()


def story(
    s: Scenario, program: Program, result: RunResult, verbose: bool = False
) -> list[StoryLine]:
    """The lines of a run's story; quiet steps (everyone holds, nothing reacts) are skipped
    unless ``verbose``."""
    names = {a.id: a.label for a in s.actors} | {a.id: a.label for a in s.alliances}
    rules = {r.id: r for r in (*program.rules, *program.schedule)}
    lines: list[StoryLine] = []
    outcome_names = {o.id: o.name for o in program.outcomes}
    for log in result.log:
        date = date_of(log.step, s.time)
        shown = "%d %b %Y" if s.time.step in ("day", "week") else "%b %Y"
        when = f"step {log.step}" + (f" ({date:{shown}})" if date else "")
        for h in log.happenings:
            if h.kind == "decision":
                if h.id != "hold" or verbose:
                    lines.append(
                        StoryLine(
                            log.step, when, f"{names.get(h.actor or '', h.actor)} chose {h.id}"
                        )
                    )
                continue
            rule = rules.get(h.id)
            verb = _VERBS.get(h.kind, ("fired", "held"))[0 if h.fired else 1]
            why = f"because {rule.trigger}" if rule is not None else ""
            lines.append(StoryLine(log.step, when, f"{verb}: {h.id}", why, h.evidence))
        level = program.rungs[log.level] if 0 <= log.level < len(program.rungs) else "—"
        if verbose or any(h.kind != "decision" or h.id != "hold" for h in log.happenings):
            lines.append(StoryLine(log.step, when, f"ladder: {level}"))
    for o, first in enumerate(result.first_hit):
        if first >= 0:
            ident = program.outcomes[o].id
            lines.append(
                StoryLine(first, f"step {first}", f"outcome reached: {outcome_names[ident]}")
            )
    return sorted(lines, key=lambda line: line.step)
