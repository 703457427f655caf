"""A sweep's memory does not grow with its number of runs: units are computed and committed one
window at a time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from experiment_support import SCENARIO, SCRIPT, env, wait_snapshot

#: run in a fresh interpreter: the peak RSS of its only child, the sweep, in KiB
MEASURE = """
import resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stderr.write(proc.stderr)
assert proc.returncode == 0, proc.returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _peak_kib(tmp_path: Path, runs: int) -> int:
    db = tmp_path / f"m{runs}.duckdb"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            MEASURE,
            str(SCRIPT),
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
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=env(),
    )
    assert proc.returncode == 0, proc.stderr
    snap = wait_snapshot(db, "m")
    assert snap.status == "done"
    assert snap.rows == runs
    return int(proc.stdout.strip().splitlines()[-1])


def test_peak_memory_does_not_grow_with_runs(tmp_path: Path) -> None:
    small = _peak_kib(tmp_path, 20_000)
    large = _peak_kib(tmp_path, 200_000)
    print(
        f"peak RSS: {small / 1024:.0f} MiB for 20,000 runs, {large / 1024:.0f} MiB for 200,000 runs"
    )
    assert large / small < 1.5, (small, large)
