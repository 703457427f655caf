"""The narrated run (``redline story`` and the report's story section): names rather than ids,
scheduled events worded by what happened, supporting text told once, dated outcomes, an ending
that names what ended the run, and a header that names the lens."""

from __future__ import annotations

import dataclasses
import html
import re
from collections import Counter

import pytest
from report_support import make_data
from typer.testing import CliRunner

from redline.api import load, trace
from redline.cli import app
from redline.cli.app import out
from redline.compile import Program, compile_scenario
from redline.engine.semantics import Happening, RunResult, StepLog
from redline.report.html import render_report
from redline.report.story import StoryLine, ending, quoted, story
from redline.report.trace import tell
from redline.scenario.loader import load_scenario
from redline.scenario.model import Scenario
from redline.scenario.register import Citation

SCENARIO = "convoy-strike"
STEP = re.compile(r"^\s*(step \d+ \(\w{3} \d{4}\)|steps \d+–\d+ \(\w{3} \d{4} – \w{3} \d{4}\))  ")


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load(SCENARIO)


@pytest.fixture(scope="module")
def program(scenario: Scenario) -> Program:
    return compile_scenario(scenario)


def decision(actor: str, action: str) -> Happening:
    return Happening("decision", action, actor, True)


def reaction(kind: str, ident: str, fired: bool) -> Happening:
    return Happening(kind, ident, None, fired)


def made_run(
    program: Program,
    steps: list[list[Happening]],
    levels: list[int] | None = None,
    first_hit: dict[str, int] | None = None,
) -> RunResult:
    """A run whose log is given step by step (so the tests do not depend on what the engine
    draws for some seed)."""
    levels = levels or [0] * len(steps)
    hits = [(first_hit or {}).get(o.id, -1) for o in program.outcomes]
    log = [StepLog(t, levels[t], list(h), [], {}) for t, h in enumerate(steps)]
    return RunResult(0, hits, max(levels), len(steps), [], {}, levels, log)


def texts(lines: list[StoryLine]) -> list[str]:
    return [line.text for line in lines]


def test_elements_are_named_not_shown_by_id(scenario: Scenario, program: Program) -> None:
    run = made_run(
        program,
        [
            [
                decision("RUS", "strike_convoy"),
                reaction("red_line", "convoys", False),
                reaction("clause", "NATO.article4", True),
                reaction("doctrine", "nuclear_defeat", True),
            ]
        ],
    )
    said = "\n".join(texts(story(scenario, program, run)))
    assert 'Russia chose "missile strike on an aid convoy on Polish soil"' in said
    assert 'red line crossed, not enforced: "aid convoys are legitimate targets" (convoys)' in said
    assert 'treaty clause invoked: "Article 4 consultation" (NATO.article4)' in said
    assert 'doctrine applied: "nuclear use when facing defeat" (nuclear_defeat)' in said
    assert "chose strike_convoy" not in said


def test_an_election_whose_change_did_not_occur_was_still_held(
    scenario: Scenario, program: Program
) -> None:
    run = made_run(program, [[reaction("schedule", "us_election_2024", False)]])
    (line,) = story(scenario, program, run)
    assert line.text.startswith("election: us_election_2024")
    assert "the election was held; its change (transactional.USA +1) did not occur" in line.text
    assert "did not happen" not in line.text
    assert line.why == "chance 0.5"
    assert "because true" not in line.why


def test_an_unconditional_scheduled_event_has_no_because_true(
    scenario: Scenario, program: Program
) -> None:
    run = made_run(program, [[reaction("schedule", "us_election_2024", True)]])
    (line,) = story(scenario, program, run)
    assert line.text == "election: us_election_2024"
    assert "because" not in line.why
    assert "changes transactional.USA +1" in line.why


def test_evidence_is_told_once_per_rule(scenario: Scenario, program: Program) -> None:
    crossed = [reaction("red_line", "convoys", False)]
    lines = story(scenario, program, made_run(program, [crossed] * 5))
    assert len(lines) == 5  # every crossing is still told
    first, *later = lines
    assert first.evidence and "crossed by aid:*->UKR while aid > 0.5" in first.why
    for line in later:
        assert line.text == first.text
        assert line.evidence == ()
        assert line.why == "condition and evidence above, at step 0 (Jul 2023)"


def test_the_ladder_is_told_only_when_the_rung_changes(
    scenario: Scenario, program: Program
) -> None:
    busy = [decision("RUS", "offensive")]
    run = made_run(program, [busy] * 5, levels=[3, 3, 3, 5, 5])
    ladder = [line for line in story(scenario, program, run) if line.text.startswith("ladder")]
    rungs = program.rungs
    assert [(line.step, line.text) for line in ladder] == [
        (0, f"ladder: up to {rungs[3]} (from {rungs[0]})"),
        (3, f"ladder: up to {rungs[5]} (from {rungs[3]})"),
    ]


def test_outcomes_are_dated_and_the_ending_names_what_ended_the_run(
    scenario: Scenario, program: Program
) -> None:
    busy = [decision("RUS", "offensive")]
    # war is a state the run continues through; nuclear use ends it
    run = made_run(program, [busy] * 4, first_hit={"article5": 1, "war": 2, "nuclear_use": 3})
    lines = story(scenario, program, run)
    reached = [line for line in lines if line.text.startswith("outcome reached")]
    assert [(line.when, line.text) for line in reached] == [
        ("step 1 (Aug 2023)", "outcome reached: Article 5 invoked"),
        ("step 2 (Sep 2023)", "outcome reached: direct NATO–Russia war"),
        ("step 3 (Oct 2023)", "outcome reached: Russian nuclear use — this ends the run"),
    ]
    closing = ending(scenario, program, run)
    assert closing.startswith(
        "The run ended at step 3 (Oct 2023), after 4 steps, with Russian nuclear use."
    )
    assert "Article 5 invoked (step 1)" in closing


