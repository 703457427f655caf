"""One run told as a story: per step, what each actor did and which rules reacted, and why.

Elements are named by their scenario names, with the id in brackets where a rule is meant (so it
can be found in the scenario file). A rule's condition and evidence are told the first time it
appears; later lines point back to that step. The ladder is mentioned only when the rung changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from redline.compile import Configuration, Program
from redline.engine.semantics import Happening, RunResult
from redline.experiment.design import lever_defaults
from redline.scenario.calendar import date_of
from redline.scenario.model import (
    Element,
    EvidenceRef,
    NumOrExpr,
    RedLine,
    Scenario,
    ScheduledEvent,
)
from redline.scenario.register import Citation, resolve_evidence

_VERBS = {
    "red_line": ("red line crossed and enforced", "red line crossed, not enforced"),
    "clause": ("treaty clause invoked", "treaty clause triggered, not invoked"),
    "doctrine": ("doctrine applied", "doctrine's condition held, not applied"),
    "rule": ("rule fired", "rule's condition held, did not fire"),
}
_SCHEDULE_WORDS = {"election": "election", "summit": "summit", "event": "scheduled event"}


@dataclass(frozen=True)
class StoryLine:
    """One happening of a run's story: at ``step`` (``when`` says it with its date), ``text``
    says what happened, ``why`` its reason, ``evidence`` its quotes. ``kind`` is what
    happened: ``decision``, ``ladder``, ``outcome``, or the kind of rule that reacted
    (``red_line``, ``clause``, ``doctrine``, ``rule``, ``schedule``)."""

    step: int
    when: str
    text: str
    why: str = ""
    evidence: tuple[str, ...] = ()
    kind: str = ""


@dataclass(frozen=True)
class _Told:
    """What the story says about one rule: its name, its reason and its evidence."""

    name: str
    why: str
    evidence: tuple[str, ...]
    event: ScheduledEvent | None = None


def named(label: str, ident: str) -> str:
    """An element by name with its id in brackets, or by id alone when it has no name."""
    return f'"{label}" ({ident})' if label != ident else ident


def quoted(c: Citation) -> str:
    """A citation as ``source: “quote”`` (the source's author, title and date where the scenario
    records them); double quotes inside the quote become single ones."""
    inner = c.quote.replace("“", "‘").replace("”", "’").replace('"', "'")
    return f"{c.reference}: “{inner}”"


def step_when(s: Scenario, step: int) -> str:
    """``step 3 (Oct 2023)``: the step and, where the scenario has a start, its date."""
    date = date_of(step, s.time)
    if date is None:
        return f"step {step}"
    shown = {"day": "%d %b %Y", "week": "%d %b %Y", "year": "%Y"}.get(s.time.step, "%b %Y")
    return f"step {step} ({date:{shown}})"


def _action_label(s: Scenario, ident: str) -> str:
    """An action by its name in quotes, or by its id when it has no name."""
    action = next((a for a in s.actions if a.id == ident), None)
    return f'"{action.name}"' if action is not None and action.name else ident


def _condition(when: str) -> str:
    return "" if when.strip() == "true" else when


def _joined(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _changes(effects: Mapping[str, NumOrExpr]) -> str:
    """Effects as ``var +0.5, other += expr``."""
    return ", ".join(
        f"{var} {value:+g}" if isinstance(value, float | int) else f"{var} += {value}"
        for var, value in effects.items()
    )


def _told(
    s: Scenario, element: Element, why: str, evidence: list[EvidenceRef], ident: str = ""
) -> _Told:
    quotes = tuple(quoted(c) for c in resolve_evidence(s, evidence))
    event = element if isinstance(element, ScheduledEvent) else None
    return _Told(named(element.label, ident or element.id), why, quotes, event)


def _red_line_why(s: Scenario, r: RedLine) -> str:
    when = _condition(r.when)
    crossing = f"crossed by {r.crossing}" + (f" while {when}" if when else "")
    return _joined(crossing, f"threatened response: {_action_label(s, r.response)}")


def _chance(probability: NumOrExpr, values: Mapping[str, float]) -> str:
    """``chance p_x = 0.5`` (a parameter with its value), ``chance 0.3``, or empty when 1."""
    if isinstance(probability, float | int):
        return "" if probability == 1 else f"chance {probability:g}"
    value = values.get(probability)
    return f"chance {probability}" + (f" = {value:g}" if value is not None else "")


def _schedule_why(e: ScheduledEvent, values: Mapping[str, float], fired: bool) -> str:
    """Why a scheduled event was tried (its condition), its chance and, if it fired, its changes."""
    when = _condition(e.when)
    changes = f"changes {_changes(e.effects)}" if e.effects and fired else ""
    return _joined(f"because {when}" if when else "", _chance(e.probability, values), changes)


def told_rules(s: Scenario) -> dict[str, _Told]:
    """Every rule of the scenario by its core id, as the story tells it (a scheduled event's
    reason depends on whether it fired, so the narrator words it)."""
    told = {r.id: _told(s, r, _red_line_why(s, r), r.evidence) for r in s.red_lines}
    for a in s.alliances:
        for c in a.clauses:
            response = f"response: {_action_label(s, c.response)}" if c.response else ""
            why = _joined(f"because {c.trigger}", response)
            ident = f"{a.id}.{c.id}"
            told[ident] = _told(s, c, why, c.evidence, ident)
    for d in s.doctrines:
        why = _joined(f"because {d.when}", f"action: {_action_label(s, d.action)}")
        told[d.id] = _told(s, d, why, d.evidence)
    for g in s.rules:
        told[g.id] = _told(s, g, f"because {g.when}", g.evidence)
    for e in s.schedule:
        told[e.id] = _told(s, e, "", e.evidence)
    return told


@dataclass
class _Narrator:
    """Builds the lines of one run's story, remembering which rules were already told."""

    s: Scenario
    program: Program
    result: RunResult
    verbose: bool
    #: a decision-maker's reason for an actor's choice at a step, by (step, actor)
    reasons: Mapping[tuple[int, str], str] = field(default_factory=dict)
    rules: dict[str, _Told] = field(init=False)
    first_seen: dict[str, str] = field(default_factory=dict)
    lines: list[StoryLine] = field(default_factory=list)

    def __post_init__(self) -> None:
        params = {p.name: p.value for p in self.program.params if p.value is not None}
        self.values = params | self.result.params
        self.rules = told_rules(self.s)

    def tell(self) -> list[StoryLine]:
        """Every step's happenings, ladder changes and first-reached outcomes, in order."""
        level = 0
        for log in self.result.log:
            when = step_when(self.s, log.step)
            for h in log.happenings:
                self.happening(log.step, when, h)
            if log.level != level and 0 <= log.level < len(self.program.rungs):
                self.ladder(log.step, when, level, log.level)
                level = log.level
            self.outcomes(log.step, when)
        return self.lines

    def add(
        self,
        step: int,
        when: str,
        text: str,
        why: str = "",
        ev: tuple[str, ...] = (),
        kind: str = "",
    ) -> None:
        self.lines.append(StoryLine(step, when, text, why, ev, kind))

    def happening(self, step: int, when: str, h: Happening) -> None:
        if h.kind == "decision":
            self.decision(step, when, h)
            return
        told = self.rules.get(h.id, _Told(h.id, "", h.evidence))
        text, why = self.reaction(h, told)
        kind = "schedule" if told.event is not None else h.kind
        if h.id in self.first_seen:
            see = _see(bool(why), bool(told.evidence), self.first_seen[h.id])
            self.add(step, when, text, see, kind=kind)
            return
        self.first_seen[h.id] = when
        self.add(step, when, text, why, told.evidence, kind)

    def decision(self, step: int, when: str, h: Happening) -> None:
        reason = self.reasons.get((step, h.actor or ""), "")
        if h.id != "hold" or self.verbose or reason:
            self.add(step, when, decision_sentence(self.s, h), reason, kind="decision")

    def reaction(self, h: Happening, told: _Told) -> tuple[str, str]:
        """A rule's reaction and the reason shown for it."""
        why = "" if told.event is None else _schedule_why(told.event, self.values, h.fired)
        return reaction_sentence(h, told), told.why if told.event is None else why

    def ladder(self, step: int, when: str, old: int, new: int) -> None:
        rungs = self.program.rungs
        direction = "up" if new > old else "down"
        self.add(
            step, when, f"ladder: {direction} to {rungs[new]} (from {rungs[old]})", kind="ladder"
        )

    def outcomes(self, step: int, when: str) -> None:
        for outcome, first in zip(self.program.outcomes, self.result.first_hit, strict=True):
            if first == step:
                ends = " — this ends the run" if outcome.absorbing else ""
                self.add(step, when, f"outcome reached: {outcome.name}{ends}", kind="outcome")


