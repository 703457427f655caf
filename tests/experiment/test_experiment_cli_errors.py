"""Bad input to sweep / results / compare: exit 2 with a clear message, never a traceback, and
nothing half-written (no partial export, no phantom experiment, an untouched store, and no
redline tables added to a DuckDB database that is not a store)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
from experiment_support import (
    SPEC,
    Reference,
    assert_refused,
    redline,
    redline_here,
    store_state,
)

from redline.experiment.store import Store

NOTES = "This is a text file, not a store.\n"


@dataclass(frozen=True)
class Case:
    command: str  # {ref}: a copy of the reference store; {dir}: the case's own directory
    fragments: list[str]
    absent: list[str] = field(default_factory=list)  # must not be in the message
    mkdir: str | None = None  # a directory made in the case's directory first


SWEEP = "sweep " + " ".join(SPEC) + " --name w"
CASES: dict[str, Case] = {
    "export-unknown-experiment": Case(
        "results export reff --format csv -o {dir}/out.csv --store {ref}",
        ["unknown experiment 'reff'", "did you mean 'ref'?"],
    ),
    "compare-unknown-experiment": Case(
        "compare reff --store {ref}", ["unknown experiment 'reff'", "did you mean 'ref'?"]
    ),
    "export-into-missing-directory": Case(
        "results export ref --format csv -o {dir}/no/such/dir/out.csv --store {ref}",
        ["cannot write", "no/such/dir/out.csv"],
    ),
    "export-onto-a-directory": Case(
        "results export ref --format csv -o {dir}/out --store {ref}",
        ["cannot write", "out"],
        mkdir="out",
    ),
    "export-unknown-format": Case(
        "results export ref --format xlsx -o {dir}/out.xlsx --store {ref}",
        ["unknown format 'xlsx'", "csv, parquet"],
    ),
    "export-from-missing-store": Case(
        "results export ref -o {dir}/out.parquet --store {dir}/nothere.duckdb",
        ["no store at", "nothere.duckdb"],
    ),
    "list-from-missing-store": Case(
        "results list --store {dir}/nothere.duckdb", ["no store at", "nothere.duckdb"]
    ),
    "show-from-missing-store": Case(
        "results show ref --store {dir}/nothere.duckdb", ["no store at", "nothere.duckdb"]
    ),
    "export-format-contradicts-the-suffix": Case(
        "results export ref --format parquet -o {dir}/out.csv --store {ref}",
        ["--format parquet contradicts the file name", "out.csv (a csv file)"],
    ),
    "export-csv-format-contradicts-the-suffix": Case(
        "results export ref --format csv -o {dir}/out.PQ --store {ref}",
        ["--format csv contradicts the file name", "out.PQ (a parquet file)"],
    ),
    "export-suffix-tells-no-format": Case(
        "results export ref -o {dir}/out.txt --store {ref}",
        ["cannot tell the format of", "out.txt", ".csv, .parquet or .pq", "--format"],
    ),
    "compare-unknown-lens": Case(
        "compare ref --by lens --lens provocatoin --store {ref}",
        ["unknown lens 'provocatoin'", "did you mean 'provocation'?"],
    ),
    "compare-by-lever-unknown-lens": Case(
        "compare ref --lens nonsense --store {ref}",
        ["unknown lens 'nonsense'", "lenses of 'ref': baseline, provocation"],
    ),
    "workers-0": Case(
        SWEEP + " --workers 0 --store {dir}/new.duckdb",
        ["--workers must be between 1 and 256, got 0"],
    ),
    "dask-local-0": Case(
        SWEEP + " --dask-local 0 --store {dir}/new.duckdb",
        ["--dask-local must be between 1 and 256, got 0"],
    ),
    "two-executors": Case(
        SWEEP + " --workers 2 --dask-local 2 --store {dir}/new.duckdb",
        ["choose one of --workers, --dask-local and --scheduler"],
    ),
    "unknown-lever-option": Case(
        SWEEP + " --lever nato_response=nonee --store {dir}/new.duckdb",
        ["unknown option 'nonee'", "did you mean 'none'?"],
    ),
    "text-file-as-store-list": Case(
        "results list --store {dir}/notes.txt",
        ["is not a redline store"],
        absent=["held by another"],
    ),
    "foreign-duckdb-as-store-list": Case(
        "results list --store {dir}/foreign.duckdb", ["is not a redline store"]
    ),
    "foreign-duckdb-as-store-sweep": Case(
        SWEEP + " --store {dir}/foreign.duckdb", ["is not a redline store"]
    ),
    "text-file-as-store-sweep": Case(
        SWEEP + " --store {dir}/notes.txt",
        ["is not a redline store"],
        absent=["held by another"],
    ),
}


def _foreign_database(path: Path) -> None:
    """A DuckDB file that is not a redline store."""
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE customers (id INTEGER, name VARCHAR)")
    con.execute("INSERT INTO customers VALUES (1, 'Ada'), (2, 'Grace')")
    con.close()


def _foreign_content(path: Path) -> tuple[list[str], list[tuple[object, ...]]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = sorted(r[0] for r in con.execute("SHOW TABLES").fetchall())
        return tables, con.execute("SELECT * FROM customers ORDER BY id").fetchall()
    finally:
        con.close()


@dataclass(frozen=True)
class Outcome:
    where: Path
    ref: Path
    ref_state: dict[str, object]
    rc: int
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory, reference: Reference) -> dict[str, Outcome]:
    """Every case, each in its own directory with its own copy of the reference store and a text
    file, run in this process (what each command says and leaves behind is checked; the
    process's own exit, signals and locks are in the tests that start the console script)."""
    prepared = []
    for case, spec in CASES.items():
        where = tmp_path_factory.mktemp(case)
        ref = where / "ref.duckdb"
        shutil.copy(reference.store, ref)
        (where / "notes.txt").write_text(NOTES)
        _foreign_database(where / "foreign.duckdb")
        if spec.mkdir:
            (where / spec.mkdir).mkdir()
        args = spec.command.replace("{ref}", str(ref)).replace("{dir}", str(where)).split()
        prepared.append((case, where, ref, store_state(ref, "ref"), args))
    outcomes = {}
    for case, where, ref, state, args in prepared:
        done = redline_here(*args)
        outcomes[case] = Outcome(where, ref, state, done.returncode, done.stdout, done.stderr)
    return outcomes


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_refused_cleanly(outcomes: dict[str, Outcome], case: str) -> None:
    spec, got = CASES[case], outcomes[case]
    message = assert_refused(got.rc, got.stdout, got.stderr, *spec.fragments)
    for fragment in spec.absent:
        assert fragment not in message, message

    # nothing half-written: only what was there before, unchanged
    left = sorted(p.name for p in got.where.iterdir())
    before = sorted(["foreign.duckdb", "notes.txt", "ref.duckdb", *filter(None, [spec.mkdir])])
    assert left in (before, sorted([*before, "new.duckdb"])), left
    if spec.mkdir:
        assert list((got.where / spec.mkdir).iterdir()) == []
    assert (got.where / "notes.txt").read_text() == NOTES
    assert _foreign_content(got.where / "foreign.duckdb") == (
        ["customers"],
        [(1, "Ada"), (2, "Grace")],
    ), "a foreign DuckDB database was modified"
    assert store_state(got.ref, "ref") == got.ref_state
    new = got.where / "new.duckdb"
    if new.exists():  # a refused sweep registers no experiment
        assert [r.name for r in Store(new).experiments()] == []


def test_unreachable_scheduler_is_refused_after_one_connect_timeout(tmp_path: Path) -> None:
    """Nothing listens on port 1: a clear error once the client's 10 s connect timeout has passed
    (the message says so: one attempt, not retries without end; seconds are not measured, so a
    loaded machine cannot fail it), and no experiment registered."""
    db = tmp_path / "new.duckdb"
    proc = redline(
        "sweep",
        *SPEC,
        "--name",
        "w",
        "--scheduler",
        "tcp://127.0.0.1:1",
        "--store",
        str(db),
        cwd=tmp_path,
        timeout=600,
    )
    assert_refused(
        proc.returncode,
        proc.stdout,
        proc.stderr,
        "cannot reach the Dask scheduler tcp://127.0.0.1:1",
    )
    assert "after 10 s" in proc.stderr, proc.stderr
    if db.exists():
        assert [r.name for r in Store(db).experiments()] == []


def test_an_experiment_without_results_is_refused_by_show_compare_and_export(
    tmp_path: Path,
) -> None:
    """Registered, no unit stored yet (as after an early Ctrl-C): a message, not a traceback."""
    from experiment_support import SCENARIO

    from redline.experiment.spec import ExperimentSpec
    from redline.experiment.sweep import plan
    from redline.scenario.loader import load_scenario

    db = tmp_path / "store.duckdb"
    spec = ExperimentSpec(
        name="e", scenario=str(load_scenario(SCENARIO).path), runs=1000, chunk_size=500, seed=7
    )
    plan(spec, Store(db))

    def state() -> list[object]:
        con = duckdb.connect(str(db), read_only=True)
        try:
            return [
                con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
                for table in ("experiments", "points", "units", "occupancy")
            ] + [sorted(r[0] for r in con.execute("SHOW TABLES").fetchall())]
        finally:
            con.close()

    before = state()
    commands = [
        ["results", "show", "e"],
        ["compare", "e"],
        ["compare", "e", "--by", "lens"],
        ["results", "export", "e", "-o", str(tmp_path / "e.csv")],
    ]
    for command in commands:
        done = redline_here(*command, "--store", str(db))
        assert_refused(
            done.returncode,
            done.stdout,
            done.stderr,
            "experiment 'e' has no results yet (0 of 16 units stored)",
            "run its sweep again",
        )
    assert not (tmp_path / "e.csv").exists()
    assert state() == before
