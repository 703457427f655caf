"""Folding a run's story into beats: properties over random stories — every line accounted for
once, beats in order without overlap, each happening told in full at most once, stretches
without news folded whole."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from redline.report.narrative import beats
from redline.report.story import StoryLine

TEXTS = ["A chose x", "B chose y", "red line crossed, not enforced: r", "rule fired: g"]
KINDS = {TEXTS[0]: "decision", TEXTS[1]: "decision", TEXTS[2]: "red_line", TEXTS[3]: "rule"}


@st.composite
def stories(draw: st.DrawFn) -> list[StoryLine]:
    """Steps in order (some skipped), each with a few happenings, the ladder now and then."""
    lines: list[StoryLine] = []
    step = 0
    for _ in range(draw(st.integers(0, 25))):
        step += draw(st.integers(1, 3))
        when = f"step {step} (month {step})"
        for text in draw(st.lists(st.sampled_from(TEXTS), min_size=1, max_size=4)):
            lines.append(StoryLine(step, when, text, kind=KINDS[text]))
        if draw(st.booleans()) and draw(st.booleans()):
            lines.append(StoryLine(step, when, f"ladder: up to rung {step}", kind="ladder"))
    return lines


@given(stories())
@settings(max_examples=200, deadline=None)
def test_beats_account_for_every_line_once_in_order(lines: list[StoryLine]) -> None:
    told = beats(lines)
    # every line is either told in full or counted among the repeats, exactly once
    assert sum(len(b.news) + sum(n for _, n in b.repeats) for b in told) == len(lines)
    # beats cover the steps in order, without overlap, and every step with lines is in one
    for a, b in itertools.pairwise(told):
        assert a.last < b.first
    steps = {line.step for line in lines}
    for step in steps:
        assert sum(b.first <= step <= b.last for b in told) == 1
    # a happening is told in full once; the ladder's moves are news every time
    news = [line.text for b in told for line in b.news if line.kind != "ladder"]
    assert len(news) == len(set(news))
    # steps with news stand alone; stretches without news are folded whole (never two in a row)
    for b in told:
        assert b.folded or b.first == b.last
    for a, b in itertools.pairwise(told):
        assert not (a.folded and b.folded)


def test_a_repeated_happening_in_one_step_is_news_once() -> None:
    lines = [StoryLine(0, "step 0", "A chose x", kind="decision") for _ in range(3)]
    (beat,) = beats(lines)
    assert [line.text for line in beat.news] == ["A chose x"]
    assert beat.repeats == [("A chose x", 2)]