def decision_sentence(s: Scenario, h: Happening) -> str:
    """What the story says of an actor's decision: ``"Russia" chose "Strike a convoy"``."""
    actors = {a.id: a.label for a in (*s.actors, *s.alliances)}
    actor = actors.get(h.actor or "", h.actor or "?")
    return f"{actor} holds" if h.id == "hold" else f"{actor} chose {_action_label(s, h.id)}"


def reaction_sentence(h: Happening, told: _Told) -> str:
    """What the story says of a rule's reaction (``told``: the rule as :func:`told_rules`
    tells it)."""
    if told.event is not None:
        return _scheduled(told.name, told.event, h.fired)
    verb = _VERBS.get(h.kind, ("fired", "held, did not fire"))[0 if h.fired else 1]
    return f"{verb}: {told.name}"


def happening_sentence(s: Scenario, h: Happening, rules: Mapping[str, _Told]) -> str:
    """One happening as the story's own sentence (``rules``: :func:`told_rules` of ``s``)."""
    if h.kind == "decision":
        return decision_sentence(s, h)
    return reaction_sentence(h, rules.get(h.id, _Told(h.id, "", h.evidence)))


def _see(condition: bool, evidence: bool, first: str) -> str:
    """The short reference a rule's later lines carry instead of its condition and evidence."""
    shown = " and ".join(w for w, on in (("condition", condition), ("evidence", evidence)) if on)
    return f"{shown} above, at {first}" if shown else ""


