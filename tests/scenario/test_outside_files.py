"""A stranger's scenario (or experiment file) reads nothing outside its folder.

``extends`` and an experiment file's ``scenario`` may name a built-in scenario or a file in the
naming file's folder or below it. Absolute paths, ``..`` and symbolic links — to a file or to a
folder — that lead out of the folder are refused at the naming line, before the other file is
read, so nothing of it (here a file holding a secret, which also is invalid YAML and would be
quoted by the parser's message) reaches the output. Non-regular files (a named pipe, which
would block the reader forever, or a device) are refused as scenarios.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from redline.scenario.loader import builtin_scenarios

from .support import run_cli

SECRET = "TOP-SECRET-CONTENT-7f3a"
BASE = builtin_scenarios()["convoy-strike"]
RULE = "must name a built-in scenario or a file in this file's folder or below it"
SCRIPT = Path(sys.executable).parent / "redline"


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    """``outside/`` with a secret (invalid YAML that quotes itself) and a valid base scenario;
    ``scenarios/`` with links out of it: ``link.yaml`` to the secret, ``sub`` to the folder,
    and ``inside.yaml``, a link to a file of its own folder (allowed)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(f"id: [{SECRET}\n  still: {SECRET}\n")
    (outside / "base.yaml").write_text(BASE.read_text(encoding="utf-8"))
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "link.yaml").symlink_to(outside / "secret.yaml")
    (folder / "sub").symlink_to(outside, target_is_directory=True)
    (folder / "own.yaml").write_text(BASE.read_text(encoding="utf-8"))
    (folder / "inside.yaml").symlink_to(folder / "own.yaml")
    return folder


def _extends(folder: Path, target: str) -> Path:
    path = folder / f"child-{abs(hash(target))}.yaml"
    path.write_text(f"extends: {target}\ntitle: a stranger's scenario\n")
    return path


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("link.yaml", "symbolic link to a file outside"),
        ("sub/secret.yaml", "through a symbolic link to a folder outside"),
        ("sub/base.yaml", "a valid scenario, but outside"),
        ("../outside/secret.yaml", "'..'"),
        ("{outside}/secret.yaml", "absolute path"),
    ],
)
@pytest.mark.parametrize("command", ["validate", "explain", "run"])
def test_extends_out_of_the_folder_is_refused_unread(
    layout: Path, target: str, why: str, command: str
) -> None:
    target = target.format(outside=layout.parent / "outside")
    child = _extends(layout, target)
    result = run_cli(command, str(child), *(["--runs", "10", "--json"] if command == "run" else []))
    assert result.exit_code == 2, (why, result.output)
    assert result.exception is None, result.exception
    flat = " ".join(result.output.split())
    assert f"{child.name}:1: extends: {RULE}" in flat, (why, flat)
    assert SECRET not in result.output, why
    assert "Traceback" not in result.output


def test_a_link_within_the_folder_is_followed(layout: Path) -> None:
    child = _extends(layout, "inside.yaml")
    result = run_cli("validate", str(child))
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


@pytest.mark.parametrize(
    ("scenario", "why"),
    [
        ("{outside}/base.yaml", "absolute path"),
        ("../outside/base.yaml", "'..'"),
        ("link.yaml", "symbolic link to a file outside"),
        ("sub/base.yaml", "symbolic link to a folder outside"),
    ],
)
def test_an_experiment_file_names_no_scenario_out_of_its_folder(
    layout: Path, scenario: str, why: str
) -> None:
    scenario = scenario.format(outside=layout.parent / "outside")
    experiment = layout / "experiment.yaml"
    experiment.write_text(f"name: probe\nscenario: {scenario}\nruns: 10\n")
    store = layout.parent / "store.duckdb"
    result = run_cli("sweep", str(experiment), "--store", str(store))
    assert result.exit_code == 2, (why, result.output)
    flat = " ".join(result.output.split())
    assert f"experiment.yaml:2: scenario: {RULE}" in flat, (why, flat)
    assert SECRET not in result.output
    assert not store.exists(), "nothing is stored for a refused experiment file"


def test_an_experiment_file_names_a_scenario_in_its_folder_or_a_builtin(layout: Path) -> None:
    from redline.experiment.spec import load_spec

    for scenario, expected in (
        ("own.yaml", layout / "own.yaml"),
        ("inside.yaml", layout / "inside.yaml"),
        ("convoy-strike", BASE),
    ):
        experiment = layout / "experiment.yaml"
        experiment.write_text(f"name: probe\nscenario: {scenario}\nruns: 10\n")
        assert Path(load_spec(experiment).scenario) == expected


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
@pytest.mark.parametrize("command", ["validate", "run", "story", "explain"])
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path, command: str) -> None:
    pipe = tmp_path / "scenario.yaml"
    os.mkfifo(pipe)
    # a real process: a reader blocked on the pipe would hang the test, and the timeout fails it
    proc = subprocess.run(
        [str(SCRIPT), command, str(pipe)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 2, proc.stderr
    assert "scenario.yaml: not a regular file (a named pipe, a device or a socket)" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_a_device_is_refused_as_a_scenario() -> None:
    result = run_cli("validate", "/dev/zero")
    assert result.exit_code == 2
    assert "/dev/zero: not a regular file" in result.output
