"""The prompt a language-model actor is asked with, built from the scenario, not written per
scenario: who the actor is (name, persona, weights as goals), the situation (date, ladder rung,
variables in words, what happened since its last decision in the story's own sentences), the
actions available to it with their descriptions, the red lines it has declared and those its
actions would cross with their credibility as it perceives them, and the evidence quotes behind
them. The words are a Jinja2 template (``templates/decision.j2``, or the user's own file) with two
macros, ``system()`` and ``user()``; this module computes the values they read.

A run's prompt depends only on that run's row of the situation, so the batched engine and the
one-run reference interpreter ask the same question (and a cached answer serves both)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from redline.engine.deciders import Situation
from redline.errors import UserError
from redline.report.story import happening_sentence, quoted, step_when, told_rules
from redline.scenario import symbols as sym
from redline.scenario.ladders import builtin_ladder
from redline.scenario.model import Actor, EvidenceRef, NumOrExpr, Scenario
from redline.scenario.register import resolve_evidence

#: the longest quote put in a prompt, and how many quotes an element brings
QUOTE_CHARS = 300
QUOTES_EACH = 2
#: a chat message as the OpenAI API takes it
Message = dict[str, str]


class TemplateProblem(UserError):
    """A prompt template that cannot be read or rendered; the message names the file and line."""


@dataclass(frozen=True)
class _Rung:
    name: str
    category: str


def _rungs(s: Scenario) -> list[_Rung]:
    if isinstance(s.ladder, str):
        return [_Rung(r.name, r.category) for r in builtin_ladder(s.ladder).rungs]
    return [_Rung(r.name, r.category) for r in s.ladder]


def _number(value: float) -> str:
    return f"{value:.3g}"


def _quotes(s: Scenario, refs: list[EvidenceRef]) -> list[str]:
    out = []
    for c in resolve_evidence(s, refs)[:QUOTES_EACH]:
        text = quoted(c)
        out.append(text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…")
    return out


def _goal(s: Scenario, target: str, weight: NumOrExpr) -> str:
    """A preference weight in words: what the actor wants more or less of."""
    red = next((r for r in s.red_lines if sym.credibility_name(r.id) == target), None)
    if red is not None:
        what = f"the credibility of the red line '{red.label}'"
    else:
        var = next((v for v in s.variables if v.id == target), None)
        what = f"'{var.label}'" if var is not None else f"'{target}'"
        if var is not None and var.description:
            what += f" ({var.description})"
    if isinstance(weight, str):
        return f"{what} matters to you with weight {weight}"
    direction = "raise" if weight > 0 else "lower"
    return f"{direction} {what} (weight {abs(weight):g})"


def load_template(path: Path | None) -> Any:
    """The prompt template: the user's file, or the built-in one. Its errors are refused with
    the file and line."""
    env = SandboxedEnvironment(undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    if path is None:
        name = "decision.j2 (built-in)"
        text = (resources.files("redline.llm") / "templates" / "decision.j2").read_text("utf-8")
    else:
        name = str(path)
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TemplateProblem(f"cannot read the prompt template {path}: {exc}") from None
    try:
        template = env.from_string(text)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"{name}:{exc.lineno}: {exc.message}") from None
    return _Named(template, name)


@dataclass(frozen=True)
class _Named:
    template: Any
    name: str


class PromptBook:
    """The prompts of one actor of one scenario: what does not change from run to run is worked
    out once; :meth:`messages` fills in a run's situation."""

    def __init__(self, s: Scenario, actor: str, template: Path | None = None) -> None:
        self.s = s
        self.actor: Actor = next(a for a in s.actors if a.id == actor)
        self.loaded: _Named = load_template(template)
        self.rules = told_rules(s)
        self.rungs = _rungs(s)
        self.labels = {a.id: a.label for a in (*s.actors, *s.alliances)}
        self.actions = {a.id: a for a in s.actions}
        self.red_lines = {r.id: r for r in s.red_lines}
        credibility = {sym.credibility_name(r.id) for r in s.red_lines}
        self.variables = [v for v in s.variables if v.id not in credibility]
        d = self.actor.decision
        self.static: dict[str, Any] = {
            "scenario": {"id": s.id, "title": s.title, "description": s.description or ""},
            "actor": {
                "id": self.actor.id,
                "name": self.actor.label,
                "persona": d.persona or "",
                "description": self.actor.description or "",
            },
            "goals": [_goal(s, k, w) for k, w in d.weights.items()],
            "horizon": s.time.horizon,
        }
        self.action_quotes = {a.id: _quotes(s, a.evidence) for a in s.actions}
        self.red_quotes = {r.id: _quotes(s, r.evidence) for r in s.red_lines}
        self.check()

    def _action_label(self, ident: str) -> str:
        action = self.actions.get(ident)
        return action.label if action is not None else ident

    def context(self, situation: Situation, i: int) -> dict[str, Any]:
        """The values the template reads for the run at row ``i`` of ``situation``."""
        s, step = self.s, situation.step
        ctx = dict(self.static)
        ctx["step"] = step
        ctx["when"] = step_when(s, step)
        level = int(situation.level[i]) if situation.level is not None else None
        ctx["rung"] = (
            {
                "position": level + 1,
                "of": len(self.rungs),
                "name": self.rungs[level].name,
                "category": self.rungs[level].category,
            }
            if level is not None and 0 <= level < len(self.rungs)
            else None
        )
        recent = situation.recent[i] if situation.recent is not None else ()
        ctx["happened"] = [
            happening_sentence(s, h, self.rules)
            for h in recent
            if not (h.kind == "decision" and h.id == "hold")
        ]
        variables = []
        for v in self.variables:
            column = situation.state.get(v.id)
            if column is None:
                continue
            span = (
                f"{_number(v.min)} to {_number(v.max)}"
                if v.min is not None and v.max is not None
                else ""
            )
            variables.append(
                {
                    "id": v.id,
                    "name": v.label,
                    "value": _number(float(column[i])),
                    "range": span,
                    "description": v.description or "",
                }
            )
        ctx["variables"] = variables
        ctx["declared"] = [
            {
                "id": r.id,
                "name": r.label,
                "crossing": r.crossing,
                "response": self._action_label(r.response),
                "credibility": _number(float(situation.state[sym.credibility_name(r.id)][i]))
                if sym.credibility_name(r.id) in situation.state
                else "unknown",
                "quotes": self.red_quotes[r.id],
            }
            for r in s.red_lines
            if r.owner == self.actor.id
        ]
        actions, faced = [], {}
        for k, ident in enumerate(situation.actions):
            if not situation.available[i, k]:
                continue
            crosses = situation.crosses[k] if k < len(situation.crosses) else ()
            action = self.actions.get(ident)
            actions.append(
                {
                    "id": ident,
                    "name": action.label if action else "Hold",
                    "description": (action.description or "")
                    if action
                    else "do nothing new this turn",
                    "crosses": [self.red_lines[r].label for r in crosses if r in self.red_lines],
                    "quotes": self.action_quotes.get(ident, []),
                }
            )
            for r in crosses:
                if r in self.red_lines and r not in faced:
                    line = self.red_lines[r]
                    perceived = situation.credibility.get(r)
                    faced[r] = {
                        "id": r,
                        "name": line.label,
                        "owner": self.labels.get(line.owner, line.owner),
                        "response": self._action_label(line.response),
                        "credibility": _number(float(perceived[i]))
                        if perceived is not None
                        else "unknown",
                        "quotes": self.red_quotes[r],
                    }
        ctx["actions"] = actions
        ctx["faced"] = list(faced.values())
        return ctx

    def render(self, ctx: dict[str, Any]) -> list[Message]:
        """The system and user messages of a context."""
        try:
            module = self.loaded.template.make_module(ctx)
            system, user = str(module.system()), str(module.user())
        except AttributeError:
            raise TemplateProblem(
                f"{self.loaded.name}: a prompt template must define the macros system() and user()"
            ) from None
        except TemplateError as exc:
            line = getattr(exc, "lineno", None)
            where = f"{self.loaded.name}:{line}" if line else self.loaded.name
            raise TemplateProblem(f"{where}: {exc}") from None
        return [
            {"role": "system", "content": system.strip()},
            {"role": "user", "content": user.strip()},
        ]

    def messages(self, situation: Situation, i: int) -> list[Message]:
        """The messages asking the actor to decide in the run at row ``i`` of ``situation``."""
        return self.render(self.context(situation, i))

    def check(self) -> None:
        """Render the template once with an empty situation, so that a broken template is
        refused before anything runs."""
        ctx = dict(self.static)
        ctx.update(step=0, when="step 0", rung=None, happened=[], variables=[], declared=[])
        ctx.update(actions=[], faced=[])
        self.render(ctx)
