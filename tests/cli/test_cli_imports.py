"""What the command line loads before it does anything: ``redline --help``, ``--version`` and a
command's help answer without the simulation's libraries (NumPy, Numba, DuckDB, Arrow, SciPy,
pandas) nor the scenario's validated models, which commands import when they run. (Typer itself
loads pydantic to read a command's options, so pydantic is not among them.)

Bounded by what is imported, not by seconds: each of these libraries costs tens to hundreds of
milliseconds of a start that ``benchmarks/cli.py`` times."""

from __future__ import annotations

import subprocess
import sys

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


def test_at_exit_the_objects_made_are_left_out_of_the_last_collections() -> None:
    """Once a command is done, the interpreter's last garbage collections skip what it made
    (``gc.freeze`` at exit): walking Numba's, pydantic's and pandas' objects only to free memory
    the process gives back took half a second at the end of ``redline run``. A handler
    registered before redline's runs after it (last in, first out) and sees them frozen."""
    code = (
        "import atexit, gc\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0))\n"
        "from redline.cli import app\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "frozen True"
