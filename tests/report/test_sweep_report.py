"""`redline sweep` writes the HTML report too: by default and again when the experiment is already
complete, at --report, nowhere with --no-report, and never over a file that is not a report (refused
before sweeping)."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from redline.cli import app

SWEEP = [
    "sweep",
    "convoy-strike",
    "--name",
    "small",
    "--runs",
    "200",
    "--lever",
    "nato_response=none",
    "--lever",
    "nato_response=collective",
    "--lens",
    "baseline",
]


def _sweep(tmp_path: Path, *extra: str) -> tuple[int, str]:
    runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "200"})
    result = runner.invoke(app, [*SWEEP, "--store", str(tmp_path / "s.duckdb"), *extra])
    return result.exit_code, " ".join(result.output.split())


def test_a_sweep_writes_its_report_and_rewrites_it_when_complete(tmp_path: Path) -> None:
    report = tmp_path / "sweep.html"
    code, output = _sweep(tmp_path, "--report", str(report))
    assert code == 0, output
    assert f"report: {report}" in output
    html = report.read_text(encoding="utf-8")
    assert '<section id="summary">' in html and "Design point" in html
    assert "redline sweep" in html  # the summary says where the results came from
    rows = re.findall(r"<tr>\s*<td title=", html)
    assert len(rows) == 2  # one row per design point (two lever options, one lens)
    report.unlink()
    code, output = _sweep(tmp_path, "--report", str(report))
    assert code == 0 and "already complete" in output and report.exists(), output


def test_no_report_writes_none_and_a_foreign_file_is_refused_before_sweeping(
    tmp_path: Path,
) -> None:
    code, output = _sweep(tmp_path, "--no-report")
    assert code == 0 and "report:" not in output, output
    assert [p.name for p in tmp_path.iterdir()] == ["s.duckdb"]
    foreign = tmp_path / "notes.html"
    foreign.write_text("my notes", encoding="utf-8")
    runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "200"})
    store = tmp_path / "other.duckdb"
    result = runner.invoke(app, [*SWEEP, "--store", str(store), "--report", str(foreign)])
    assert result.exit_code == 2, result.output
    assert "is not a report written by redline" in " ".join(result.output.split())
    assert foreign.read_text(encoding="utf-8") == "my notes"
    assert not store.exists()  # refused before anything was swept
