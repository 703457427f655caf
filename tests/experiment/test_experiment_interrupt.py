"""Ctrl-C (SIGINT) stops a sweep cleanly wherever it lands — computing, saving a unit (inside a
DuckDB query, which DuckDB reports as ``RuntimeError: Query interrupted``), waiting for the
store: exit 130, a message that says how much is stored, no traceback, only whole units, the
experiment recorded as stopped; the same command started again finishes it with the results of
an uninterrupted sweep and marks it done."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from experiment_support import (
    SCENARIO,
    SPEC,
    UNITS,
    Reference,
    assert_ok,
    flat,
    read_export,
    redline,
    snapshot,
    start,
    wait_snapshot,
)

from redline.experiment.spec import ExperimentSpec
from redline.experiment.store import Store
from redline.experiment.sweep import Plan, plan
from redline.scenario.loader import load_scenario

#: two units of 50,000 runs: saving one takes long enough for a signal to land in its INSERT
BIG = [
    SCENARIO,
    "--runs",
    "100000",
    "--chunk-size",
    "50000",
    "--seed",
    "7",
    "--lever",
    "nato_response=uncertain",
    "--lens",
    "provocation",
]
STOPPED = "units are stored; run the same command again to finish"


def _start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """The console script in a session of its own, with SIGINT at its default disposition (a
    child of a test runner may inherit it ignored), so that only it gets the signal."""
    return start(
        *args,
        cwd=cwd,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for(condition: Callable[[], bool], proc: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + 600
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the sweep ended (exit {proc.returncode}) before {what}:\n{out}\n{err}")
        assert time.monotonic() < deadline, f"never {what}"
        time.sleep(0.005)


def _units(db: Path, name: str) -> int:
    snap = snapshot(db, name)
    return len(snap.units) if snap is not None else 0


def _writing(db: Path) -> bool:
    """Whether a process holds the store (the sweep opens it only to read or write a little)."""
    try:
        duckdb.connect(str(db), read_only=True).close()
    except duckdb.IOException as exc:
        return "lock" in str(exc).lower()
    return False


def _hold(db: Path, held: list[duckdb.DuckDBPyConnection]) -> bool:
    """Open the store read-only (which keeps writers out) when it is free."""
    try:
        held.append(duckdb.connect(str(db), read_only=True))
    except duckdb.IOException:
        return False
    return True


def _interrupt(
    proc: subprocess.Popen[str], before: Callable[[], None] | None = None
) -> tuple[int, str, str]:
    os.kill(proc.pid, signal.SIGINT)
    if before is not None:
        before()
    try:
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, out, err


def _assert_stopped_cleanly(rc: int, out: str, err: str, db: Path, name: str, units: int) -> int:
    """Exit 130, the message, no traceback, only whole units, status ``stopped``; returns how
    many units are stored."""
    assert rc == 130, f"exit {rc}\n{out}\n{err}"
    assert "Traceback" not in err + out, err
    assert "Query interrupted" not in err
    snap = wait_snapshot(db, name)
    snap.assert_whole()
    assert f"stopped: {len(snap.units)} of {units} {STOPPED}" in flat(err), err
    assert snap.status == "stopped"
    listed = redline("results", "list", "--store", str(db), cwd=db.parent)
    assert_ok(listed)
    assert "stopped" in listed.stdout
    assert f"{len(snap.units)}/{units} (incomplete)" in listed.stdout
    return len(snap.units)


def _resume_and_compare(
    args: list[str], db: Path, name: str, stored: int, expected: pa.Table
) -> None:
    resumed = redline(*args, cwd=db.parent)
    assert_ok(resumed)
    if stored:
        said = f"{stored} unit was" if stored == 1 else f"{stored} units were"
        assert f"resumed: {said} already stored" in flat(resumed.stdout)
    final = wait_snapshot(db, name)
    final.assert_whole()
    assert final.status == "done"
    target = db.parent / f"{name}.parquet"
    assert Store(db).export(name, "parquet", target) == expected.num_rows
    assert read_export(target).equals(expected)


@pytest.fixture(scope="module")
def big_reference(tmp_path_factory: pytest.TempPathFactory) -> pa.Table:
    """:data:`BIG` swept without interruption, exported."""
    where = tmp_path_factory.mktemp("big")
    db = where / "big.duckdb"
    assert_ok(redline("sweep", *BIG, "--name", "big", "--store", str(db), cwd=where))
    Store(db).export("big", "parquet", where / "big.parquet")
    return read_export(where / "big.parquet")


@pytest.mark.parametrize("moment", ["computing", "waiting-for-the-store"])
def test_sigint_stops_a_sweep_cleanly_and_it_resumes(
    tmp_path: Path, reference: Reference, moment: str
) -> None:
    db = tmp_path / "store.duckdb"
    args = ["sweep", *SPEC, "--name", "i", "--store", str(db)]
    proc = _start(*args, cwd=tmp_path)
    held: list[duckdb.DuckDBPyConnection] = []

    def release() -> None:
        for con in held:
            con.close()

    try:
        _wait_for(lambda: _units(db, "i") >= 2, proc, "2 units were stored")
        if moment == "waiting-for-the-store":
            # hold the store: the sweep waits for it to save its next unit
            _wait_for(lambda: _hold(db, held), proc, "the store came free")
            time.sleep(1.5)
        rc, out, err = _interrupt(proc, before=release)
    finally:
        release()
    stored = _assert_stopped_cleanly(rc, out, err, db, "i", UNITS)
    assert 2 <= stored < UNITS
    _resume_and_compare(args, db, "i", stored, reference.table)


@pytest.mark.parametrize("delay", [0.01, 0.025])
def test_sigint_while_a_unit_is_saved_stops_cleanly_and_it_resumes(
    tmp_path: Path, big_reference: pa.Table, delay: float
) -> None:
    """The signal lands in the first unit's transaction (most likely in its INSERT)."""
    db = tmp_path / "store.duckdb"
    args = ["sweep", *BIG, "--name", "b", "--store", str(db)]
    proc = _start(*args, cwd=tmp_path)
    _wait_for(lambda: snapshot(db, "b") is not None, proc, "the experiment was registered")
    time.sleep(0.3)  # past the reads that follow, into the first unit's computation
    _wait_for(lambda: _writing(db), proc, "the sweep saved a unit")
    time.sleep(delay)
    rc, out, err = _interrupt(proc)
    stored = _assert_stopped_cleanly(rc, out, err, db, "b", 2)
    assert stored < 2
    _resume_and_compare(args, db, "b", stored, big_reference)


