"""A traced run with its story: what :func:`redline.trace` and :func:`redline.story` return, and
the one way both they and ``redline story`` trace a run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar

import pyarrow as pa

from redline.compile import Configuration, Program
from redline.engine.deciders import DecisionMaker
from redline.engine.semantics import RunResult
from redline.experiment import runner
from redline.report.story import StoryLine, ending, header, maker_reasons, story
from redline.scenario.model import Scenario
from redline.tables import RecordTable, html_table

if TYPE_CHECKING:
    import pandas


class Story(RecordTable[StoryLine]):
    """A run's story as a table, a row per happening (:class:`StoryLine`: step, when, text,
    why, evidence, kind), with the configuration it was told for (``header``) and how the run
    ended (``ending``). In a notebook it shows as a table of when, what and why; ``text()``
    is the story as ``redline story`` prints it."""

    ROW = StoryLine
    #: the columns a notebook shows (to_arrow and to_pandas have all), and their cells' CSS
    SHOWN: ClassVar[tuple[str, ...]] = ("when", "text", "why", "evidence")
    STYLES: ClassVar[tuple[str, ...]] = (
        "white-space:nowrap",
        "min-width:16em;max-width:28em",
        "min-width:12em;max-width:28em",
        "min-width:16em;max-width:36em;font-size:smaller;white-space:pre-line",
    )

    __slots__ = ("ending", "header")

    def __init__(
        self,
        rows: Iterable[StoryLine],
        caption: str = "",
        header: Sequence[str] = (),
        ending: str = "",
    ) -> None:
        super().__init__(rows, caption)
        self.header = tuple(header)
        self.ending = ending

    def text(self) -> str:
        """The whole story as plain text: header, one line per happening (its reason and
        evidence indented under it; a step's date given once), ending."""
        pad = max((len(item.when) for item in self), default=0)
        lines, previous = [*self.header], ""
        for item in self:
            lines.append(f"{'' if item.when == previous else item.when:>{pad}}  {item.text}")
            lines.extend(" " * (pad + 4) + extra for extra in (item.why, *item.evidence) if extra)
            previous = item.when
        lines.append(self.ending)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        # a step's date once, on its first line, as text() and redline story print it
        whens = [line.when for line in self]
        rows = (
            (
                "" if i and whens[i - 1] == line.when else line.when,
                line.text,
                line.why,
                "\n".join(line.evidence),
            )
            for i, line in enumerate(self)
        )
        title = f"<p><strong>{html.escape(self.caption)}</strong></p>" if self.caption else ""
        head = "".join(f"<p>{html.escape(h)}</p>" for h in self.header)
        table = html_table(self.SHOWN, rows, styles=self.STYLES)
        return f"{title}{head}{table}<p>{html.escape(self.ending)}</p>"


@dataclass(frozen=True, eq=False, repr=False)
class Trace:
    """One run told step by step (immutable): ``run``, the reference interpreter's result
    with its step log; ``config``, the configuration it ran under; ``story``, its narration
    (a :class:`Story` table, which a notebook shows)."""

    scenario: Scenario
    config: Configuration
    seed: int
    run: RunResult
    program: Program = field(repr=False)
    #: a decision-maker's reason for an actor's choice (a language model's), by (step, actor)
    reasons: Mapping[tuple[int, str], str] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return (
            f"Trace(scenario={self.scenario.id!r}, seed={self.seed}, run={self.run.run}, "
            f"levers={dict(self.config.levers)!r}, lens={self.config.lens!r}, "
            f"steps={self.run.steps})"
        )

    @cached_property
    def story(self) -> Story:
        """The story's lines, step by step: what each actor did, which rules reacted and why
        (quiet steps, where everyone holds and nothing reacts, left out)."""
        return self.narrate()

    def narrate(self, verbose: bool = False) -> Story:
        """The story's lines; with ``verbose``, quiet steps too."""
        return Story(
            story(self.scenario, self.program, self.run, verbose, self.reasons),
            f"{self.scenario.title} — run {self.run.run}, seed {self.seed}",
            self.header,
            self.ending,
        )

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
        return (self.narrate(verbose) if verbose else self.story).text()

    def to_arrow(self) -> pa.Table:
        """The story as an Arrow table, a row per happening."""
        return self.story.to_arrow()

    def to_pandas(self) -> pandas.DataFrame:
        """The story as a pandas DataFrame, a row per happening (pandas is imported now)."""
        return self.story.to_pandas()

    def _repr_html_(self) -> str:
        return self.story._repr_html_()


def trace_run(
    s: Scenario,
    seed: int,
    run: int,
    levers: Mapping[str, str] | None = None,
    lens: str | None = None,
    makers: Mapping[str, DecisionMaker] | None = None,
) -> Trace:
    """Run ``run`` of ``seed`` under one configuration (unfixed levers at their defaults;
    ``lens`` None: base values), every step logged: what :func:`redline.trace` returns; the
    reasons ``makers`` give for their choices (a language model's) are told with them."""
    traced = runner.trace(s, seed, run, levers, lens, makers)
    reasons = maker_reasons(makers or {}, run)
    return Trace(s, traced.config, seed, traced.result, traced.program, reasons)


def story_lens(s: Scenario, lens: str | None) -> str | None:
    """The lens a story is told under: the one given, else the scenario's first (as the
    report's narrated run and the first rows of ``redline run``), else none."""
    if lens is None and s.lenses:
        return s.lenses[0].id
    return lens


def tell(
    s: Scenario,
    seed: int,
    run: int,
    levers: Mapping[str, str] | None = None,
    lens: str | None = None,
    verbose: bool = False,
    makers: Mapping[str, DecisionMaker] | None = None,
) -> Story:
    """One run's story as ``redline story`` and :func:`redline.story` tell it: under ``lens``
    or the scenario's first (:func:`story_lens`); with ``verbose``, quiet steps too."""
    traced = trace_run(s, seed, run, levers, story_lens(s, lens), makers)
    return traced.narrate(verbose) if verbose else traced.story
