"""`redline run ... --json` through the installed console script, and its option errors."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from engine_support import load_dict, scenario_dict, write_scenario

import redline
from redline.results import summarize

SCRIPT = Path(sys.executable).parent / "redline"
if not SCRIPT.exists():  # pragma: no cover - a venv always has it
    SCRIPT = Path(shutil.which("redline") or "redline")


def cli_scenario() -> dict[str, Any]:
    """A small scenario with a lever, lenses, an absorbing and a non-absorbing outcome, and
    outcomes that are never and always reached."""
    return scenario_dict(
        id="cli-test",
        time={"step": "month", "horizon": 6},
        actors=[{"id": "A", "decision": {"kind": "logit", "lambda": "lam", "weights": {"x": 1}}}],
        parameters=[{"id": "lam", "value": 1.0}, {"id": "p_end", "value": 0.1}],
        variables=[{"id": "x"}],
        actions=[{"id": "push", "actors": ["A"], "effects": {"x": 0.3}, "tags": ["push"]}],
        rules=[{"id": "end", "when": 'now("push")', "probability": "p_end", "tags": ["end"]}],
        outcomes=[
            {"id": "pushed", "when": 'happened("push")'},
            {"id": "ended", "when": 'happened("end")', "absorbing": True},
            {"id": "never", "when": "x < 0"},
            {"id": "always", "when": "x >= 0"},
        ],
        levers=[
            {
                "id": "policy",
                "default": "mild",
                "options": [
                    {"id": "mild", "set": {"p_end": 0.1}},
                    {"id": "harsh", "set": {"p_end": 0.6}},
                ],
            }
        ],
        uncertainties=[{"id": "noise", "distribution": {"kind": "normal", "mean": 0, "sd": 1}}],
        lenses=[{"id": "calm", "set": {"lam": 0.2}}, {"id": "eager", "set": {"lam": 4.0}}],
    )


def redline_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=600, env=_env()
    )


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["COLUMNS"] = "60"  # messages must stay on one line even in a narrow terminal
    env.pop("FORCE_COLOR", None)
    return env


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scenario(cli_scenario(), tmp_path_factory.mktemp("cli"), "cli.yaml")


def _run_json(scenario_file: Path, cwd: Path, *extra: str) -> dict[str, Any]:
    proc = redline_cli(
        "run",
        str(scenario_file),
        "--runs",
        "200",
        "--seed",
        "7",
        "--lever",
        "policy=harsh",
        "--lens",
        "eager",
        "--json",
        *extra,
        cwd=cwd,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    payload = json.loads(proc.stdout)  # the whole of stdout is one JSON object
    assert isinstance(payload, dict)
    return payload


@pytest.fixture(scope="module")
def numpy_payload(scenario_file: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _run_json(scenario_file, tmp_path_factory.mktemp("numpy"), "--backend", "numpy")


def test_run_json_output(numpy_payload: dict[str, Any], tmp_path: Path) -> None:
    payload = numpy_payload
    assert payload["horizon"] == 6
    assert payload["runs"] == 200
    outcomes = payload["outcomes"]
    assert sorted(outcomes) == ["always", "ended", "never", "pushed"]
    for ident, o in outcomes.items():
        assert 0.0 <= o["p"] <= 1.0, ident
        assert 0.0 <= o["lo"] <= o["hi"] <= 1.0, ident
        assert "mean_first_step" in o
    assert outcomes["never"]["p"] == 0.0 and outcomes["never"]["mean_first_step"] is None
    assert outcomes["always"]["p"] == 1.0 and outcomes["always"]["mean_first_step"] == 0.0
    # the same numbers as the Python API for the same configuration and seed
    s = load_dict(cli_scenario(), tmp_path)
    res = redline.simulate(s, 200, seed=7, levers={"policy": "harsh"}, lens="eager")
    for summary in res.summary():
        o = outcomes[summary.id]
        assert o["p"] == summary.p
        assert math.isclose(o["lo"], summary.lo) and math.isclose(o["hi"], summary.hi)
        if summary.mean_first_step is None:
            assert o["mean_first_step"] is None
        else:
            first = res.table.column(f"first.{summary.id}").to_numpy(zero_copy_only=False)
            first = first.astype(float)
            mean = float(np.nanmean(first))
            assert math.isclose(o["mean_first_step"], mean, rel_tol=1e-12)
            assert math.isclose(summary.mean_first_step, mean, rel_tol=1e-12)


def test_run_json_intervals_contain_p(numpy_payload: dict[str, Any]) -> None:
    """Every outcome's interval contains its p, also when p is 0 ("never") or 1 ("always")."""
    for ident, o in numpy_payload["outcomes"].items():
        assert o["lo"] <= o["p"] <= o["hi"], f"{ident}: p={o['p']} not in [{o['lo']}, {o['hi']}]"