def test_a_quote_that_opens_with_a_quote_mark_is_not_doubled() -> None:
    said = quoted(Citation("000.txt", "“The idea… that’s called World War III,” he said", None))
    assert said == "000.txt: “‘The idea… that’s called World War III,’ he said”"


def traced(scenario: Scenario, seed: int) -> list[StoryLine]:
    run = trace(scenario, seed=seed)
    assert list(run.story) == story(scenario, compile_scenario(scenario, run.config), run.run)
    return list(run.story)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_traced_run_tells_each_rules_evidence_once(scenario: Scenario, seed: int) -> None:
    lines = traced(scenario, seed)
    told = Counter(line.text.split(": ", 1)[1] for line in lines if line.evidence)
    assert all(n == 1 for n in told.values()), told
    assert not any("because true" in line.why for line in lines)


def test_the_report_embeds_the_story(scenario: Scenario, program: Program) -> None:
    run = made_run(program, [[decision("RUS", "strike_convoy")]])
    page = render_report(dataclasses.replace(make_data(), story=story(scenario, program, run)))
    assert 'Russia chose "missile strike on an aid convoy on Polish soil"' in html.unescape(page)


def run_cli(*args: str, width: int = 80) -> str:
    """``redline ARGS`` in-process, its output at ``width`` columns."""
    saved = out._width
    out.width = width
    try:
        result = CliRunner(env={"NO_COLOR": "1"}).invoke(app, list(args))
    finally:
        out._width = saved
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_story_command_names_its_lens_and_keeps_wrapped_text_indented() -> None:
    printed = run_cli("story", SCENARIO, "--seed", "2").splitlines()
    # levers and options by name, as redline run names them
    assert printed[1] == "levers: NATO's answer to a strike on member soil: uncertain (the default)"
    # as redline run's first rows and the report's narrated run: the scenario's first lens
    assert printed[2] == 'lens: "neutral baseline" (baseline)'
    closing = next(i for i, row in enumerate(printed) if row.startswith("The run "))
    body = printed[3:closing]
    indent = " " * (len(body[0]) - len(STEP.sub("", body[0])))
    assert all(STEP.match(row) or row.startswith(indent) for row in body)
    assert any("“" in row and not row.endswith("”") for row in body)  # a quote was wrapped
    assert all(len(row) <= 80 for row in body)


def test_the_story_command_names_a_set_option_and_the_default() -> None:
    printed = run_cli("story", SCENARIO, "--lever", "nato_response=collective", width=200)
    assert printed.splitlines()[1] == (
        "levers: NATO's answer to a strike on member soil: collective (set; the default is "
        "uncertain)"
    )


def _accounted(printed: str) -> Counter[str]:
    """How often each happening is told by the folded story: once for a line told in full,
    n for ``text ×n`` in a line of repeats (``as before: …`` or ``nothing new…: …``)."""
    counts: Counter[str] = Counter()
    for row in printed.splitlines():
        body = STEP.sub("", row).strip()
        repeats = re.match(r"(as before|nothing new(?: in \d+ steps)?): (.*)", body)
        if repeats:
            for part in repeats.group(2).split("; "):
                text, times = re.fullmatch(r"(.*?)(?: ×(\d+))?", part).groups()  # type: ignore[union-attr]
                counts[text] += int(times or 1)
        else:
            counts[body] += 1
    return counts


@pytest.mark.parametrize("seed", [2])
def test_the_story_command_folds_what_repeats(seed: int) -> None:
    """As the report's narrated run: a happening is told in full when it is news, counted when
    it repeats, and a step with nothing new is one line — every happening accounted for, each
    told in full fewer times than it happens; --verbose tells every one in full."""
    lines = tell(load_scenario(SCENARIO).scenario, seed, 0)
    happened = Counter(line.text for line in lines)
    printed = run_cli("story", SCENARIO, "--seed", str(seed), width=2000)
    body = printed.split("\n", 3)[3].rsplit("\nThe run ", 1)[0]
    counts = _accounted(body)
    assert all(counts[text] == n for text, n in happened.items()), (happened, counts)
    full = [row for row in body.splitlines() if not re.search(r"(as before|nothing new)", row)]
    assert sum(any(row.endswith(t) for t in happened) for row in full) < len(lines)
    verbose = run_cli("story", SCENARIO, "--seed", str(seed), "--verbose", width=2000)
    assert "as before" not in verbose and "nothing new" not in verbose
    assert all(verbose.count(text) >= n for text, n in happened.items())


def test_a_stretch_of_steps_with_nothing_new_is_one_line() -> None:
    """nato-russia repeats itself for months: a stretch of steps is folded into one line with
    each repeated happening counted."""
    folded = run_cli("story", "nato-russia", width=2000)
    stretch = re.search(r"steps (\d+)–(\d+) \([^)]*\)  nothing new in (\d+) steps: (.*)", folded)
    assert stretch is not None, folded
    first, last, n = (int(stretch.group(i)) for i in (1, 2, 3))
    assert n == last - first + 1 > 1 and f"×{n}" in stretch.group(4)


def test_the_story_command_with_a_lens() -> None:
    printed = run_cli("story", SCENARIO, "--lens", "provocation")
    assert 'lens: "003: Russia seeks a provocation that forces NATO in" (provocation)' in printed


def test_the_story_help_describes_one_configuration() -> None:
    printed = " ".join(run_cli("story", "--help").replace("│", " ").split())
    assert "Unfixed levers take their default option" in printed
    assert "default: the scenario's first lens" in printed
    assert "every lens" not in printed and "all options" not in printed
