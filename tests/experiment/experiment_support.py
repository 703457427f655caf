"""Helpers for the experiment-layer tests: the installed console script, a reader that looks at
a store while a sweep writes it, and table comparisons.

Every sweep here uses the built-in scenario ``convoy-strike``: four options of one lever × two
lenses = eight design points, listed lever-major (point 2k is option k with lens ``baseline``,
point 2k+1 the same option with lens ``provocation``).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

SCRIPT = Path(sys.executable).parent / "redline"
if not SCRIPT.exists():  # pragma: no cover - a venv always has it
    SCRIPT = Path(shutil.which("redline") or "redline")

SCENARIO = "convoy-strike"
OPTIONS = ["none", "consultation", "uncertain", "collective"]
LENSES = ["baseline", "provocation"]
RUNS = 1000
CHUNK = 500
SEED = 7
#: the experiment most tests run: 8 design points × 2 units of 500 runs = 16 units
SPEC = [SCENARIO, "--runs", str(RUNS), "--chunk-size", str(CHUNK), "--seed", str(SEED)]
POINTS = len(OPTIONS) * len(LENSES)
UNITS = POINTS * (RUNS // CHUNK)
#: the first two options only: the reference's points 0..3, in the same order
HALF = ["--lever", "nato_response=none", "--lever", "nato_response=consultation"]


@dataclass(frozen=True)
class Reference:
    """An uninterrupted sweep of :data:`SPEC` named ``ref``, and its exports made with
    ``redline results export``: the session's ``reference`` fixture (conftest.py here)."""

    store: Path
    csv: Path
    parquet: Path
    table: pa.Table


def env() -> dict[str, str]:
    out = dict(os.environ)
    out.pop("FORCE_COLOR", None)
    out["COLUMNS"] = "200"
    return out


def _no_report(args: Sequence[str]) -> list[str]:
    """A sweep writes its HTML report unless told otherwise; these tests look at the store, so
    their sweeps skip it (the report's own tests write one) unless the test asks for it."""
    args = list(args)
    if args[:1] == ["sweep"] and "--report" not in args and "--no-report" not in args:
        args.append("--no-report")
    return args


def redline(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run the console script to completion (a sweep without its report, unless asked)."""
    return subprocess.run(
        [str(SCRIPT), *_no_report(args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env(),
    )


def redline_here(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``redline ARGS`` in this process (typer's test runner), for checks of what a command
    says and leaves behind rather than of the process (start-up, signals, locks held by another
    process): a tenth of the CPU of starting the console script. Paths in ``args`` must be
    absolute. An exception the command let escape is raised here (where the console script
    would have printed a traceback), so the check fails on it."""
    from typer.testing import CliRunner

    from redline.cli import app

    result = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1"}).invoke(app, _no_report(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(
        ["redline", *args], result.exit_code, result.stdout, result.stderr
    )