def test_run_json_interval_is_a_95_percent_wilson_interval(numpy_payload: dict[str, Any]) -> None:
    from statsmodels.stats.proportion import proportion_confint

    outcomes = numpy_payload["outcomes"]
    for ident, o in outcomes.items():
        hits = round(o["p"] * 200)
        lo, hi = proportion_confint(hits, 200, alpha=0.05, method="wilson")
        assert math.isclose(o["lo"], lo, abs_tol=1e-12), ident
        assert math.isclose(o["hi"], hi, abs_tol=1e-12), ident


def test_reference_backend_gives_the_same_json(
    numpy_payload: dict[str, Any], scenario_file: Path, tmp_path: Path
) -> None:
    # a fresh working folder: nothing stored by the numpy run can be reused
    slow = _run_json(scenario_file, tmp_path, "--backend", "reference")
    assert slow == numpy_payload


def test_fused_backend_on_threads_gives_the_same_json(
    numpy_payload: dict[str, Any], scenario_file: Path, tmp_path: Path
) -> None:
    fast = _run_json(scenario_file, tmp_path, "--backend", "numba", "--threads", "2")
    assert fast == numpy_payload


def test_builtin_scenario_by_name(tmp_path: Path) -> None:
    name = sorted(redline.scenario.loader.builtin_scenarios())[0]
    s = redline.load(name)
    args = ["run", name, "--runs", "50", "--seed", "1", "--json"]
    for lever in s.levers:
        args += ["--lever", f"{lever.id}={lever.options[-1].id}"]
    if s.lenses:
        args += ["--lens", s.lenses[-1].id]
    proc = redline_cli(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["horizon"] == s.time.horizon
    assert payload["runs"] == 50
    assert sorted(payload["outcomes"]) == sorted(o.id for o in s.outcomes)
    for o in payload["outcomes"].values():
        assert 0.0 <= o["lo"] <= o["hi"] <= 1.0
        assert o["lo"] - 1e-9 <= o["p"] <= o["hi"] + 1e-9


BAD_OPTIONS = {
    "unknown lever": ["--lever", "nope=mild"],
    "unknown option": ["--lever", "policy=nope"],
    "unknown lens": ["--lens", "nope"],
    "zero runs": ["--runs", "0"],
    "unknown backend": ["--backend", "nope"],
    "zero chunk size": ["--chunk-size", "0"],
    "zero threads": ["--threads", "0"],
    "threads with worker processes": ["--threads", "2", "--workers", "2"],
}


@pytest.mark.parametrize("args", BAD_OPTIONS.values(), ids=BAD_OPTIONS.keys())
def test_bad_options_exit_2_with_one_line(
    scenario_file: Path, tmp_path: Path, args: list[str]
) -> None:
    proc = redline_cli("run", str(scenario_file), "--runs", "10", "--json", *args, cwd=tmp_path)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert proc.stdout.strip() == ""


def test_missing_scenario_file_exits_2(tmp_path: Path) -> None:
    proc = redline_cli("run", str(tmp_path / "nope.yaml"), "--runs", "10", "--json", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_summary_interval_contains_p_when_never_or_always_hit(tmp_path: Path) -> None:
    """The 95% interval must contain p also at p = 0 and p = 1."""
    s = load_dict(cli_scenario(), tmp_path)
    res = redline.simulate(s, 300, seed=0)
    by_id = {x.id: x for x in summarize(res.table, res.outcomes)}
    never, always = by_id["never"], by_id["always"]
    assert never.hits == 0 and never.p == 0.0
    assert always.hits == 300 and always.p == 1.0
    assert never.lo <= never.p <= never.hi, (never.lo, never.hi)
    assert always.lo <= always.p <= always.hi, (always.lo, always.hi)
