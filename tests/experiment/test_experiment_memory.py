"""Memory does not grow with the number of runs: a sweep computes and commits units one window at
a time; compare and results show count in DuckDB."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
from experiment_support import SCENARIO, SCRIPT, Reference, env, wait_snapshot

#: run in a fresh interpreter: the peak RSS of its only child, the sweep, in KiB
MEASURE = """
import resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stderr.write(proc.stderr)
assert proc.returncode == 0, proc.returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _command_peak_kib(cwd: Path, *args: str) -> int:
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE, str(SCRIPT), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=env(),
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return int(proc.stdout.strip().splitlines()[-1])


def _peak_kib(tmp_path: Path, runs: int) -> int:
    db = tmp_path / f"m{runs}.duckdb"
    peak = _command_peak_kib(
        tmp_path,
        "sweep",
        SCENARIO,
        "--name",
        "m",
        "--runs",
        str(runs),
        "--chunk-size",
        "10000",
        "--lever",
        "nato_response=uncertain",
        "--lens",
        "provocation",
        "--store",
        str(db),
        "--no-report",  # the sweep's memory, not its report's
    )
    snap = wait_snapshot(db, "m")
    assert snap.status == "done"
    assert snap.rows == runs
    return peak


def test_peak_memory_does_not_grow_with_runs(tmp_path: Path) -> None:
    small = _peak_kib(tmp_path, 20_000)
    large = _peak_kib(tmp_path, 200_000)
    print(
        f"peak RSS: {small / 1024:.0f} MiB for 20,000 runs, {large / 1024:.0f} MiB for 200,000 runs"
    )
    assert large / small < 1.5, (small, large)


def test_compare_and_show_memory_does_not_grow_with_stored_runs(
    tmp_path: Path, reference: Reference
) -> None:
    """Counted in DuckDB: the reference's 8,000 rows and 250 times as many (the same rows
    under other run indices) take the same memory to compare and show."""
    small, large = tmp_path / "small.duckdb", tmp_path / "large.duckdb"
    shutil.copy(reference.store, small)
    shutil.copy(reference.store, large)
    con = duckdb.connect(str(large))
    ((key,),) = con.execute("SELECT key FROM experiments WHERE name = 'ref'").fetchall()
    con.execute(
        f'INSERT INTO "results_{key}" SELECT r.* REPLACE (r.run + t.k * 1000 AS run) '
        f'FROM "results_{key}" r, range(1, 250) t(k)'
    )
    assert con.execute(f'SELECT count(*) FROM "results_{key}"').fetchall() == [(2_000_000,)]
    con.close()
    for command in (["compare", "ref", "--by", "lens"], ["results", "show", "ref"]):
        peaks = [_command_peak_kib(tmp_path, *command, "--store", str(db)) for db in (small, large)]
        print(
            f"{' '.join(command)}: peak RSS {peaks[0] // 1024} MiB for 8,000 runs, "
            f"{peaks[1] // 1024} MiB for 2,000,000"
        )
        assert peaks[1] / peaks[0] < 1.25, (command, peaks)