def _scheduled(name: str, event: ScheduledEvent, fired: bool) -> str:
    """A scheduled event that happened, or one whose chance did not come up this run (an
    election is still held then; only the change it models does not occur)."""
    head = f"{_SCHEDULE_WORDS[event.kind]}: {name}"
    if fired:
        return head
    if event.kind != "election":
        return f"{head} — did not happen this run"
    change = f" ({_changes(event.effects)})" if event.effects else ""
    return f"{head} — the election was held; its change{change} did not occur this run"


def maker_reasons(makers: Mapping[str, object], run: int) -> dict[tuple[int, str], str]:
    """The reasons plugged-in decision-makers give for their choices in ``run``, by (step,
    actor): from those with a ``reasons_for(run)`` method (a language model's)."""
    out: dict[tuple[int, str], str] = {}
    for actor, maker in makers.items():
        reasons_for = getattr(maker, "reasons_for", None)
        if callable(reasons_for):
            out.update(((int(step), actor), str(text)) for step, text in reasons_for(run).items())
    return out


def story(
    s: Scenario,
    program: Program,
    result: RunResult,
    verbose: bool = False,
    reasons: Mapping[tuple[int, str], str] | None = None,
) -> list[StoryLine]:
    """The lines of a run's story; quiet steps (everyone holds, nothing reacts) are skipped
    unless ``verbose``. ``reasons`` (by step and actor: a language model's reason for its
    choice) are told with the decisions, holds included."""
    return _Narrator(s, program, result, verbose, dict(reasons or {})).tell()


def header(s: Scenario, config: Configuration) -> list[str]:
    """The configuration a story was told for: each lever and its option by name, as ``redline
    run`` names them (``NATO's answer to a strike: collective (set; the default is
    uncertain)``), and its lens."""
    defaults = lever_defaults(s)
    settings = []
    for lever in s.levers:
        chosen = config.levers.get(lever.id, defaults.get(lever.id))
        if chosen is None:
            continue
        label = {o.id: o.name or o.id for o in lever.options}
        default = defaults.get(lever.id)
        note = (
            "the default"
            if chosen == default
            else f"set; the default is {label.get(default or '', default)}"
        )
        settings.append(f"{lever.label}: {label.get(chosen, chosen)} ({note})")
    lines = [f"levers: {'; '.join(settings)}"] if settings else []
    lens = next((x for x in s.lenses if x.id == config.lens), None)
    lines.append(f"lens: {named(lens.label, lens.id)}" if lens else "lens: no lens (base values)")
    return lines


def _steps(n: int) -> str:
    """``1 step``, ``12 steps``."""
    return f"{n} step" + ("" if n == 1 else "s")


def ending(s: Scenario, program: Program, result: RunResult) -> str:
    """The closing line: how the run ended (naming the outcomes that ended it), its peak rung
    and the outcomes it reached."""
    last = result.steps - 1
    hits = list(zip(program.outcomes, result.first_hit, strict=True))
    enders = [o.name for o, first in hits if o.absorbing and first == last]
    if enders:
        head = f"The run ended at {step_when(s, last)}, after {_steps(result.steps)}, with "
        head += " and ".join(enders)
    else:
        head = f"The run reached the horizon ({_steps(result.steps)}) with no outcome that ends it"
    rungs = program.rungs
    peak = rungs[result.peak_level] if 0 <= result.peak_level < len(rungs) else "—"
    reached = [f"{o.name} (step {first})" for o, first in hits if first >= 0]
    tail = f"Outcomes reached: {', '.join(reached)}" if reached else "No outcome was reached"
    return f"{head}. Peak ladder level: {peak}. {tail}."
