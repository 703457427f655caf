"""The narrated run as the report tells it: what changed at each step, repeated states folded.

A run's story repeats itself: the same actor chooses the same action month after month, the same
red line is crossed and not enforced at every step. The report tells a happening in full the first
time; afterwards it only counts it. A step is *news* when something happens for the first time in
the run (an actor's first choice of an action, a rule's first reaction of that kind), the ladder
moves or an outcome is reached; consecutive steps without news are folded into one entry —
"steps 13–15: nothing new" — with each repeated happening and how often it recurred (``×3``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from redline.report.story import StoryLine

__all__ = ["StoryBeat", "beats"]

#: kinds of line that are news every time they happen
_ALWAYS_NEWS = frozenset({"ladder", "outcome"})
_DATE = re.compile(r"\(([^()]*)\)\s*$")


@dataclass(frozen=True)
class StoryBeat:
    """One step with news, or a run of steps without any.

    ``news`` are the lines told in full; ``repeats`` the happenings seen before, each with the
    number of times it recurred over the beat's steps (in order of first recurrence)."""

    first: int
    last: int
    when: str
    news: list[StoryLine] = field(default_factory=list)
    repeats: list[tuple[str, int]] = field(default_factory=list)

    @property
    def folded(self) -> bool:
        """Whether this beat is steps without news."""
        return not self.news

    @property
    def steps(self) -> int:
        """How many steps the beat covers."""
        return self.last - self.first + 1


def _date(when: str) -> str | None:
    match = _DATE.search(when)
    return match.group(1) if match else None


def _span(first: int, last: int, first_when: str, last_when: str) -> str:
    """``step 4 (Nov 2023)`` or ``steps 4–9 (Nov 2023 – Apr 2024)``."""
    if first == last:
        return first_when or f"step {first}"
    a, b = _date(first_when), _date(last_when)
    dates = f" ({a} – {b})" if a and b else ""
    return f"steps {first}–{last}{dates}"


def _counted(lines: Sequence[StoryLine]) -> list[tuple[str, int]]:
    counts = Counter(line.text for line in lines)
    # most frequent first; ties in order of first recurrence (Counter keeps insertion order)
    return sorted(counts.items(), key=lambda item: -item[1])


def _always_news(line: StoryLine) -> bool:
    """Ladder moves and outcomes are news every time, and so is a decision told with its
    decision-maker's reason (a language model's): the reason is new even when the choice is not."""
    return line.kind in _ALWAYS_NEWS or (line.kind == "decision" and bool(line.why))


def beats(lines: Sequence[StoryLine]) -> list[StoryBeat]:
    """The story's lines as beats: every step with news on its own (its news in full, its
    repeats counted), and each stretch of steps without news folded into one beat."""
    steps: dict[int, list[StoryLine]] = {}
    for line in lines:
        steps.setdefault(line.step, []).append(line)
    seen: set[str] = set()
    out: list[StoryBeat] = []
    quiet: list[tuple[int, list[StoryLine]]] = []  # the stretch being folded

    def fold() -> None:
        """Close the stretch of steps without news."""
        if not quiet:
            return
        (first, head), (last, tail) = quiet[0], quiet[-1]
        repeated = [line for _, group in quiet for line in group]
        when = _span(first, last, head[0].when, tail[0].when)
        out.append(StoryBeat(first, last, when, [], _counted(repeated)))
        quiet.clear()

    for step in sorted(steps):
        group = steps[step]
        news = [line for line in group if _always_news(line) or line.text not in seen]
        # a line that happens twice in one step is news once
        fresh: list[StoryLine] = []
        told: set[str] = set()
        for line in news:
            if line.text in told and not _always_news(line):
                continue
            told.add(line.text)
            fresh.append(line)
        kept = {id(line) for line in fresh}
        repeats = [line for line in group if id(line) not in kept]
        seen.update(line.text for line in group)
        if not fresh:
            quiet.append((step, group))
            continue
        fold()
        when = max((line.when for line in group), key=len) or f"step {step}"
        out.append(StoryBeat(step, step, when, fresh, _counted(repeats)))
    fold()
    return out
