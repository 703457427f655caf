"""`redline validate` reports every problem in one pass, in the scenario's words.

A scenario with mistakes of every kind — an unknown key, values of the wrong type, a misspelt
actor in a list, a number out of range, an unquoted event pattern, a misspelt one — gets all of
them in one run, sorted by line, each as FILE:LINE: path: message. Random mutations of a valid
built-in scenario never produce pydantic's wording, and every message names a line.
"""

from __future__ import annotations

import contextlib
import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redline.scenario.errors import ScenarioError
from redline.scenario.loader import scenario_of
from redline.scenario.yamlsource import parse_yaml

from .support import BUILTIN, VALID, calls_made, run_cli

SEVERAL = """\
id: several
title: Several mistakes at once
time: {step: month, horizon: 12}
ladder: condensed
actors:
  - id: RED
    colour: red
  - id: BLUE
    decision: {kind: doctrine}
parameters:
  - id: p
    value: 1.5
variables:
  - id: tension
    initial: 0.2
    min: 0
    max: high
actions:
  - id: strike
    actors: [RDE]
    effects: {tension: 0.1}
    tags: ["attack:RED->BLUE"]
  - id: patrol
    actors: [BLUE]
    tags: ["patrol:BLUE"]
red_lines:
  - id: no_strike
    owner: BLUE
    crossing: "atack:RED->*"
    response: patrol
    credibility: 0.5
doctrines:
  - id: answer
    actor: BLUE
    when: happened(attack:RED->BLUE)
    action: patrol
    probability: p
outcomes:
  - id: war
    when: 'happened("atack:RED->BLUE")'
"""

#: (line, path, what the message says) of every mistake in SEVERAL, in line order
EXPECTED = [
    (7, "actors[0].colour", "unknown key 'colour'; allowed: id, name"),
    (12, "parameters[0].value", "p = 1.5 is outside [0, 1], but doctrines[0].probability uses"),
    (17, "variables[0].max", "must be a number, got 'high'"),
    (20, "actions[0].actors[0]", "unknown actor 'RDE'; did you mean 'RED'?"),
    (29, "red_lines[0].crossing", "pattern 'atack:RED->*' matches no event"),
    (31, "red_lines[0].credibility", "must be a mapping with keys initial, rise, decay, spillover"),
    (35, "doctrines[0].when", 'an event pattern is text in quotes: happened("attack:RED->BLUE")'),
    (40, "outcomes[0].when", "did you mean 'attack:RED->BLUE'?"),
]


