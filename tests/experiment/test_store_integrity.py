"""The store never mixes, loses or destroys data (issue 14, "Data integrity").

1. Experiments whose names differ only in ``-``, ``.`` or ``_`` are separate experiments: their
   rows never mix, deleting one leaves the other whole, and they may sweep different scenarios.
   An experiment's columns are fixed when it is created, so a lens that fixes a parameter that
   another lens draws stores and exports like any other.
2. ``results delete`` while that experiment's sweep runs: the sweep notices before its next
   commit and stops with a one-line message; nothing of the deleted experiment is left; a later
   sweep under the same name (another seed) starts afresh and equals a clean sweep.
3. No output (``--report``, ``-o``) overwrites the store; an existing file that redline did not
   write is overwritten only with ``--force``.

Every check runs the ``redline`` command in its own process; deletion lands in a sweep running
in another process.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from experiment_support import (
    SCENARIO,
    assert_ok,
    assert_refused,
    assert_same_rows,
    derived_scenario,
    flat,
    read_export,
    redline,
    redline_here,
    snapshot,
    start,
)

from redline.experiment.store import Store
from redline.scenario.loader import load_scenario

#: one design point of two units
ONE = [
    SCENARIO,
    "--runs",
    "100",
    "--chunk-size",
    "50",
    "--seed",
    "3",
    "--lever",
    "nato_response=uncertain",
    "--lens",
    "provocation",
]


def _export(db: Path, name: str, where: Path) -> pa.Table:
    """The experiment's rows, exported by ``redline results export`` (in this process: what is
    checked is the rows, and the tests here export often)."""
    target = where / f"{name}-{time.monotonic_ns()}.parquet"
    proc = redline_here("results", "export", name, "-o", str(target), "--store", str(db))
    assert_ok(proc)
    return read_export(target)


def _sweep(db: Path, name: str, *args: str) -> None:
    assert_ok(redline_here("sweep", *args, "--name", name, "--store", str(db)))


def inventory(db: Path) -> dict[str, object]:
    """What the store holds beside its experiments: results tables, and rows of units,
    occupancy and points that belong to no experiment."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        keys = {r[0] for r in con.execute("SELECT key FROM experiments").fetchall()}
        tables = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        }
        stray = {
            t: con.execute(
                f"SELECT count(*) FROM {t} WHERE experiment NOT IN (SELECT key FROM experiments)"
            ).fetchall()[0][0]
            for t in ("units", "occupancy", "points")
        }
    finally:
        con.close()
    return {
        "results_tables": sorted(t for t in tables if t.startswith("results_")),
        "expected_tables": sorted(f"results_{k}" for k in keys),
        "stray_rows": stray,
    }


def assert_clean(db: Path) -> None:
    """Every results table belongs to an experiment, and no row belongs to none."""
    got = inventory(db)
    assert got["results_tables"] == got["expected_tables"], got
    assert got["stray_rows"] == {"units": 0, "occupancy": 0, "points": 0}, got


# -- 1 -----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_names_that_differ_only_in_punctuation_never_share_rows(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    alone = tmp_path / "alone.duckdb"
    _sweep(alone, "x", *ONE)
    expected = _export(alone, "x", tmp_path)
    assert expected.num_rows == 100
    names = ["col-b", "col.b", "col_b"]
    for name in names:
        _sweep(db, name, *ONE)
    for name in names:
        assert_same_rows(_export(db, name, tmp_path), expected)
    listed = redline_here("results", "list", "--store", str(db))
    assert_ok(listed)
    assert listed.stdout.count("2/2") == 3, listed.stdout
    shown = redline_here("results", "show", "col-b", "--store", str(db))
    assert_ok(shown)
    assert "2/2 units, done" in flat(shown.stdout)
    # deleting one leaves the others whole
    assert_ok(redline_here("results", "delete", "col.b", "--store", str(db)))
    for name in ("col-b", "col_b"):
        record = Store(db).get(name)
        assert record is not None and record.complete and record.done_units == 2
        assert_same_rows(_export(db, name, tmp_path), expected)
    assert Store(db).get("col.b") is None
    assert_clean(db)


def test_names_that_differ_only_in_punctuation_may_sweep_different_scenarios(
    tmp_path: Path,
) -> None:
    db = tmp_path / "store.duckdb"
    _sweep(db, "col-a", *ONE)
    other = derived_scenario(tmp_path)  # one outcome more: other columns
    _sweep(db, "col.a", str(other), "--runs", "60", "--chunk-size", "30", "--seed", "1")
    for name in ("col-a", "col.a"):
        record = Store(db).get(name)
        assert record is not None and record.status == "done", record
    a, b = _export(db, "col-a", tmp_path), _export(db, "col.a", tmp_path)
    assert a.num_rows == 100
    outcomes = {o.id for o in load_scenario(str(other)).scenario.outcomes}
    assert "article5_again" in outcomes
    assert {c.removeprefix("first.") for c in b.column_names if c.startswith("first.")} == outcomes
    assert b.num_rows == 60 * 4 * 3  # four options × three lenses
    assert_clean(db)


