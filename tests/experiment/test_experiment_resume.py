"""A sweep killed with SIGKILL at several moments leaves only whole units behind, and the same
command started again finishes it with results identical to an uninterrupted sweep."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest
from experiment_support import (
    SPEC,
    UNITS,
    Reference,
    Snapshot,
    assert_ok,
    flat,
    planned_units,
    read_export,
    redline,
    snapshot,
    start,
    wait_snapshot,
)

from redline.experiment.store import Store


def _wait_until_writing(db: Path, proc: subprocess.Popen[str], limit: float = 5.0) -> None:
    """Return as soon as the sweep holds the store (it opens it only to write: most likely
    in the middle of committing a unit), or after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            duckdb.connect(str(db), read_only=True).close()
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                return
        time.sleep(0.001)


@pytest.mark.parametrize(
    ("fraction", "mid_commit", "fmt"),
    [(0.1, False, "csv"), (0.45, True, "parquet"), (0.8, True, "csv")],
    ids=["early", "middle-while-writing", "late-while-writing"],
)
def test_killed_sweep_resumes_to_the_uninterrupted_results(
    tmp_path: Path, reference: Reference, fraction: float, mid_commit: bool, fmt: str
) -> None:
    db = tmp_path / "store.duckdb"
    # one unit at a time, so that a unit is still to come when the kill lands late
    args = ["sweep", *SPEC, "--threads", "1", "--name", "k", "--store", str(db)]
    target = max(1, int(UNITS * fraction))
    planned = planned_units()

    looks: list[Snapshot] = []
    proc = start(*args, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 600
        while True:
            if proc.poll() is not None:
                out, err = proc.communicate()
                pytest.fail(
                    f"the sweep ended (exit {proc.returncode}) before {target} units "
                    f"were stored:\n{out}\n{err}"
                )
            assert time.monotonic() < deadline, "the sweep made no progress"
            snap = snapshot(db, "k")
            if snap is not None:
                snap.assert_whole()  # never a half-written unit, whenever we look
                assert set(snap.units) <= planned
                looks.append(snap)
                if len(snap.units) >= target:
                    break
            time.sleep(0.02)
        if mid_commit:
            _wait_until_writing(db, proc)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == -signal.SIGKILL

    killed = wait_snapshot(db, "k")
    killed.assert_whole()
    assert set(killed.units) <= planned
    assert len(looks[-1].units) <= len(killed.units) < UNITS, "killed after it had finished"
    assert killed.status == "running"
    assert Store(db).get("k") is not None  # the store opens normally after the kill

    resumed = redline(*args, cwd=tmp_path)
    assert_ok(resumed)
    n = len(killed.units)
    said = f"{n} unit was" if n == 1 else f"{n} units were"
    assert f"resumed: {said} already stored" in flat(resumed.stdout)

    final = wait_snapshot(db, "k")
    final.assert_whole()
    assert set(final.units) == planned
    assert final.status == "done"
    assert final.rows == 8000

    exported = tmp_path / f"k.{fmt}"
    assert Store(db).export("k", fmt, exported) == 8000
    if fmt == "csv":
        assert exported.read_bytes() == reference.csv.read_bytes()
    else:
        assert read_export(exported).equals(read_export(reference.parquet))