def test_sigint_at_start_exits_130_without_a_traceback(tmp_path: Path) -> None:
    """While Python still imports redline, or the sweep plans: a word, exit 130."""
    db = tmp_path / "store.duckdb"
    for delay in (0.8, 1.6):
        proc = _start("sweep", *SPEC, "--name", "s", "--store", str(db), cwd=tmp_path)
        time.sleep(delay)
        rc, out, err = _interrupt(proc)
        assert rc == 130, f"exit {rc}\n{out}\n{err}"
        assert "Traceback" not in err + out, err
        assert "interrupted" in err or "stopped" in err, err


# -- in this process ---------------------------------------------------------------------------
def _planned(db: Path) -> tuple[Store, ExperimentSpec, Plan]:
    """Experiment ``p`` registered in a new store: one option, one lens, two units."""
    loaded = load_scenario(SCENARIO)
    spec = ExperimentSpec(
        name="p",
        scenario=str(loaded.path),
        runs=1000,
        chunk_size=500,
        seed=7,
        levers={"nato_response": ["none"]},
        lenses=["baseline"],
    )
    store = Store(db)
    return store, spec, plan(spec, store)


def _interrupted_commit(
    store: Store, p: Plan, rows: pa.Table, occupancy: np.ndarray, delay: float, opened: list[Any]
) -> KeyboardInterrupt | None:
    """Commit a unit and interrupt its connection ``delay`` seconds in, as Ctrl-C does; the
    KeyboardInterrupt if the interruption landed in a query (else None: it came after)."""

    def interrupt() -> None:
        with contextlib.suppress(duckdb.ConnectionException):  # the commit ended first
            opened[-1].interrupt()

    timer = threading.Timer(delay, interrupt)
    timer.start()
    try:
        store.commit_unit(p.record, p.units[0], rows, occupancy, 1.0)
    except KeyboardInterrupt as exc:
        return exc
    finally:
        timer.join()
    return None


