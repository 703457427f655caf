"""A traced run with its story: what :func:`redline.trace` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from redline.compile import Configuration, Program
from redline.engine.semantics import RunResult
from redline.report.story import StoryLine, ending, header, story
from redline.scenario.model import Scenario


@dataclass(frozen=True, eq=False, repr=False)
class Trace:
    """One run told step by step (immutable): ``run``, the reference interpreter's result
    with its step log; ``config``, the configuration it ran under; ``story``, its narration."""

    scenario: Scenario
    config: Configuration
    seed: int
    run: RunResult
    program: Program = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"Trace(scenario={self.scenario.id!r}, seed={self.seed}, run={self.run.run}, "
            f"levers={dict(self.config.levers)!r}, lens={self.config.lens!r}, "
            f"steps={self.run.steps})"
        )

    @cached_property
    def story(self) -> tuple[StoryLine, ...]:
        """The story's lines, step by step: what each actor did, which rules reacted and why
        (quiet steps, where everyone holds and nothing reacts, left out)."""
        return self.narrate()

    def narrate(self, verbose: bool = False) -> tuple[StoryLine, ...]:
        """The story's lines; with ``verbose``, quiet steps too."""
        return tuple(story(self.scenario, self.program, self.run, verbose))

    @property
    def header(self) -> list[str]:
        """The configuration the story is told for: its levers and its lens."""
        return header(self.scenario, self.config)

    @property
    def ending(self) -> str:
        """How the run ended, its peak on the ladder and the outcomes it reached."""
        return ending(self.scenario, self.program, self.run)

    def text(self, verbose: bool = False) -> str:
        """The whole story as plain text: header, one line per happening (with its reason and
        evidence indented under it; a step's date given once), ending."""
        told = self.narrate(verbose) if verbose else self.story
        pad = max((len(item.when) for item in told), default=0)
        lines, previous = [*self.header], ""
        for item in told:
            lines.append(f"{'' if item.when == previous else item.when:>{pad}}  {item.text}")
            lines.extend(" " * (pad + 4) + extra for extra in (item.why, *item.evidence) if extra)
            previous = item.when
        lines.append(self.ending)
        return "\n".join(lines)