def test_run_stores_a_lens_that_fixes_a_parameter_another_draws(tmp_path: Path) -> None:
    scenario = derived_scenario(tmp_path)
    db = tmp_path / "store.duckdb"
    proc = redline_here(
        "run",
        str(scenario),
        "--runs",
        "200",
        "--lever",
        "nato_response=none",
        "--store",
        str(db),
        "--report",
        str(tmp_path / "report.html"),
    )
    assert_ok(proc)
    (record,) = Store(db).experiments()
    table = _export(db, record.name, tmp_path)
    assert table.num_rows == 600  # three lenses
    by_lens = {
        lens: table.filter(pc.equal(table.column("lens"), lens)).column("param.nuclear_threshold")
        for lens in ("baseline", "provocation", "fixed_threshold")
    }
    assert set(by_lens["fixed_threshold"].to_pylist()) == {-0.7}
    drawn = by_lens["baseline"].to_numpy()
    assert len(set(drawn)) == 200 and drawn.min() >= -0.9 and drawn.max() < -0.5
    # every column read back (parameters recomputed, configuration from the design point) is
    # what a direct simulation of that configuration gives
    import redline as api

    for lens in ("baseline", "fixed_threshold"):
        direct = api.simulate(
            api.load(str(scenario)), 200, seed=0, levers={"nato_response": "none"}, lens=lens
        ).table
        rows = table.filter(pc.equal(table.column("lens"), lens))
        common = [c for c in rows.column_names if c in direct.column_names]
        assert common == [c for c in direct.column_names if not c.startswith("final.")]
        assert_same_rows(rows.select(common), direct.select(common))


# -- 2 -----------------------------------------------------------------------------------------
#: eight design points of 16 units each: long enough to be deleted under
LONG = [SCENARIO, "--runs", "4000", "--chunk-size", "250", "--seed", "7", "--threads", "1"]


def test_deleting_an_experiment_while_it_is_swept_stops_the_sweep(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    proc = start("sweep", *LONG, "--name", "d", "--store", str(db), cwd=tmp_path)
    try:
        deadline = time.monotonic() + 600
        while True:
            snap = snapshot(db, "d")
            if snap is not None and len(snap.units) >= 2:
                break
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the sweep stored nothing"
            time.sleep(0.02)
        deleted = redline("results", "delete", "d", "--store", str(db), cwd=tmp_path)
        assert_ok(deleted)
        out, err = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    message = assert_refused(proc.returncode, out, err, "'d' was deleted", "while this sweep ran")
    assert len(err.strip().splitlines()) == 1, err
    assert "AssertionError" not in message
    assert Store(db).experiments() == []
    assert_clean(db)
    con = duckdb.connect(str(db), read_only=True)
    try:
        for table in ("units", "occupancy", "points"):
            assert con.execute(f"SELECT count(*) FROM {table}").fetchall() == [(0,)], table
    finally:
        con.close()

    # the same name with another seed starts afresh, and equals a clean sweep of that seed
    other = [*LONG[:5], "--seed", "8", "--runs", "500"]
    again = redline("sweep", *other, "--name", "d", "--store", str(db), cwd=tmp_path)
    assert_ok(again)
    assert "resumed" not in again.stdout
    clean = tmp_path / "clean.duckdb"
    _sweep(clean, "d", *other)
    assert_same_rows(_export(db, "d", tmp_path), _export(clean, "d", tmp_path))
    assert_clean(db)


# -- 3 -----------------------------------------------------------------------------------------
def _names(db: Path) -> list[str]:
    return [r.name for r in Store(db).experiments()]


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["plain", "forced"])
def test_no_output_overwrites_the_store(tmp_path: Path, force: list[str]) -> None:
    db = tmp_path / "store.duckdb"
    _sweep(db, "kept", *ONE)
    before = db.read_bytes()
    for fmt in ("csv", "parquet"):
        proc = redline_here(
            "results",
            "export",
            "kept",
            "--format",
            fmt,
            "-o",
            str(db),
            "--store",
            str(db),
            *force,
        )
        assert_refused(proc.returncode, proc.stdout, proc.stderr, "is the store")
    same_file = tmp_path / "." / db.name  # the same file, named another way
    proc = redline_here(
        "run",
        SCENARIO,
        "--runs",
        "50",
        "--lever",
        "nato_response=none",
        "--lens",
        "baseline",
        "--store",
        str(db),
        "--report",
        str(same_file),
        *force,
    )
    assert_refused(proc.returncode, proc.stdout, proc.stderr, "is the store")
    assert "outcome probabilities" not in proc.stdout, "refused only after simulating"
    assert db.read_bytes() == before
    assert _names(db) == ["kept"]