def test_an_interrupted_duckdb_query_is_a_keyboard_interrupt_and_rolls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB reports Ctrl-C in a query as an interruption (``InterruptException``, or
    ``RuntimeError: Query interrupted`` for SIGINT); the store raises it as KeyboardInterrupt,
    and the interrupted unit leaves nothing behind. (The query is interrupted through DuckDB's
    own interrupt: where a SIGINT lands depends on what else the test process has loaded. The
    sweep tests above send real SIGINTs to a real command.)"""
    opened: list[Any] = []
    connect = Store.connect

    @contextlib.contextmanager
    def recording(self: Store, *args: Any, **kwargs: Any) -> Iterator[Any]:
        with connect(self, *args, **kwargs) as con:
            opened.append(con)
            yield con

    monkeypatch.setattr(Store, "connect", recording)
    n = 5_000_000  # an INSERT long enough (most of a second) to interrupt
    occupancy = np.ones((3, 2), np.int64)
    schema = _planned(tmp_path / "layout.duckdb")[2].record.layout.stored_schema()
    rng = np.random.default_rng(1)  # values that do not compress to nothing
    rows = pa.table(
        {
            f.name: pa.array(np.arange(n) if f.name == "run" else rng.integers(0, 9, n))
            for f in schema
        }
    )
    for attempt in range(5):
        # aim at the middle of the commit, as long as it takes on this machine right now
        scratch, _, q = _planned(tmp_path / f"scratch{attempt}.duckdb")
        started = time.perf_counter()
        scratch.commit_unit(q.record, q.units[0], rows, occupancy, 1.0)
        middle = (time.perf_counter() - started) / 2
        store, _, p = _planned(tmp_path / f"store{attempt}.duckdb")
        caught = _interrupted_commit(store, p, rows, occupancy, middle, opened)
        if caught is not None:
            break
    else:
        pytest.fail("in 5 attempts the interruption never landed in a DuckDB query")
    assert isinstance(caught.__context__, RuntimeError | duckdb.InterruptException), (
        "the interruption did not come from a DuckDB query"
    )
    assert store.done_units("p") == set()
    con = duckdb.connect(str(store.path), read_only=True)
    try:
        table = p.record.results_table
        assert con.execute(f'SELECT count(*) FROM "{table}"').fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM occupancy").fetchall() == [(0,)]
    finally:
        con.close()
    # the store works on: the same unit commits
    small = rows.slice(0, 10)
    store.commit_unit(p.record, p.units[0], small, occupancy, 1.0)
    assert store.done_units("p") == {0}


def test_a_stopped_experiment_is_running_again_when_resumed(tmp_path: Path) -> None:
    store, spec, _ = _planned(tmp_path / "store.duckdb")
    assert store.mark_stopped("p") is not None
    record = store.get("p")
    assert record is not None
    assert record.status == "stopped"
    assert "stopped, incomplete: 0 of 2 units stored" in record.progress()
    plan(spec, store)
    record = store.get("p")
    assert record is not None
    assert record.status == "running"
    # a finished experiment stays done whatever happens
    con = duckdb.connect(str(store.path))
    con.execute("UPDATE experiments SET status = 'done'")
    con.close()
    store.mark_stopped("p")
    plan(spec, store)
    record = store.get("p")
    assert record is not None
    assert record.status == "done"


def test_ctrl_c_in_the_python_code_a_query_calls_is_a_keyboard_interrupt(tmp_path: Path) -> None:
    """Ctrl-C can land in the Python code DuckDB calls to read a registered Arrow object (a
    unit's rows, its occupancy); DuckDB then reports the object's failure, naming the
    KeyboardInterrupt. The store raises it as KeyboardInterrupt, as any other Ctrl-C (a sweep
    then stops cleanly), and a registered object's other failures stay what they were."""
    schema = pa.schema([("a", pa.int64())])

    def failing(exc: BaseException) -> Iterator[pa.RecordBatch]:
        raise exc
        yield  # a generator, read only when DuckDB scans it

    store = Store(tmp_path / "s.duckdb")
    for exc, expected in (
        (KeyboardInterrupt(), KeyboardInterrupt),
        (ValueError("x"), duckdb.Error),
    ):
        with pytest.raises(expected), store.connect() as con:
            con.register("rows", pa.RecordBatchReader.from_batches(schema, failing(exc)))
            con.execute("SELECT * FROM rows").fetchall()