def start(*args: str, cwd: Path, **popen: Any) -> subprocess.Popen[str]:
    """Start the console script without waiting for it (``popen``: more Popen options; a sweep
    without its report, unless asked), with SIGINT at its default disposition: a test process
    started in the background by a non-interactive shell inherits SIGINT ignored, and so
    would the command, which the tests that interrupt it would then wait on for minutes."""
    popen.setdefault("preexec_fn", _default_sigint)
    return subprocess.Popen(
        [str(SCRIPT), *_no_report(args)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
        **popen,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def flat(text: str) -> str:
    """Output with line wrapping undone (rich wraps long messages)."""
    return " ".join(text.split())


def assert_ok(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr


def assert_refused(returncode: int, stdout: str, stderr: str, *fragments: str) -> str:
    """Exit 2, a message on stderr, no traceback; returns the flattened stderr."""
    assert returncode == 2, f"exit {returncode}\n{stdout}\n{stderr}"
    assert "Traceback" not in stderr + stdout, stderr
    message = flat(stderr)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


def derived_scenario(where: Path) -> Path:
    """:data:`SCENARIO` with one more outcome (``article5_again``: other columns) and a third
    lens, ``fixed_threshold``, that fixes the uncertainty ``nuclear_threshold`` the other lenses
    draw; written to ``where`` (a scenario of the tests' own, whatever happens to the other
    built-in ones)."""
    from redline.scenario.loader import load_scenario

    text = load_scenario(SCENARIO).path.read_text()
    for anchor, added in (
        (
            "lenses:\n",
            "  - id: fixed_threshold\n"
            "    name: the threshold known\n"
            "    assumption: the balance at which Russia sees defeat is -0.7\n"
            "    set: {nuclear_threshold: -0.7}\n",
        ),
        (
            "outcomes:\n",
            "  - id: article5_again\n"
            "    name: Article 5 invoked (a second column)\n"
            "    when: 'happened(\"invoked:NATO.article5\")'\n",
        ),
    ):
        assert text.count(anchor) == 1, anchor
        text = text.replace(anchor, anchor + added)
    path = where / "derived.yaml"
    path.write_text(text)
    return path


# -- looking at a store while a sweep writes it ------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    """What one read transaction saw."""

    status: str | None
    units: list[tuple[int, int, int, int]]  # (unit, point, run_start, run_stop)
    unit_runs: int  # sum over committed units of run_stop - run_start
    rows: int  # rows in the results table
    duplicate_rows: int  # (point, run) pairs stored more than once
    incomplete_units: int  # committed units whose rows are not all there
    stray_rows: int  # rows of no committed unit
    orphan_occupancy: int  # occupancy rows of units not committed
    units_without_occupancy: int

    def assert_whole(self) -> None:
        """Only whole units are visible: rows, completion records and occupancy agree."""
        assert self.rows == self.unit_runs, self
        assert self.duplicate_rows == 0, self
        assert self.incomplete_units == 0, self
        assert self.stray_rows == 0, self
        assert self.orphan_occupancy == 0, self
        assert self.units_without_occupancy == 0, self


def snapshot(db: Path, name: str) -> Snapshot | None:
    """Everything :class:`Snapshot` holds, read in one transaction of a read-only connection;
    ``None`` while the store cannot be opened (the sweep holds it) or has no experiment yet."""
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return None
    try:
        con.execute("BEGIN TRANSACTION")
        tables = {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
        if "experiments" not in tables:
            return None
        status_rows = con.execute(
            "SELECT status, key FROM experiments WHERE name = ?", [name]
        ).fetchall()
        if not status_rows:
            return None
        status, key = status_rows[0]
        results = f"results_{key}"
        units = [
            tuple(r)
            for r in con.execute(
                "SELECT unit, point, run_start, run_stop FROM units WHERE experiment = ? "
                "ORDER BY unit",
                [key],
            ).fetchall()
        ]
        orphan, without = con.execute(
            "SELECT (SELECT count(*) FROM occupancy o WHERE o.experiment = $1 AND o.unit NOT IN "
            "        (SELECT unit FROM units WHERE experiment = $1)),"
            "       (SELECT count(*) FROM units u WHERE u.experiment = $1 AND NOT EXISTS "
            "        (SELECT 1 FROM occupancy o WHERE o.experiment = $1 AND o.unit = u.unit))",
            [key],
        ).fetchall()[0]
        if results in tables:
            rows, duplicates, incomplete, stray = con.execute(
                f'WITH r AS (SELECT point, run FROM "{results}"), '
                "u AS (SELECT * FROM units WHERE experiment = $1) "
                "SELECT (SELECT count(*) FROM r), "
                "(SELECT count(*) FROM (SELECT point, run FROM r GROUP BY ALL "
                "                       HAVING count(*) > 1)), "
                "(SELECT count(*) FROM u WHERE (SELECT count(*) FROM r WHERE r.point = u.point "
                "  AND r.run >= u.run_start AND r.run < u.run_stop) <> u.run_stop - u.run_start),"
                "(SELECT count(*) FROM r WHERE NOT EXISTS (SELECT 1 FROM u WHERE "
                "  u.point = r.point AND r.run >= u.run_start AND r.run < u.run_stop))",
                [key],
            ).fetchall()[0]
        else:
            rows = duplicates = stray = 0
            incomplete = len(units)
        con.execute("COMMIT")
    except duckdb.IOException:
        # a look taken while the sweep's process grows the file can read past its end; the
        # next look sees it whole (the test's final checks read the finished store)
        return None
    finally:
        con.close()
    return Snapshot(
        status,
        units,
        sum(b - a for _, _, a, b in units),
        rows,
        duplicates,
        incomplete,
        stray,
        orphan,
        without,
    )


def wait_snapshot(db: Path, name: str, timeout: float = 120) -> Snapshot:
    deadline = time.monotonic() + timeout
    while True:
        snap = snapshot(db, name)
        if snap is not None:
            return snap
        assert time.monotonic() < deadline, f"could not read {db}"
        time.sleep(0.02)


def planned_units(
    points: int = POINTS, runs: int = RUNS, chunk: int = CHUNK
) -> set[tuple[int, int, int, int]]:
    per = -(-runs // chunk)
    return {
        (p * per + k, p, k * chunk, min((k + 1) * chunk, runs))
        for p in range(points)
        for k in range(per)
    }


# -- tables ------------------------------------------------------------------------------------
def read_export(path: Path) -> pa.Table:
    if path.suffix == ".csv":
        return pacsv.read_csv(path)
    return pq.read_table(path)


def where_point_below(table: pa.Table, n: int) -> pa.Table:
    return table.filter(pc.less(table.column("point"), n))


def assert_same_rows(got: pa.Table, expected: pa.Table) -> None:
    """Same columns, types and values in the same order (nullability flags aside: a Parquet
    export marks columns without nulls as required)."""
    assert got.column_names == expected.column_names
    assert got.num_rows == expected.num_rows
    for name in got.column_names:
        a, b = got.column(name), expected.column(name)
        assert a.type == b.type, f"column {name}: {a.type} != {b.type}"
        assert a.equals(b), f"column {name} differs"


def store_state(db: Path, name: str) -> dict[str, object]:
    """Everything stored about an experiment, to check that something changed nothing."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        cursor = con.execute("SELECT * FROM experiments WHERE name = ?", [name])
        experiment = [
            dict(zip([d[0] for d in cursor.description], row, strict=True))
            for row in cursor.fetchall()
        ]
        key = experiment[0]["key"] if experiment else None
        units = con.execute(
            "SELECT * FROM units WHERE experiment = ? ORDER BY unit", [key]
        ).fetchall()
        points = con.execute(
            "SELECT * FROM points WHERE experiment = ? ORDER BY point", [key]
        ).fetchall()
        occupancy = con.execute(
            "SELECT count(*), sum(runs), sum(hash(unit, step, rung, runs)) "
            "FROM occupancy WHERE experiment = ?",
            [key],
        ).fetchall()
        table = f"results_{key}" if experiment else None
        results = (
            con.execute(f'SELECT count(*), sum(hash(COLUMNS(*))) FROM "{table}"').fetchall()
            if table
            else None
        )
    finally:
        con.close()
    return {
        "experiment": experiment,
        "units": units,
        "points": points,
        "occupancy": occupancy,
        "results": results,
    }


def run_concurrently(
    commands: Sequence[tuple[Sequence[str], Path]], timeout: float = 600
) -> list[tuple[int, str, str, float]]:
    """Start every command at once; (exit status, stdout, stderr, seconds it ran) of each.
    Output goes to files, so that no process waits on a full pipe while others are polled."""
    with tempfile.TemporaryDirectory() as logs:
        procs = []
        for i, (args, cwd) in enumerate(commands):
            out = open(Path(logs) / f"{i}.out", "w+")  # noqa: SIM115 - closed below
            err = open(Path(logs) / f"{i}.err", "w+")  # noqa: SIM115
            started = time.monotonic()
            proc = subprocess.Popen(
                [str(SCRIPT), *args], cwd=cwd, stdout=out, stderr=err, text=True, env=env()
            )
            procs.append((proc, out, err, started))
        ended: dict[int, float] = {}
        deadline = time.monotonic() + timeout
        try:
            while len(ended) < len(procs):
                for i, (proc, _, _, _) in enumerate(procs):
                    if i not in ended and proc.poll() is not None:
                        ended[i] = time.monotonic()
                assert time.monotonic() < deadline, "commands did not finish"
                time.sleep(0.02)
        finally:
            for proc, _, _, _ in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        results = []
        for i, (proc, out, err, started) in enumerate(procs):
            out.seek(0)
            err.seek(0)
            results.append((proc.returncode, out.read(), err.read(), ended[i] - started))
            out.close()
            err.close()
        return results
