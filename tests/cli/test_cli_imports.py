"""What the command line loads before it does anything: ``redline --help``, ``--version`` and a
command's help answer without the simulation's libraries (NumPy, Numba, DuckDB, Arrow, SciPy,
pandas) nor the scenario's validated models, which commands import when they run. (Typer itself
loads pydantic to read a command's options, so pydantic is not among them.)

Bounded by what is imported, not by seconds: each of these libraries costs tens to hundreds of
milliseconds of a start that ``benchmarks/cli.py`` times."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

#: what answering for itself must not load: the engine's and the store's libraries, the
#: scenario's models, the report's
HEAVY = (
    "numpy",
    "numba",
    "duckdb",
    "pyarrow",
    "scipy",
    "pandas",
    "yaml",
    "plotly",
    "jinja2",
    "redline.scenario.model",
    "redline.scenario.loader",
    "redline.compile",
    "redline.engine.kernel",
    "redline.experiment.store",
    "redline.results",
)

_PROBE = """
import sys
from redline.cli import app
try:
    app(sys.argv[1:], prog_name="redline")
except SystemExit as stop:
    code = stop.code
heavy = {heavy!r}
print(code)
print(sorted(m for m in heavy if m in sys.modules))
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["run", "--help"],
        ["sweep", "--help"],
        ["results", "--help"],
        ["analyze", "--help"],
    ],
    ids=" ".join,
)
def test_answering_for_itself_loads_no_simulation_library(args: list[str]) -> None:
    """Each of these exits 0 having imported none of :data:`HEAVY` (the command list and each
    option's help and default are read from light modules)."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    code, loaded = done.stdout.strip().splitlines()[-2:]
    assert code in ("0", "None"), done.stdout + done.stderr
    assert loaded == "[]", f"redline {' '.join(args)} imported {loaded}"


def test_a_command_still_loads_what_it_needs() -> None:
    """The probe can fail: a command that reads a scenario imports its models when it runs."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY), "validate", "convoy-strike"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    code, loaded = done.stdout.strip().splitlines()[-2:]
    assert code in ("0", "None"), done.stdout + done.stderr
    assert "redline.scenario.model" in loaded and "yaml" in loaded


_MEANWHILE = """
import sys, threading
from redline.cli.run_cmds import load_report_meanwhile
hook = load_report_meanwhile()
before = "redline.report.publish" in sys.modules
for _ in range(3):  # one call per stored unit
    hook()
threads = [t for t in threading.enumerate() if t is not threading.main_thread()]
for t in threads:
    t.join()
print(before, len(threads), "redline.report.publish" in sys.modules, "plotly" in sys.modules)
"""


def test_a_sweeps_report_modules_load_once_while_it_computes(tmp_path: Path) -> None:
    """The hook a sweep with a report calls at each stored unit imports the report's modules
    on one thread, at the first call; ``run --json`` (no report) never loads them."""
    done = subprocess.run(
        [sys.executable, "-c", _MEANWHILE], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.split() == ["False", "1", "True", "True"], done.stdout + done.stderr
    probe = _PROBE.format(heavy=("plotly", "jinja2", "redline.report"))
    run = ["run", "convoy-strike", "--runs", "200", "--json", "--store", str(tmp_path / "s.db")]
    quiet = subprocess.run(
        [sys.executable, "-c", probe, *run], capture_output=True, text=True, timeout=120
    )
    assert quiet.stdout.strip().splitlines()[-1] == "[]", quiet.stdout[-500:] + quiet.stderr
