"""Numerical trouble as a user meets it (docs/engine.md "Numerical trouble"): ``redline run``
and ``redline sweep`` warn with a table, ``--json`` lists it, the store keeps it per unit and
reports the experiment's sums, the report shows it; ``--strict`` stops with a one-line message
naming the step, run, element and value, exit 2 and no traceback, and stores only whole units
that had none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from experiment_support import redline

import redline as api
from redline.engine.trouble import NAN_PROBABILITY, NAN_STATE, OUT_OF_RANGE, NumericalTrouble
from redline.experiment.store import Store

RUNS = 400
CHUNK = 50


def troubled(rare: bool = False) -> dict[str, Any]:
    """A scenario whose rule ``late`` has a probability of 2 from step 3, whose rule ``odd``
    has a NaN probability (only in runs with k above 0.99 when ``rare``, else in every run) and
    whose variable ``y`` becomes NaN."""
    nan_when = "k > 0.99" if rare else "true"
    return {
        "id": "troubled",
        "title": "Arithmetic gone wrong",
        "time": {"step": "month", "horizon": 6},
        "actors": [{"id": "A", "decision": {"kind": "doctrine"}}],
        "uncertainties": [{"id": "k", "distribution": {"kind": "uniform", "low": 0, "high": 1}}],
        "variables": [{"id": "x", "initial": 0.5}, {"id": "y", "initial": 1}],
        "dynamics": [{"id": "d", "variable": "y", "value": "y * 0 + (k - k) / (k - k)"}]
        if not rare
        else [],
        "rules": [
            {"id": "late", "when": "step >= 3", "probability": "x * 4", "effects": {"x": 0}},
            {"id": "odd", "when": nan_when, "probability": "0 * (1 / (k - k))", "tags": ["o"]},
        ],
        "outcomes": [{"id": "never", "when": "false"}],
    }


def clean() -> dict[str, Any]:
    data = troubled()
    data["id"] = "clean"
    data["dynamics"] = []
    data["rules"] = [{"id": "fine", "when": "true", "probability": "k", "tags": ["f"]}]
    return data


def write(tmp_path: Path, data: dict[str, Any], name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def run_args(path: Path, *more: str) -> list[str]:
    return [
        "run",
        str(path),
        "-n",
        str(RUNS),
        "--chunk-size",
        str(CHUNK),
        "--workers",
        "1",
        "--threads",
        "1",
        "--store",
        "s.duckdb",
        *more,
    ]


def test_run_warns_with_a_table_and_json_equal_to_the_api(tmp_path: Path) -> None:
    path = write(tmp_path, troubled())
    shown = redline(*run_args(path, "--report", "r.html"), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "warning: numerical trouble" in shown.stdout
    for words in ("rule late", "rule odd", "variable y", OUT_OF_RANGE, NAN_PROBABILITY):
        assert words in shown.stdout
    assert "run 0, step 3: 2.0" in shown.stdout
    report = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Warning: numerical trouble" in report and "late" in report

    got = redline(*run_args(path, "--json"), cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    listed = json.loads(got.stdout)["numerical_trouble"]
    results = api.simulate(str(path), RUNS, chunk_size=CHUNK)
    assert listed == [row.to_json() for row in results.trouble]
    by = {(r["problem"], r["element"]): r for r in listed}
    # late: steps 3, 4, 5 of every run; odd: every step of every run; y: every step
    assert by[(OUT_OF_RANGE, "late")]["occurrences"] == 3 * RUNS
    assert by[(OUT_OF_RANGE, "late")]["first"] == {"run": 0, "step": 3, "value": 2.0}
    assert by[(NAN_PROBABILITY, "odd")]["occurrences"] == 6 * RUNS
    assert by[(NAN_STATE, "y")]["runs"] == RUNS
    assert by[(NAN_STATE, "y")]["first"]["value"] == "nan"


def test_a_clean_scenario_shows_no_warning(tmp_path: Path) -> None:
    path = write(tmp_path, clean())
    shown = redline(*run_args(path, "--report", "r.html", "--strict"), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "numerical trouble" not in shown.stdout + shown.stderr
    assert "numerical trouble" not in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert api.simulate(str(path), 50).trouble == ()


def test_strict_stops_with_one_line_and_stores_only_whole_clean_units(tmp_path: Path) -> None:
    """NaN only in the rare runs with k > 0.99: the units before the first such run are
    stored whole, that unit and those after it are not, and the message names the run."""
    data = troubled(rare=True)
    data["rules"] = data["rules"][1:]  # only the rare NaN
    path = write(tmp_path, data)
    counted = api.simulate(str(path), RUNS, chunk_size=CHUNK)
    (row,) = counted.trouble
    first_unit = row.first_run // CHUNK
    assert first_unit > 0, "the scenario must have clean units before the first trouble"

    done = redline(*run_args(path, "--strict", "--report", "r.html"), cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    (message,) = [line for line in done.stderr.splitlines() if line.strip()]
    assert message.startswith("error: numerical trouble at step ")
    assert f"of run {row.first_run}: the probability of rule 'odd' is nan" in message
    assert not (tmp_path / "r.html").exists()

    store = Store(tmp_path / "s.duckdb")
    (record,) = store.experiments()
    assert record.status == "stopped"
    assert record.done_units == first_unit
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        sizes = con.execute(
            f'SELECT run // {CHUNK}, count(*) FROM "{record.results_table}" GROUP BY 1'
        ).fetchall()
    assert all(unit < first_unit and n == CHUNK for unit, n in sizes)
    assert store.trouble(record.name) == {}

    with pytest.raises(NumericalTrouble, match=f"of run {row.first_run}: "):
        api.simulate(str(path), RUNS, chunk_size=CHUNK, strict=True)
    with pytest.raises(api.RedlineTypeError, match="strict must be True or False"):
        api.simulate(str(path), 10, strict="yes")  # type: ignore[arg-type]


def test_sweep_stores_trouble_per_unit_and_reports_the_sum(tmp_path: Path) -> None:
    path = write(tmp_path, troubled())
    args = ["--runs", str(RUNS), "--chunk-size", str(CHUNK), "--store", "s.duckdb"]
    shown = redline("sweep", str(path), "--name", "t", *args, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "warning: numerical trouble" in shown.stdout
    store = Store(tmp_path / "s.duckdb")
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        units = con.execute("SELECT count(DISTINCT unit) FROM trouble").fetchone()
    assert units == (RUNS // CHUNK,)
    (rows,) = store.trouble("t").values()
    expected = api.simulate(str(path), RUNS, chunk_size=RUNS).trouble
    assert [r.to_json() for r in rows] == [r.to_json() for r in expected]  # NaN as "nan"
    assert redline("results", "delete", "t", "--store", "s.duckdb", cwd=tmp_path).returncode == 0
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM trouble").fetchone() == (0,)


def test_strict_refuses_an_experiment_stored_with_trouble(tmp_path: Path) -> None:
    """Run without --strict, then again with it: the stored experiment is not passed off as
    clean; the message names the earliest stored occurrence."""
    path = write(tmp_path, troubled())
    assert redline(*run_args(path, "--json"), cwd=tmp_path).returncode == 0
    again = redline(*run_args(path, "--json", "--strict"), cwd=tmp_path)
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert "already holds numerical trouble" in again.stderr
    assert "at step 0 of run 0" in again.stderr
    assert again.stdout == ""
