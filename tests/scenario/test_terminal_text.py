"""Scenario text reaches the terminal as written, never read as rich markup.

A title ``War [ends] soon`` once printed as ``War  soon`` (``[ends]`` taken for a style) and an
outcome named ``Article 5 [/] invoked`` crashed ``redline run`` after storing its results and
before the report (``[/]`` closes nothing). Here random names made of brackets, slashes and
backslashes are given to a scenario's title, outcomes, actors, red lines, doctrines, lenses and
lever, and every command that prints them (validate, explain, story, run, results show and list,
compare, ablate, why) must succeed and show each one verbatim.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redline.scenario.loader import builtin_scenarios

from .support import run_cli

BASE: dict[str, Any] = yaml.safe_load(
    builtin_scenarios()["convoy-strike"].read_text(encoding="utf-8")
)
#: enough for a table at full width: no name is wrapped or cut
WIDTH = 1000

#: names as a careless or hostile author might write them: rich markup tags that close nothing,
#: styles, escapes, and plain words around them
names = st.text(alphabet="ab[]/\\=# @", min_size=1, max_size=10).map(
    lambda s: " ".join(s.split()) or "x"
)


def _scenario(title: str, words: list[str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """convoy-strike renamed: every name is a word of ``words`` and a number (so all differ),
    and which names each kind of element got."""
    data = yaml.safe_load(yaml.safe_dump(BASE))
    data["id"] = "markup-probe"
    data["title"] = title
    counter = iter(range(1_000))
    shown: dict[str, list[str]] = {"title": [title]}

    def name(i: int) -> str:
        return f"{words[i % len(words)]} {next(counter)}"

    for key in ("outcomes", "actors", "red_lines", "doctrines", "lenses"):
        shown[key] = []
        for i, element in enumerate(data[key]):
            element["name"] = name(i)
            shown[key].append(element["name"])
    data["levers"][0]["name"] = name(0)
    shown["levers"] = [data["levers"][0]["name"]]
    return data, shown


def _ok(result: Any, command: str) -> str:
    assert result.exception is None, f"{command}: {result.exception!r}\n{result.output}"
    assert result.exit_code == 0, f"{command}: exit {result.exit_code}\n{result.output}"
    assert "MarkupError" not in result.output
    return str(result.output)


def _verbatim(text: str, expected: list[str], command: str) -> None:
    for name in expected:
        assert name in text, f"{command}: {name!r} is not shown as written\n{text}"


@pytest.mark.slow
@settings(
    # each example runs nine commands (run writes its report: ~8 s of CPU) on about twenty
    # hostile names; three examples give some sixty, and test_the_issues_examples keeps the two
    # that once broke
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(title=names, words=st.lists(names, min_size=1, max_size=4))
def test_scenario_names_reach_the_terminal_verbatim(
    tmp_path: Path, title: str, words: list[str]
) -> None:
    data, shown = _scenario(f"War {title} soon", words)
    where = Path(tempfile.mkdtemp(dir=tmp_path))  # a fresh folder for each example
    path = where / "probe.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    store, report = str(where / "store.duckdb"), str(where / "report.html")
    mechanisms = shown["red_lines"] + shown["doctrines"]

    text = _ok(run_cli("validate", str(path), width=WIDTH), "validate")
    _verbatim(text, shown["title"], "validate")

    text = _ok(run_cli("explain", str(path), width=WIDTH), "explain")
    _verbatim(text, shown["title"] + shown["actors"] + shown["outcomes"], "explain")
    _verbatim(text, shown["lenses"] + mechanisms, "explain")

    text = _ok(run_cli("story", str(path), width=WIDTH), "story")
    _verbatim(text, shown["title"], "story")

    run = ["--runs", "40", "--chunk-size", "20", "--workers", "1", "--threads", "1"]
    text = _ok(
        run_cli("run", str(path), *run, "--store", store, "--report", report, width=WIDTH), "run"
    )
    _verbatim(text, shown["title"] + shown["outcomes"] + shown["lenses"], "run")

    text = _ok(run_cli("results", "list", "--store", store, width=WIDTH), "results list")
    name = next(line.split()[1] for line in text.splitlines() if "markup-probe" in line)
    text = _ok(run_cli("results", "show", name, "--store", store, width=WIDTH), "results show")
    _verbatim(text, shown["outcomes"] + shown["lenses"], "results show")
    text = _ok(run_cli("compare", name, "--store", store, width=WIDTH), "compare")
    _verbatim(text, shown["outcomes"], "compare")

    text = _ok(run_cli("ablate", str(path), "--runs", "40", width=WIDTH), "ablate")
    _verbatim(text, shown["outcomes"], "ablate")

    text = _ok(run_cli("why", str(path), "article5", "--runs", "40", width=WIDTH), "why")
    _verbatim(text, [shown["outcomes"][0]], "why")


def test_the_issues_examples(tmp_path: Path) -> None:
    """The two names of the report: a title with a style-like tag, an outcome with '[/]'."""
    data, _ = _scenario("War [ends] soon", ["x"])
    data["outcomes"][0]["name"] = "Article 5 [/] invoked"
    path = tmp_path / "probe.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    store, report = str(tmp_path / "s.duckdb"), tmp_path / "r.html"
    run = ["--runs", "40", "--workers", "1", "--store", store, "--report", str(report)]
    text = _ok(run_cli("run", str(path), *run, width=WIDTH), "run")
    assert "War [ends] soon" in text
    # the outcome's header may wrap at its spaces in the table: each word is there as written
    assert re.search(r"Article\s.*5\s.*\[/\]\s.*invoked", text, re.DOTALL), text
    assert report.exists(), "the report is written after the table"


def test_score_shows_outcome_names_as_written(tmp_path: Path) -> None:
    """``redline score`` names outcomes in its observations (``resolved: NAME: first
    between ...``) and its fit: bracketed names reach the terminal whole."""
    data = yaml.safe_load(builtin_scenarios()["cuban-missile-crisis"].read_text("utf-8"))
    data["title"] = "Cuba [bold]1962[/]"
    for i, outcome in enumerate(data["outcomes"]):
        outcome["name"] = f"[/] outcome [x]{i}"
    path = tmp_path / "cuba.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    args = ["score", str(path), "--particles", "50", "--replicates", "2"]
    text = _ok(run_cli(*args, width=WIDTH), "score")
    shown = [o["name"] for o in data["outcomes"] if o["name"] in text]
    assert shown, f"no outcome name shown as written\n{text}"
