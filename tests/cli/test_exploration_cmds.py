"""``redline analyze sensitivity`` and ``redline analyze discover`` as a user runs them: the
tables they print, their JSON, the HTML report they write, and a one-line message with exit
status 2 for every mistake in their options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from redline.cli import app

DATA = Path(__file__).parents[1] / "analysis" / "data"
ISHIGAMI = str(DATA / "ishigami.yaml")
PLANTED = str(DATA / "planted-box.yaml")


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "160"}).invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_sensitivity_prints_the_indices_and_writes_a_report(tmp_path: Path) -> None:
    report = tmp_path / "sobol.html"
    code, stdout, stderr = invoke(
        "analyze", "sensitivity", ISHIGAMI, "--n", "16", "-r", "8", "--report", str(report)
    )
    assert code == 0, stdout + stderr
    flat = " ".join(stdout.split())
    assert "sobol sensitivity (N=16: 96 design points × 8 runs, seed 0" in flat
    assert "first order S1" in flat and "total ST" in flat
    for factor in ("s1", "s2", "x3", "x4"):
        assert f"│ {factor} " in stdout
    page = report.read_text(encoding="utf-8")
    assert "Plotly.newPlot" in page and page.count("plotly.js v") == 1  # embedded once
    assert "Convergence" in page and "Monte Carlo noise" in page


def test_sensitivity_json_is_one_object_with_every_table() -> None:
    code, stdout, _ = invoke(
        "analyze", "sensitivity", ISHIGAMI, "--method", "morris", "--trajectories", "4",
        "-r", "4", "--outcome", "hit", "--json",
    )  # fmt: skip
    assert code == 0
    body = json.loads(stdout)
    assert body["method"] == "morris" and body["points"] == 4 * 5
    assert [r["factor"] for r in body["indices"]] == ["s1", "s2", "x3", "x4"]
    assert set(body["indices"][0]) >= {"mu_star", "mu_star_conf", "sigma", "noise_floor"}


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["sensitivity", ISHIGAMI, "--n", "100"], "--n must be a power of two"),
        (["sensitivity", ISHIGAMI, "-r", "1"], "--runs-per-point must be at least 2"),
        (["sensitivity", ISHIGAMI, "--outcome", "hits"], "--outcome: unknown outcome 'hits'"),
        (["sensitivity", ISHIGAMI, "--param", "x=1"], "--param expects NAME=LOW:HIGH"),
        (["sensitivity", ISHIGAMI, "--param", "x=2:1"], "--param expects NAME=LOW:HIGH"),
        (["sensitivity", ISHIGAMI, "--param", "gate"], "--param: unknown parameter 'gate'"),
        (["sensitivity", PLANTED, "--uncertainty", "d"], "--uncertainty: unknown drawn"),
        (["sensitivity", ISHIGAMI, "--backend", "gpu"], "--backend must be one of"),
        (["sensitivity", ISHIGAMI, "--seed", "-1"], "--seed must be a non-negative"),
        (["sensitivity", ISHIGAMI, "--lens", "hawk"], "unknown lens 'hawk'"),
        (["discover", PLANTED], "--outcome is required: one of inside"),
        (["discover", PLANTED, "--outcome", "in"], "--outcome: unknown outcome 'in'"),
        (["discover", PLANTED, "--outcome", "inside", "--min-density", "0"], "--min-density"),
        (["discover", PLANTED, "--outcome", "inside", "--runs", "0"], "--runs must be between"),
        (["discover", "no-such-scenario", "--outcome", "x"], "no-such-scenario"),
    ],
)
def test_a_mistake_is_one_line_and_exit_2(args: list[str], said: str) -> None:
    code, stdout, stderr = invoke("analyze", *args)
    assert code == 2, stdout + stderr
    assert said in " ".join(stderr.split())
    assert "Traceback" not in stderr + stdout
