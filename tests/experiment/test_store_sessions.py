"""How often a sweep and its report open the store's file: opening a DuckDB file costs tens of
milliseconds however little is done with it, so a sweep opens it once per unit (its commit
claims the next unit on the same connection) and a report reads everything through one
connection (:meth:`~redline.experiment.store.Store.session`). Counted, not timed; the results
must be whole all the same, and the file free for others once the report has read it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from redline.experiment.executors import InProcess
from redline.experiment.runner import execute
from redline.experiment.spec import ExperimentSpec
from redline.experiment.store import Store
from redline.experiment.sweep import Plan, plan, run_plan
from redline.report.build import report_data
from redline.scenario.loader import load_scenario

#: 2 design points (one lever option under two lenses) × 6 units of 10 runs
SPEC = ExperimentSpec(
    name="counted",
    scenario="convoy-strike",
    runs=60,
    chunk_size=10,
    seed=3,
    levers={"nato_response": ["none"]},
    lenses=["baseline", "provocation"],
)
UNITS = 12


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The experiment swept in this process into a new store; the store and the times the
    sweep (registering, computing, committing, finishing) opened its file."""
    path = tmp_path_factory.mktemp("sessions") / "s.duckdb"
    store = Store(path)
    p = plan(SPEC, store)
    assert len(p.todo) == UNITS
    before = store.opened
    record = run_plan(p, store, InProcess(1))
    assert record.complete and record.done_units == UNITS
    return path, store.opened - before


def test_a_sweep_opens_the_store_once_per_unit(swept: tuple[Path, int]) -> None:
    """Each unit's commit claims the next unit on its own connection: the file is opened about
    once per unit (plus the first claims, the last look for work, releasing the claims and
    finishing), where a claim and a commit each opening it would take twice as many."""
    _, opened = swept
    assert opened <= UNITS + 4, f"the sweep of {UNITS} units opened the store {opened} times"


def test_every_unit_is_stored_once_whole(swept: tuple[Path, int]) -> None:
    """Claiming ahead changes nothing of what is stored: every unit's runs, once."""
    path, _ = swept
    con = duckdb.connect(str(path), read_only=True)
    try:
        (key,) = con.execute("SELECT key FROM experiments WHERE name = 'counted'").fetchone()  # type: ignore[misc]
        runs = con.execute(
            f"SELECT point, count(*), count(DISTINCT run) FROM results_{key} GROUP BY point "
            "ORDER BY point"
        ).fetchall()
        claims = con.execute("SELECT count(*) FROM claims").fetchall()
    finally:
        con.close()
    assert runs == [(0, 60, 60), (1, 60, 60)]
    assert claims == [(0,)], "the sweep's claims outlived it"


def test_a_report_reads_the_store_through_one_connection(swept: tuple[Path, int]) -> None:
    """Gathering a report (records, rows, occupancy and trouble of every design point) opens
    the file once, however many design points there are; afterwards another process may
    write it (the session let go of it)."""
    path, _ = swept
    store = Store(path)
    data = report_data(store, "counted", load_scenario("convoy-strike"))
    assert [c.runs for c in data.configurations] == [60, 60]
    assert store.opened == 1, f"the report opened the store {store.opened} times"
    duckdb.connect(str(path)).close()  # the file is free for a writer


def test_a_sweep_attaches_the_store_and_lets_go_of_it_after_each_unit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``redline run`` and ``redline sweep`` (:func:`redline.experiment.runner.execute`) start
    DuckDB once for the sweep and attach the file to it for each claim and commit, rather than
    start DuckDB on the file for each (tens of milliseconds of CPU); after each unit the file
    is released and written out, so another process opens it and finds the unit there."""
    path = tmp_path / "a.duckdb"
    started: list[str] = []
    real = duckdb.connect

    def counting(database: str = ":memory:", *args: Any, **kwargs: Any) -> Any:
        started.append(str(database))
        return real(database, *args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", counting)
    seen: list[str] = []

    def progress(p: Plan, on: str) -> Callable[[int], None]:
        def advance(runs: int) -> None:
            if not seen:  # after the first unit's commit: read by another process
                probe = (
                    f"import duckdb; c = duckdb.connect({str(path)!r}, read_only=True); "
                    "print(c.execute('SELECT count(*) FROM units').fetchone()[0])"
                )
                done = subprocess.run(
                    [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
                )
                seen.append(done.stdout.strip() or done.stderr)

        return advance

    store = Store(path)
    p = execute(SPEC, store, {"workers": 1, "threads": 1}, progress=progress)
    assert p.record.complete and p.record.done_units == UNITS
    assert seen == ["1"], f"another process could not read the first unit: {seen}"
    assert started == [":memory:"], f"DuckDB was started on the file: {started}"
    assert store.opened >= UNITS  # each claim and commit attached the file