@pytest.mark.slow
def test_outputs_overwrite_only_their_own_files_unless_forced(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    _sweep(db, "e", *ONE)
    other = tmp_path / "other.duckdb"
    _sweep(other, "o", *ONE)
    notes = tmp_path / "notes.csv"
    notes.write_text("my own notes\n")
    page = tmp_path / "page.html"
    page.write_text("<html>mine</html>")

    def export(target: Path, *extra: str) -> tuple[int, str, str]:
        proc = redline_here(
            "results",
            "export",
            "e",
            "--format",
            "csv",
            "-o",
            str(target),
            "--store",
            str(db),
            *extra,
        )
        return proc.returncode, proc.stdout, proc.stderr

    for target in (notes, other):
        rc, out, err = export(target)
        assert_refused(rc, out, err, "already exists", "--force")
    assert notes.read_text() == "my own notes\n"
    assert _names(other) == ["o"]
    # an export of ours is overwritten, as is anything with --force
    own = tmp_path / "own.csv"
    assert export(own)[0] == 0
    assert export(own)[0] == 0
    assert export(notes, "--force")[0] == 0
    assert read_export(notes).num_rows == 100
    for fmt in ("parquet",):
        own_pq = tmp_path / f"own.{fmt}"
        for _ in range(2):
            proc = redline_here("results", "export", "e", "-o", str(own_pq), "--store", str(db))
            assert_ok(proc)

    def run(report: Path, *extra: str) -> tuple[int, str, str]:
        proc = redline_here(
            "run",
            SCENARIO,
            "--runs",
            "50",
            "--lever",
            "nato_response=none",
            "--lens",
            "baseline",
            "--store",
            str(db),
            "--report",
            str(report),
            *extra,
        )
        return proc.returncode, proc.stdout, proc.stderr

    rc, out, err = run(page)
    assert_refused(rc, out, err, "already exists", "--force")
    assert "outcome probabilities" not in out, "refused only after simulating"
    assert page.read_text() == "<html>mine</html>"
    report = tmp_path / "report.html"
    for _ in range(2):  # a report of ours is written over
        rc, out, err = run(report)
        assert rc == 0, err
    rc, out, err = run(page, "--force")
    assert rc == 0, err
    assert page.read_text() != "<html>mine</html>"


# -- what the redesign relies on -----------------------------------------------------------------
def test_a_store_of_the_earlier_layout_is_refused_with_a_message(tmp_path: Path) -> None:
    """Experiments once named their own results tables; such a store is refused, not misread."""
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE experiments (name VARCHAR PRIMARY KEY, results_table VARCHAR)")
    con.execute("INSERT INTO experiments VALUES ('col-b', 'results_col_b')")
    con.close()
    before = db.read_bytes()
    for command in (["results", "list"], ["sweep", *ONE, "--name", "x"]):
        proc = redline_here(*command, "--store", str(db))
        assert_refused(proc.returncode, proc.stdout, proc.stderr, "another layout", "format 1")
    assert db.read_bytes() == before


@pytest.mark.parametrize("made", [0, 1, 3])
def test_a_store_whose_making_was_interrupted_is_made_again(tmp_path: Path, made: int) -> None:
    """Ctrl-C while the first sweep made the store's tables leaves some of them, empty and
    without the format row: reading says so, and the next sweep makes the store again."""
    db = tmp_path / "half.duckdb"
    con = duckdb.connect(str(db))
    for table in ("store_meta", "experiments", "points")[:made]:
        con.execute(f"CREATE TABLE {table} (name VARCHAR)")
    con.close()
    listed = redline_here("results", "list", "--store", str(db))
    assert listed.returncode == 0 and "x" not in listed.stdout.split(), listed.stderr
    swept = redline_here("sweep", *ONE, "--name", "x", "--store", str(db))
    assert swept.returncode == 0, swept.stderr
    assert Store(db).get("x") is not None


def test_parameters_that_this_redline_would_draw_differently_are_refused(tmp_path: Path) -> None:
    """Drawn parameters are recomputed when rows are read; a digest of the first runs' values,
    stored with the experiment, refuses a redline that would draw them differently."""
    db = tmp_path / "store.duckdb"
    _sweep(db, "e", *ONE)
    con = duckdb.connect(str(db))
    con.execute("UPDATE experiments SET params_check = '0000000000000000', version = '0.0.9'")
    con.close()
    proc = redline_here("results", "export", "e", "-o", str(tmp_path / "e.csv"), "--store", str(db))
    assert_refused(proc.returncode, proc.stdout, proc.stderr, "redline 0.0.9", "differently")
    assert not (tmp_path / "e.csv").exists()


def test_a_stored_run_is_compact(tmp_path: Path) -> None:
    """Steps and levels in one byte each, nothing stored that can be recomputed."""
    db = tmp_path / "store.duckdb"
    _sweep(db, "e", *ONE)
    con = duckdb.connect(str(db), read_only=True)
    try:
        ((key,),) = con.execute("SELECT key FROM experiments").fetchall()
        columns = {r[0]: r[1] for r in con.execute(f"DESCRIBE results_{key}").fetchall()}
    finally:
        con.close()
    assert columns == {
        "point": "INTEGER",
        "run": "INTEGER",
        **{f"first.{o}": "UTINYINT" for o in ("article5", "war", "nuclear_use", "settlement")},
        "peak_level": "UTINYINT",
        "steps": "UTINYINT",
    }
