"""The report's "How well each lens explains the record" and "Against published forecasts"
sections, from a score; ``redline run`` adds them when the scenario has observations."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

from score_support import day, report_data, walk, write
from typer.testing import CliRunner

import redline
from redline.cli import app
from redline.report.html import render_report


def _walk_with_forecast() -> dict[str, Any]:
    data = walk(lenses=[{"id": "steady", "set": {"p_up": 0.35}, "assumption": "test"}])
    data["forecasts"] = [
        {
            "id": "pundit",
            "forecaster": "a pundit <b>",
            "made": day(0),
            "question": "the top within a year",
            "outcome": "top",
            "by": day(11),
            "range": [0.2, 0.4],
            "resolved_by": "no_top",
            "evidence": ["log"],
        }
    ]
    return data


def test_sections_with_the_figure_and_tables(tmp_path: Path) -> None:
    sc = redline.score(write(_walk_with_forecast(), tmp_path), particles=2000, replicates=3)
    page = render_report(report_data(score=sc))
    for heading in ("How well each lens explains the record", "Against published forecasts"):
        assert f"<h2>{heading}</h2>" in page
    assert 'href="#record"' in page and 'href="#forecasts"' in page
    found = re.search(r'data-target="fig-record">(.*?)</script>', page, re.S)
    assert found is not None
    spec = json.loads(found.group(1))
    (points,) = spec["data"]
    assert points["y"] == ["steady"]
    assert points["x"][0] < 0
    assert "first_high" not in page or "high" in page  # observation names are shown
    assert "a pundit &lt;b&gt;" in page and "<b>" not in page.split("Against published")[1][:4000]
    assert "Brier" in page
    # no score: no sections
    plain = render_report(report_data())
    assert 'id="record"' not in plain and 'href="#record"' not in plain


def test_sections_without_forecasts_or_finite_likelihood(tmp_path: Path) -> None:
    data = walk([("impossible", {"variable": "rung", "at": 1, "range": [3.5, 3.6]})])
    sc = redline.score(write(data, tmp_path), particles=300, replicates=2)
    page = render_report(report_data(score=sc))
    assert 'id="record"' in page and 'id="forecasts"' not in page
    assert "every particle lost at impossible in 2 of 2 filters" in page
    assert "fig-record" not in page
    assert dataclasses.replace(report_data(), score=None).score is None


def test_run_adds_the_sections_when_the_scenario_has_a_record(tmp_path: Path) -> None:
    path = write(_walk_with_forecast(), tmp_path)
    store = tmp_path / "store.duckdb"
    report = tmp_path / "report.html"
    args = ["run", str(path), "--runs", "300", "--store", str(store), "--report", str(report)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "How well each lens explains the record" in report.read_text(encoding="utf-8")
    result = CliRunner().invoke(app, [*args, "--no-score", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "How well each lens explains the record" not in report.read_text(encoding="utf-8")