def test_every_kind_of_mistake_in_one_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "several.yaml").write_text(SEVERAL, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run_cli("validate", "several.yaml")
    assert result.exit_code == 2
    assert result.exception is None
    lines = result.stderr.splitlines()
    assert lines[-1] == "1 of 1 file invalid"
    issues = lines[:-1]
    assert len(issues) == len(EXPECTED), issues
    for text, (line, path, message) in zip(issues, EXPECTED, strict=True):
        head = f"several.yaml:{line}: {path}: "
        assert text.startswith(head), (text, head)
        assert message in text, (text, message)
    # the pattern in the red line gets a pattern that matches
    assert "did you mean 'attack:RED->*'?" in issues[4]


def test_a_removed_element_is_still_known_by_name(tmp_path: Path) -> None:
    """An action whose actors are not a list is reported once; a red line responding with it
    is not told the action is unknown, and an unknown actor elsewhere is still found."""
    text = SEVERAL.replace("actors: [RDE]", "actors: RED").replace(
        "response: patrol", "response: strike"
    )
    issues = _issues(text)
    assert any(i.startswith("actions[0].actors: must be a list") for i in issues), issues
    assert not any("unknown action" in i for i in issues), issues
    assert any(i.startswith("variables[0].max: must be a number") for i in issues), issues


def test_unquoted_pattern_in_yaml_suggests_quotes(tmp_path: Path) -> None:
    """``happened(attack: RED)`` is not even YAML (': ' starts a mapping): the message says to
    quote the expression."""
    text = SEVERAL.replace("when: happened(attack:RED->BLUE)", "when: happened(attack: RED)")
    issues = _issues(text)
    assert len(issues) == 1
    assert issues[0].startswith("several.yaml:35: invalid YAML: mapping values are not allowed")
    assert "quotes" in issues[0]


def _issues(text: str) -> list[str]:
    try:
        scenario_of(parse_yaml(text.encode(), "several.yaml"))
    except ScenarioError as exc:
        return [
            str(i).removeprefix(f"{i.file}:{i.line}: ") if i.path else str(i) for i in exc.issues
        ]
    raise AssertionError("the scenario was accepted")


# -- random mutations of a built-in scenario ------------------------------------------------------

#: words that are pydantic's, not the scenario's
PYDANTIC = re.compile(
    r"Input should|instance of|Field required|Extra inputs|Value error|Assertion failed|"
    r"pydantic|errors\.pydantic|For further information|\[type=|constrained-|tagged-union|"
    r"unable to parse|Credibility|EvidenceItem|DecisionSpec|TimeSpec|RungSpec|LeverOption"
)
BASE_DATA: Any = yaml.safe_load((BUILTIN / "convoy-strike.yaml").read_text(encoding="utf-8"))


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into the data (the root excluded)."""
    found = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*path, i))
    return found


PATHS = _paths(BASE_DATA)


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


WRONG_VALUES = st.sampled_from(
    [None, True, 7, -3.5, "text", "", [], [1, "two"], {}, {"k": 1}, "2024-13-45"]
)
MUTATION = st.tuples(
    st.sampled_from(["wrong type", "delete", "unknown key"]),
    st.sampled_from(PATHS),
    WRONG_VALUES,
    st.sampled_from(["colour", "probabilty", "actor", "x_1"]),
)


def _mutate(data: Any, mutation: tuple[str, tuple[Any, ...], Any, str]) -> None:
    what, path, value, key = mutation
    parent = _get(data, path[:-1])
    if what == "wrong type":
        parent[path[-1]] = value
    elif what == "delete":
        del parent[path[-1]]
    else:
        target = parent[path[-1]] if isinstance(parent[path[-1]], dict) else parent
        if isinstance(target, dict):
            target[key] = value


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(MUTATION, min_size=1, max_size=3))
def test_mutations_are_told_in_the_scenarios_words(
    mutations: list[tuple[str, tuple[Any, ...], Any, str]],
) -> None:
    data = copy.deepcopy(BASE_DATA)
    for mutation in mutations:
        # an earlier mutation may have removed the place: the others still apply
        with contextlib.suppress(KeyError, IndexError, TypeError):
            _mutate(data, mutation)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    try:
        scenario_of(parse_yaml(text.encode(), "mutated.yaml"))
    except ScenarioError as exc:
        assert exc.issues
        for issue in exc.issues:
            assert issue.line > 0, str(issue)
            assert not PYDANTIC.search(issue.message), str(issue)


def test_checking_in_one_pass_grows_linearly_with_the_mistakes() -> None:
    """Hundreds of refused values cost work in proportion to them (counted in calls, not
    seconds): a file with twice the mistakes costs at most a little over twice the calls, where
    weighing each against all the others (as telling a union's noise from its real error once
    did) cost three times. The mistakes: citations that are neither an id nor a mapping."""
    base = (VALID / "base.yaml").read_text(encoding="utf-8")

    def calls(n: int) -> int:
        refs = ", ".join(["[1]"] * n)
        text = base.replace("    evidence: [src]\n", f"    evidence: [{refs}]\n", 1)
        count, refused = calls_made(lambda: scenario_of(parse_yaml(text.encode(), "h.yaml")), 10**9)
        assert isinstance(refused, ScenarioError) and len(refused.issues) >= n, refused
        return count

    small, large = calls(200), calls(400)
    assert large < 2.3 * small, (small, large)
