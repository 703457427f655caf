"""`redline ladder` lists a ladder's rungs — a built-in one, or a scenario's with the actions on
each rung — and docs/scenarios.md lists the same rungs as the built-in ladders define."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from redline.scenario.ladders import BUILTIN_LADDERS, builtin_ladder
from redline.scenario.loader import load_scenario

from .support import REPO, VALID, run_cli


def _rows(text: str) -> list[list[str]]:
    """The cells of each row of a printed table."""
    return [
        [cell.strip() for cell in line.strip("│").split("│")]
        for line in text.splitlines()
        if line.startswith("│")
    ]


def test_default_is_the_condensed_ladder_bottom_to_top() -> None:
    result = run_cli("ladder", width=300)
    assert result.exit_code == 0, result.output
    ladder = builtin_ladder("condensed")
    rows = [r for r in _rows(result.stdout) if r[0]]
    assert [r[1] for r in rows] == list(ladder.ids)
    assert [r[0] for r in rows] == [str(i) for i in range(1, len(ladder) + 1)]
    assert [r[3] for r in rows] == [r.category for r in ladder.rungs]
    # the thresholds between groups, each just below the first rung above it
    lines = _rows(result.stdout)
    for threshold in ladder.thresholds:
        at = next(i for i, r in enumerate(lines) if r[1] == f"— threshold: {threshold.name} —")
        above = ladder.rungs[ladder.threshold_index(threshold.name)]
        assert lines[at + 1][1] == above.id


def test_kahn_as_json() -> None:
    result = run_cli("ladder", "kahn", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    ladder = builtin_ladder("kahn")
    assert [r["id"] for r in data["rungs"]] == list(ladder.ids)
    assert [r["name"] for r in data["rungs"]] == [r.name for r in ladder.rungs]
    assert sum(r["threshold"] is not None for r in data["rungs"]) == len(ladder.thresholds)


def test_a_scenarios_ladder_with_its_actions_on_each_rung() -> None:
    result = run_cli("ladder", "convoy-strike", width=400)
    assert result.exit_code == 0, result.output
    s = load_scenario("convoy-strike").scenario
    rows = {r[1]: r for r in _rows(result.stdout) if r[0]}
    placed = [a for a in s.actions if a.level is not None]
    assert placed
    ids = list(builtin_ladder("condensed").ids)
    for action in placed:
        rung = action.level if isinstance(action.level, str) else ids[action.level - 1]
        assert action.label in rows[rung][6], (action.id, rows[rung])


def test_an_inline_ladder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (VALID / "base.yaml").read_text(encoding="utf-8")
    inline = (
        "ladder:\n"
        "  - {id: calm, name: Calm, category: diplomatic}\n"
        "  - {id: show_of_force, name: Posturing, category: conventional}\n"
        "  - {id: fighting, name: Fighting, category: conventional}\n"
    )
    text = text.replace("ladder: condensed\n", inline)
    text = re.sub(r"level: \d+", "level: fighting", text)
    (tmp_path / "inline.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run_cli("ladder", "inline.yaml", width=300)
    assert result.exit_code == 0, result.output
    rows = [r for r in _rows(result.stdout) if r[0]]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("1", "calm", "Calm"),
        ("2", "show_of_force", "Posturing"),
        ("3", "fighting", "Fighting"),
    ]
    assert rows[1][6] == "patrol" and rows[2][6] == "strike, counter"


def test_unknown_name_is_a_clear_error() -> None:
    result = run_cli("ladder", "khan")
    assert result.exit_code == 2
    assert result.exception is None
    assert "unknown ladder or scenario 'khan'; did you mean 'kahn'?" in result.stderr


@pytest.mark.parametrize("name", BUILTIN_LADDERS)
def test_the_docs_list_every_rung(name: str) -> None:
    """docs/scenarios.md lists each built-in ladder's rungs as the ladder defines them."""
    docs = (REPO / "docs" / "scenarios.md").read_text(encoding="utf-8")
    section = docs.split(f"### `{name}` — ")[1].split("\n#")[0]
    found = re.findall(
        r"^\| (\d+) \| `([a-z0-9_]+)` \| ([^|]+) \| (\w+) \| ([^|]+) \|", section, re.M
    )
    ladder = builtin_ladder(name)
    assert [(int(n), i, nm.strip(), c, g.strip()) for n, i, nm, c, g in found] == [
        (r.rung, r.id, r.name, r.category, r.group) for r in ladder.rungs
    ]
    thresholds = re.findall(r"\*threshold: ([^*]+)\*", section)
    assert thresholds == [t.name for t in ladder.thresholds]
