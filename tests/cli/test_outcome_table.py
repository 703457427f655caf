"""The outcome table of ``redline run`` and ``redline results show`` fits the terminal: at any
width nothing is cut, every outcome of every lens × configuration is there with its number
whole, lenses and lever options are named (not their ids), and small probabilities read small."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console
from typer.testing import CliRunner

from redline.cli import app
from redline.cli.app import err, out
from redline.cli.outcome_table import (
    cell,
    estimate,
    outcome_tables,
    percent,
    print_outcome_tables,
    setting_name,
)
from redline.experiment.design import configurations, lever_defaults
from redline.results import OutcomeSummary
from redline.scenario.loader import load_scenario
from redline.scenario.model import Scenario
from redline.stats import wilson_interval

Rows = list[tuple[str, dict[str, Any], list[OutcomeSummary]]]


@pytest.fixture(scope="module")
def nato_russia() -> Scenario:
    """The built-in scenario with the longest names: 3 lenses, 3 levers, 9 outcomes."""
    return load_scenario("nato-russia").scenario


def _rows(s: Scenario, seed: int = 0, runs: int = 20_000) -> Rows:
    """Every configuration of ``s`` (one lever at a time × every lens) with made-up counts:
    some outcomes never reached, some always, the rest anywhere between."""
    rng = random.Random(seed)
    rows: Rows = []
    for config in configurations(s, None, None, "one_at_a_time"):
        summaries = []
        for o in s.outcomes:
            hits = rng.choice([0, runs, rng.randrange(runs + 1), rng.randrange(5)])
            lo, hi = wilson_interval(hits, runs)
            summaries.append(OutcomeSummary(o.id, o.label, hits, runs, hits / runs, lo, hi, None))
        point = {"lens": config.lens, "levers": dict(config.levers), "fixed": {}}
        rows.append(("", point, summaries))
    return rows


def _render(s: Scenario, rows: Rows, width: int) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None, legacy_windows=False)
    print_outcome_tables(console, s, rows, f"{s.title} — outcome probabilities")
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(text, str)
    return text


def _cells(s: Scenario, rows: Rows, width: int) -> set[tuple[str, str, str]]:
    """(row's lens and levers, outcome, cell) for every number in the tables at ``width``."""
    found = set()
    for table in outcome_tables(s, rows, width):
        columns = {str(c.header): [str(x) for x in c.cells] for c in table.columns}
        headers = list(columns)
        n = len(columns["levers"])
        if "outcome" in columns:  # the long format: a table per lens
            lens = str(table.title or "").removeprefix("lens: ")
            setting = ""
            for i in range(n):
                setting = columns["levers"][i] or setting
                found.add((f"{lens}|{setting}", columns["outcome"][i], columns[headers[-1]][i]))
            continue
        lens = "" if "lens" in columns else str(table.title or "").removeprefix("lens: ")
        for i in range(n):
            lens = columns.get("lens", [""] * n)[i] or lens
            setting = columns["levers"][i]
            for header in headers:
                if header not in ("lens", "levers"):
                    found.add((f"{lens}|{setting}", header, columns[header][i]))
    return found


@pytest.mark.parametrize("width", [80, 120, 200])
def test_every_outcome_of_every_row_fits_the_width(nato_russia: Scenario, width: int) -> None:
    rows = _rows(nato_russia)
    text = _render(nato_russia, rows, width)
    lines = text.splitlines()
    assert max(cell_len(line) for line in lines) <= width
    assert "…" not in text  # nothing cut with an ellipsis
    for _, _, summaries in rows:
        for x in summaries:
            assert cell(x) in text  # each number whole, on one line
    # every lens × configuration × outcome is in the tables exactly once
    found = _cells(nato_russia, rows, width)
    assert len(found) == len(rows) * len(nato_russia.outcomes)
    assert {outcome for _, outcome, _ in found} == {o.label for o in nato_russia.outcomes}
    # the tables' borders close on the right: no table is wider than the console
    closing = [line for line in lines if line.startswith(("┏", "└"))]
    assert closing and all(line.endswith(("┓", "┘")) for line in closing)


@settings(max_examples=10, deadline=None)
@given(width=st.integers(min_value=60, max_value=260), seed=st.integers(0, 10**6))
def test_any_width_cuts_nothing(nato_russia: Scenario, width: int, seed: int) -> None:
    rows = _rows(nato_russia, seed)
    text = _render(nato_russia, rows, width)
    assert max(cell_len(line) for line in text.splitlines()) <= width
    assert len(_cells(nato_russia, rows, width)) == len(rows) * len(nato_russia.outcomes)
    for _, _, summaries in rows:
        for x in summaries:
            assert cell(x) in text


def test_outcomes_are_columns_where_they_fit(nato_russia: Scenario) -> None:
    rows = _rows(nato_russia)
    (table,) = outcome_tables(nato_russia, rows, 400)
    assert [str(c.header) for c in table.columns] == [
        "lens",
        "levers",
        *(o.label for o in nato_russia.outcomes),
    ]
    split = outcome_tables(nato_russia, rows, 120)
    assert len(split) > 1  # split, each table repeating the rows' names
    assert all([str(c.header) for c in t.columns][:2] == ["lens", "levers"] for t in split)
    long = outcome_tables(nato_russia, rows, 80)  # a table per lens, a row per probability
    assert [str(t.title) for t in long] == [f"lens: {lens.label}" for lens in nato_russia.lenses]
    assert all([str(c.header) for c in t.columns][:2] == ["levers", "outcome"] for t in long)
    n = len(nato_russia.outcomes)
    assert f"(the {n} outcomes in {len(split)} tables, to fit 120 columns)" in " ".join(
        _render(nato_russia, rows, 120).split()
    )


def test_lenses_and_levers_are_named_not_numbered(nato_russia: Scenario) -> None:
    text = _render(nato_russia, _rows(nato_russia), 2000)  # one table, no name wrapped
    names = " ".join(
        [x.label for x in (*nato_russia.lenses, *nato_russia.levers, *nato_russia.outcomes)]
        + [o.name or "" for lever in nato_russia.levers for o in lever.options]
    )
    for lens in nato_russia.lenses:
        assert lens.name and lens.name in text
        assert lens.id in names or lens.id not in text, lens.id
    for lever in nato_russia.levers:
        assert f"{lever.label}:" in text
        assert lever.id not in text, lever.id
        for option in lever.options:
            assert option.name and option.name in text
            assert option.id in names or option.id not in text, option.id


def test_small_probabilities_read_small() -> None:
    lo, hi = wilson_interval(0, 20_000)
    assert cell(OutcomeSummary("x", "x", 0, 20_000, 0.0, lo, hi, None)) == "<0.1% (0–0.02%)"
    lo, hi = wilson_interval(20_000, 20_000)
    assert (
        cell(OutcomeSummary("x", "x", 20_000, 20_000, 1.0, lo, hi, None)) == ">99.9% (99.98–100%)"
    )
    lo, hi = wilson_interval(2_800, 20_000)
    assert cell(OutcomeSummary("x", "x", 2_800, 20_000, 0.14, lo, hi, None)) == "14.0% (13.5–14.5%)"


@given(st.floats(min_value=0.0, max_value=1.0))
def test_a_percentage_is_zero_or_a_hundred_only_when_the_probability_is(x: float) -> None:
    v = 100 * x
    shown = float(percent(x))
    assert abs(shown - v) <= 0.05
    assert (shown == 0) == (x == 0) and (shown == 100) == (x == 1)
    point = estimate(x)
    assert point not in ("0.0%", "100.0%")
    if point.startswith("<"):
        assert v < 0.1
    elif point.startswith(">"):
        assert v > 99.9
    else:
        assert abs(float(point.rstrip("%")) - v) <= 0.05


def test_run_prints_the_table_within_an_80_column_terminal(tmp_path: Path) -> None:
    """The command end to end: ``redline run`` in an 80-column terminal."""
    runner = CliRunner(env={"NO_COLOR": "1"})
    saved = out._width, err._width
    out.width = err.width = 80
    try:
        result = runner.invoke(
            app,
            [
                "run",
                "convoy-strike",
                "--runs",
                "200",
                "--workers",
                "1",
                "--threads",
                "1",
                "--store",
                str(tmp_path / "s.duckdb"),
                "--report",
                str(tmp_path / "r.html"),
                "--no-score",
            ],
        )
    finally:
        out._width, err._width = saved
    assert result.exit_code == 0, result.output
    s = load_scenario("convoy-strike").scenario
    lines = result.stdout.splitlines()
    assert max(cell_len(line) for line in lines) <= 80, result.stdout
    words = set(result.stdout.replace("│", " ").split())
    for named in (*s.lenses, *s.outcomes):  # names wrap inside their cells
        assert set(named.label.split()) <= words, named.label


@pytest.mark.parametrize("width", [60, 80, 120])
def test_the_progress_bar_keeps_its_counts_whole(width: int) -> None:
    """A long description (experiment, configurations, where) is shortened, not the counts."""
    from redline.cli.run_cmds import progress_bar

    bar = progress_bar()
    task = bar.add_task(
        "run-nato-russia-759e18ef66: 18 configurations on 2 local worker processes", total=360_000
    )
    bar.update(task, completed=120_000)
    console = Console(width=width, file=io.StringIO(), color_system=None)
    console.print(bar.make_tasks_table(bar.tasks))
    (line,) = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert cell_len(line) <= width
    assert "120000/360000" in line and line.startswith("run-nato")


def test_a_design_point_names_the_uncertainties_it_fixes(nato_russia: Scenario) -> None:
    """Sweeps with a sampling design (lhs, sobol, grid) fix uncertainties per design point: the
    row says which, by name."""
    defaults = lever_defaults(nato_russia)
    changed = dict(defaults, nato_response="none")
    named = setting_name(nato_russia, changed, defaults, {"nuclear_threshold": -0.55})
    lever = next(lv for lv in nato_russia.levers if lv.id == "nato_response")
    option = next(o for o in lever.options if o.id == "none")
    assert named == f"{lever.label}: {option.name}; the balance at which Russia sees defeat = -0.55"
    assert setting_name(nato_russia, defaults, defaults, {}) == "defaults"
