"""The store: an embedded DuckDB file with experiments, their design points, units and results.

Identity. An experiment is identified by a key, an integer the store hands out once and never
again (a counter in ``store_meta``); its name is unique in the store but is only a label. The
results of experiment ``k`` are in the table ``results_k``, created with the experiment, so two
names never share a table however alike they are, and deleting one touches nothing else.
(One table per experiment rather than one shared table: experiments of different scenarios
have different columns, and deleting an experiment is dropping its table.)

Schema. An experiment's columns are fixed when it is created, from every design point of its
specification (:mod:`redline.experiment.layout`); every unit's rows are cast to them, so no
unit can add, drop or reorder a column.

Units. A unit is recorded under (experiment key, specification fingerprint, unit index), so no
unit of another specification, nor of an experiment deleted and made again under the same name,
is ever taken for one of this experiment's. A unit's result rows, its ladder occupancy and its
completion record are written in one transaction, so a sweep killed at any moment leaves only
whole units behind; in that same transaction the sweep checks that its experiment still exists
(same key, same fingerprint), and if it was deleted the sweep stops with a message
(:class:`ExperimentDeleted`) and writes nothing.

The file is opened for each piece of work and closed after it, so several processes can take
turns writing to one store; one that cannot get the file for a while is refused with a clear
message. Opening it costs tens of milliseconds however little is done, so a piece of work
does all it can on one opening: a sweep's commit claims its next unit on the commit's
connection, and a report reads everything through one :meth:`Store.session`.

A sweep's many pieces of work (a claim and a commit per unit) run within
:meth:`Store.attached`: each attaches the file to one in-memory DuckDB kept for the sweep and
detaches it after, rather than starting DuckDB on the file anew, which is most of what opening
costs; detaching releases the file, and writes it out, as closing it does.

Ctrl-C that lands inside a DuckDB query (DuckDB reports it as ``RuntimeError: Query
interrupted``, or as a registered Arrow table's failure when it lands in the Python code that
reads it) is raised as :class:`KeyboardInterrupt`, as anywhere else; the transaction it
interrupted is rolled back when the connection closes.

An experiment's ``status`` is ``running`` while a sweep works on it (or after one was killed),
``stopped`` after a sweep was interrupted, and ``done`` once every unit is stored.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from redline.arrays import arrow_array
from redline.engine.trouble import TroubleRow, merge_rows
from redline.errors import UserError, is_interruption
from redline.experiment.csv_cells import guard_batch
from redline.experiment.design import DesignPoint, Unit
from redline.experiment.layout import Expander, Layout, PointConfig
from redline.experiment.outputs import CSV_HEADER, DEFAULT_STORE, PARQUET_KEY, check_output
from redline.experiment.spec import ExperimentSpec
from redline.experiment.store_failures import held, is_lock_conflict, store_failure
from redline.scenario.model import Scenario
from redline.version import __version__

#: how long to wait for a store that another process is writing
LOCK_WAIT_SECONDS = 60.0
#: the environment variable that sets another wait, in seconds
LOCK_WAIT_VARIABLE = "REDLINE_STORE_WAIT"
#: the layout of the store's own tables; a store of another layout is refused
STORE_FORMAT = "2"
#: rows read from DuckDB at a time when rows are read or exported
READ_BATCH = 100_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS store_meta (name VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS experiments (
    key INTEGER PRIMARY KEY, name VARCHAR NOT NULL UNIQUE, spec VARCHAR NOT NULL,
    fingerprint VARCHAR NOT NULL, scenario_id VARCHAR NOT NULL,
    scenario_digest VARCHAR NOT NULL, scenario VARCHAR NOT NULL, layout VARCHAR NOT NULL,
    params_check VARCHAR NOT NULL, version VARCHAR NOT NULL, seed UBIGINT NOT NULL,
    status VARCHAR NOT NULL, created TIMESTAMP NOT NULL, finished TIMESTAMP,
    points INTEGER NOT NULL, units INTEGER NOT NULL, runs BIGINT NOT NULL,
    seconds DOUBLE NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS points (
    experiment INTEGER NOT NULL, point INTEGER NOT NULL, label VARCHAR NOT NULL,
    levers VARCHAR NOT NULL, lens VARCHAR, fixed VARCHAR NOT NULL,
    PRIMARY KEY (experiment, point));
CREATE TABLE IF NOT EXISTS units (
    experiment INTEGER NOT NULL, fingerprint VARCHAR NOT NULL, unit INTEGER NOT NULL,
    point INTEGER NOT NULL, run_start BIGINT NOT NULL, run_stop BIGINT NOT NULL,
    seconds DOUBLE NOT NULL, finished TIMESTAMP NOT NULL,
    PRIMARY KEY (experiment, fingerprint, unit));
CREATE TABLE IF NOT EXISTS occupancy (
    experiment INTEGER NOT NULL, unit INTEGER NOT NULL, point INTEGER NOT NULL,
    step INTEGER NOT NULL, rung INTEGER NOT NULL, runs BIGINT NOT NULL);
INSERT OR IGNORE INTO store_meta VALUES ('format', '2'), ('next_key', '1');
"""

#: the tables :data:`_SCHEMA` makes
_OWN_TABLES = frozenset({"store_meta", "experiments", "points", "units", "occupancy"})


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The names of the tables in a DuckDB file."""
    query = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    return {r[0] for r in con.execute(query).fetchall()}


#: numerical trouble per unit (:mod:`redline.engine.trouble`): a row per check that failed in
#: the unit's runs; made with the first such unit (a store without it has had none)
_TROUBLE_TABLE = """
CREATE TABLE IF NOT EXISTS trouble (
    experiment INTEGER NOT NULL, fingerprint VARCHAR NOT NULL, unit INTEGER NOT NULL,
    point INTEGER NOT NULL, problem VARCHAR NOT NULL, kind VARCHAR NOT NULL,
    element VARCHAR NOT NULL, occurrences BIGINT NOT NULL, runs BIGINT NOT NULL,
    first_run BIGINT NOT NULL, first_step INTEGER NOT NULL, first_value DOUBLE);
"""

_RECORD = (
    "SELECT key, name, spec, fingerprint, scenario_id, scenario_digest, version, status, "
    "created, finished, points, units, runs, seconds, layout, "
    "(SELECT count(*) FROM units u WHERE u.experiment = e.key "
    "AND u.fingerprint = e.fingerprint) FROM experiments e "
)


def lock_wait() -> float:
    """Seconds to wait for a store another process holds: ``REDLINE_STORE_WAIT`` if set to a
    number of seconds (0 or more), else :data:`LOCK_WAIT_SECONDS`."""
    value = os.environ.get(LOCK_WAIT_VARIABLE, "").strip()
    if not value:
        return LOCK_WAIT_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 86_400:
        raise UserError(
            f"{LOCK_WAIT_VARIABLE} must be a number of seconds from 0 to 86400, got '{value}'"
        )
    return seconds


class ExperimentDeleted(UserError):
    """The experiment a sweep works on was deleted (or replaced) while it ran."""


@dataclass(frozen=True)
class PointTally:
    """One design point's stored runs, and per outcome how many reached it and at which mean
    first step (``None`` when none did)."""

    runs: int
    hits: list[int]
    mean_first_step: list[float | None]


@dataclass(frozen=True)
class ExperimentRecord:
    key: int
    name: str
    spec: ExperimentSpec
    fingerprint: str
    scenario_id: str
    scenario_digest: str
    version: str
    status: str
    created: dt.datetime
    finished: dt.datetime | None
    points: int
    units: int
    runs: int
    seconds: float
    layout: Layout
    done_units: int = 0

    @property
    def results_table(self) -> str:
        """The table of this experiment's rows (named by its key, never by its name)."""
        return f"results_{self.key}"

    @property
    def complete(self) -> bool:
        return self.status == "done"

    def progress(self) -> str:
        """``done``, or how far an unfinished experiment got and what to do about it."""
        if self.complete:
            return "done"
        why = (
            "stopped"
            if self.status == "stopped"
            else "running (or its sweep was killed)"
            if self.status == "running"
            else self.status
        )
        return (
            f"{why}, incomplete: {self.done_units} of {self.units} units stored; the same "
            "sweep command finishes it"
        )


class _ThreadWork(threading.local):
    """What one thread's pieces of work on a store share (each thread its own: the server's
    threads share one store): the connection a :meth:`Store.session` holds and whether it only
    reads, the experiments read in a read-only session by name (nothing changes them
    meanwhile), and within :meth:`Store.attached` the in-memory DuckDB the file is attached to
    for each piece of work and how deep the pieces of work are."""

    def __init__(self) -> None:
        self.held: tuple[duckdb.DuckDBPyConnection, bool] | None = None
        self.records: dict[str, ExperimentRecord | None] = {}
        self.hub: duckdb.DuckDBPyConnection | None = None
        self.depth = 0


class Store:
    """One DuckDB file of experiments."""

    def __init__(self, path: Path = DEFAULT_STORE) -> None:
        self.path = Path(path)
        self._schema_ready = False
        self._work = _ThreadWork()
        #: the parameter check of experiments this object registered or resumed, by key: drawn
        #: by this very redline moments before, they need not be drawn again to be read
        self._verified: dict[int, str] = {}
        #: how many times this object opened the file (what :meth:`session` saves)
        self.opened = 0

    def require_file(self) -> None:
        """Refuse a store that does not exist (reading commands never create one)."""
        if not self.path.exists():
            raise UserError(
                f"no store at {self.path} (run a sweep first, or name one with --store)"
            )

    @contextlib.contextmanager
    def connect(
        self, must_exist: bool = False, wait: float | None = None, read_only: bool = False
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one piece of work; waits ``wait`` seconds (default
        :func:`lock_wait`) for other processes, then refuses, naming the one that holds it.

        ``must_exist``: reading commands never create a store, and never write into a DuckDB
        file that is not one. ``read_only``: for commands that only read, so that a store on a
        read-only disk, or one the user may not write, can still be listed and exported.

        A damaged file, a full disk or a store that cannot be written is refused with a
        message (:mod:`redline.experiment.store_failures`), at opening or at any query.

        Within a :meth:`session`, the session's connection (opened once)."""
        if self._work.held is not None:
            con, reads_only = self._work.held
            if reads_only and not read_only:
                raise RuntimeError("a read-only session of the store cannot write")
            with self._translated(read_only):
                yield con
            return
        if must_exist or read_only:
            self.require_file()
        if os.path.lexists(self.path) and not self.path.is_file():
            raise UserError(f"{self.path} is not a redline store: it is not a regular file")
        wait = lock_wait() if wait is None else wait
        deadline = time.monotonic() + wait
        hub = self._work.hub
        while True:
            try:
                con = self._open(read_only) if hub is None else self._attach(hub, read_only)
                self.opened += 1
                break
            except duckdb.Error as exc:
                if not (is_lock_conflict(exc) or _attached_here(exc)):
                    raise self._failure(exc, read_only) from None
                if time.monotonic() > deadline:
                    raise held(self.path, exc, wait) from None
                time.sleep(0.05)
        try:
            with self._translated(read_only):
                if not self._schema_ready and read_only and self._half_made(con, _tables(con)):
                    # a store whose making was interrupted holds no experiment: read it as empty
                    con.close()
                    con = duckdb.connect(":memory:")
                    con.execute(_SCHEMA)
                elif not self._schema_ready:
                    self._prepare(con)
                yield con
        finally:
            con.close()  # a transaction left open (an interruption) is rolled back
            if hub is not None:  # an exception on its way out goes on rather than the detach's
                self._detach(hub, quiet=sys.exc_info()[0] is not None)

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        """DuckDB started on the store's file."""
        return duckdb.connect(str(self.path), read_only=read_only)

    def _attach(self, hub: duckdb.DuckDBPyConnection, read_only: bool) -> duckdb.DuckDBPyConnection:
        """A connection of ``hub`` to the store's file, attached to it (once however deep the
        pieces of work nest) as the connection's default database."""
        if self._work.depth == 0:
            path = str(self.path).replace("'", "''")
            hub.execute(f"ATTACH '{path}' AS {_ATTACHED}{' (READ_ONLY)' if read_only else ''}")
        self._work.depth += 1
        con = hub.cursor()
        try:
            con.execute(f"USE {_ATTACHED}")
        except BaseException:
            con.close()
            self._detach(hub, quiet=True)
            raise
        return con

    def _detach(self, hub: duckdb.DuckDBPyConnection, quiet: bool) -> None:
        """Release the file at the end of the outermost piece of work (DuckDB writes it out and
        unlocks it, as when it is closed). Should detaching fail, the hub is closed, which
        releases the file too, and the rest of :meth:`attached` opens the file as any other
        piece of work does. As closing a connection, detaching raises nothing else: a file
        that could not be written out (a full disk) keeps what was committed in its log, and
        the next piece of work that writes meets the failure itself; an interruption is raised
        (unless ``quiet``: another exception is on its way)."""
        self._work.depth -= 1
        if self._work.depth > 0:
            return
        try:
            hub.execute(f"DETACH {_ATTACHED}")
        except BaseException as exc:
            self._work.hub = None
            with contextlib.suppress(duckdb.Error):
                hub.close()
            if is_interruption(exc) and not quiet:
                raise KeyboardInterrupt from None
            if not isinstance(exc, Exception):
                raise

    @contextlib.contextmanager
    def attached(self) -> Iterator[None]:
        """For a sequence of short pieces of work from this thread (a sweep's claims and
        commits): each attaches the file to one in-memory DuckDB kept for the sequence, and
        detaches it when done, where starting DuckDB on the file anew would take tens of
        milliseconds of CPU each time. Between pieces of work the file is released to other
        processes exactly as when it is closed; other threads open it as usual. Within a
        :meth:`session` or another ``attached``, nothing changes."""
        work = self._work
        if work.hub is not None or work.held is not None:
            yield
            return
        hub = duckdb.connect(":memory:")
        work.hub, work.depth = hub, 0
        try:
            yield
        finally:
            if work.hub is hub:
                work.hub = None
            hub.close()

    @contextlib.contextmanager
    def _translated(self, read_only: bool) -> Iterator[None]:
        """DuckDB's failures in a piece of work as the store's: Ctrl-C in a query as
        :class:`KeyboardInterrupt` (its transaction is rolled back), a damaged file, a full
        disk or a store that cannot be written as a message."""
        try:
            yield
        except (RuntimeError, duckdb.Error) as exc:
            if is_interruption(exc):
                raise KeyboardInterrupt from None
            failure = store_failure(self.path, exc, writing=not read_only)
            if failure is not None:
                raise failure from None
            raise

    @contextlib.contextmanager
    def session(self, read_only: bool = False, must_exist: bool = False) -> Iterator[None]:
        """One connection for a sequence of calls on this store (a report's dozens of reads),
        where each would open the file anew: opening a DuckDB file takes tens of milliseconds
        however little is read. Other processes wait for the file as long as the session holds
        it, as for one transaction: keep a session to a short piece of work. Read-only, the
        experiments' records are read once. Within a session already held, nothing changes."""
        work = self._work
        if work.held is not None:
            yield
            return
        with self.connect(must_exist=must_exist, read_only=read_only) as con:
            work.held = (con, read_only)
            try:
                yield
            finally:
                work.held = None
                work.records.clear()

    def _failure(self, exc: duckdb.Error, read_only: bool) -> UserError:
        """Why the store's file could not be opened, as a message."""
        failure = store_failure(self.path, exc, writing=not read_only)
        if failure is not None:
            return failure
        return UserError(f"{self.path} is not a redline store: {' '.join(str(exc).split())}")

    def _prepare(self, con: duckdb.DuckDBPyConnection) -> None:
        """Create the schema in a new store (an empty file, or one whose making was
        interrupted); refuse a DuckDB file that holds other tables, or a store of another
        layout."""
        tables = _tables(con)
        if self._half_made(con, tables):
            # an interrupt while the first command made the schema: no data, so make it again
            for table in sorted(tables):
                con.execute(f"DROP TABLE {table}")
            con.execute(_SCHEMA)
            self._schema_ready = True
            return
        if "experiments" not in tables:
            shown = ", ".join(sorted(tables)[:5])
            raise UserError(
                f"{self.path} is not a redline store: a DuckDB file with other "
                f"tables ({shown}); name another file with --store"
            )
        if "experiments" in tables:
            found = (
                con.execute("SELECT value FROM store_meta WHERE name = 'format'").fetchall()
                if "store_meta" in tables
                else [("1",)]
            )
            if found != [(STORE_FORMAT,)]:
                made = found[0][0] if found else "unknown"
                raise UserError(
                    f"{self.path} is a redline store of another layout (format {made}; this "
                    f"redline reads format {STORE_FORMAT}); read it with the redline that made "
                    "it, or name another file with --store"
                )
            self._schema_ready = True
            return
        con.execute(_SCHEMA)
        self._schema_ready = True

    @staticmethod
    def _half_made(con: duckdb.DuckDBPyConnection, tables: set[str]) -> bool:
        """Whether the file holds only some of the store's own tables (or none), all empty and
        without the format row that the schema writes last: a schema whose making was
        interrupted."""
        if not tables <= _OWN_TABLES:
            return False
        if "store_meta" in tables and con.execute(
            "SELECT count(*) FROM store_meta WHERE name = 'format'"
        ).fetchall() != [(0,)]:
            return False
        return all(
            con.execute(f"SELECT count(*) FROM {table}").fetchall() == [(0,)]
            for table in tables - {"store_meta"}
        )

    # -- experiments -------------------------------------------------------------------------
    def get(self, name: str) -> ExperimentRecord | None:
        with self.connect(must_exist=True, read_only=True) as con:
            return self._get(con, name)

    def record(self, name: str) -> ExperimentRecord:
        """An experiment that must exist (the error suggests a close name)."""
        with self.connect(must_exist=True, read_only=True) as con:
            return self.require(con, name)

    def _get(self, con: duckdb.DuckDBPyConnection, name: str) -> ExperimentRecord | None:
        work = self._work
        if work.held is not None and work.held[1] and name in work.records:
            return work.records[name]
        record = self._one(con.execute(_RECORD + "WHERE name = ?", [name]).fetchall())
        if work.held is not None and work.held[1]:
            work.records[name] = record
        return record

    def _by_key(self, con: duckdb.DuckDBPyConnection, key: int) -> ExperimentRecord | None:
        return self._one(con.execute(_RECORD + "WHERE key = ?", [key]).fetchall())

    @staticmethod
    def _one(rows: list[Any]) -> ExperimentRecord | None:
        if not rows:
            return None
        row = rows[0]
        return ExperimentRecord(
            key=row[0],
            name=row[1],
            spec=ExperimentSpec.model_validate_json(row[2]),
            fingerprint=row[3],
            scenario_id=row[4],
            scenario_digest=row[5],
            version=row[6],
            status=row[7],
            created=row[8],
            finished=row[9],
            points=row[10],
            units=row[11],
            runs=row[12],
            seconds=row[13],
            layout=Layout.from_json(row[14]),
            done_units=row[15],
        )

    def experiments(self) -> list[ExperimentRecord]:
        """Every experiment, oldest first (none for a store that does not exist)."""
        if not self.path.exists():
            return []
        with self.connect(must_exist=True, read_only=True) as con:
            rows = con.execute(_RECORD + "ORDER BY created, key").fetchall()
        return [rec for row in rows if (rec := self._one([row])) is not None]

    def begin(
        self,
        spec: ExperimentSpec,
        fingerprint: str,
        scenario: Scenario,
        digest: str,
        points: list[DesignPoint],
        units: list[Unit],
        layout: Layout,
        params_check: str,
    ) -> ExperimentRecord:
        """Register an experiment (with a key never used before, its results table and its
        design points), or find the same one to resume (and mark it running again); refuse a
        different spec under an existing name."""
        with self.connect() as con:
            existing = self._get(con, spec.name)
            if existing is not None:
                if existing.fingerprint != fingerprint:
                    raise UserError(self._mismatch(existing, spec, digest))
                stored_check = con.execute(
                    "SELECT params_check FROM experiments WHERE key = ?", [existing.key]
                ).fetchall()[0][0]
                if stored_check == params_check:
                    self._verified[existing.key] = params_check
                if not existing.complete:
                    con.execute(
                        "UPDATE experiments SET status = 'running' WHERE key = ? "
                        "AND status <> 'done'",
                        [existing.key],
                    )
                    existing = self._by_key(con, existing.key)
                    assert existing is not None
                return existing
            con.begin()
            key = int(
                con.execute("SELECT value FROM store_meta WHERE name = 'next_key'").fetchall()[0][0]
            )
            con.execute("UPDATE store_meta SET value = ? WHERE name = 'next_key'", [str(key + 1)])
            con.execute(
                "INSERT INTO experiments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, "
                "NULL, ?, ?, ?, 0)",
                [
                    key,
                    spec.name,
                    spec.model_dump_json(),
                    fingerprint,
                    scenario.id,
                    digest,
                    scenario.model_dump_json(by_alias=True),
                    layout.to_json(),
                    params_check,
                    __version__,
                    spec.seed,
                    dt.datetime.now(),
                    len(points),
                    len(units),
                    spec.runs * len(points),
                ],
            )
            con.executemany(
                "INSERT INTO points VALUES (?, ?, ?, ?, ?, ?)",
                [
                    [
                        key,
                        p.index,
                        p.label(),
                        json.dumps(dict(p.config.levers)),
                        p.config.lens,
                        json.dumps(dict(p.fixed)),
                    ]
                    for p in points
                ],
            )
            con.execute(layout.create_table(f"results_{key}"))
            con.commit()
            self._verified[key] = params_check
            record = self._by_key(con, key)
            assert record is not None
            return record

    def _mismatch(self, existing: ExperimentRecord, spec: ExperimentSpec, digest: str) -> str:
        """Why a stored experiment cannot be resumed by ``spec``."""
        remedy = f"choose another --name, or delete it with: redline results delete {spec.name}"
        where = f"an experiment named '{spec.name}' already exists in {self.path}"
        same_spec = existing.spec.model_dump(exclude={"name", "scenario"}) == spec.model_dump(
            exclude={"name", "scenario"}
        )
        if same_spec and existing.scenario_digest == digest and existing.version != __version__:
            return (
                f"{where}, made by redline {existing.version}; this is redline {__version__}, "
                "and a sweep is resumed or re-run only by the version that made it (results "
                f"may differ between versions); {remedy}"
            )
        return f"{where} with a different specification or scenario; {remedy}"

    def _deleted(self, record: ExperimentRecord) -> ExperimentDeleted:
        return ExperimentDeleted(
            f"experiment '{record.name}' was deleted from {self.path} while this sweep ran; "
            "the sweep stopped and stored nothing more of it"
        )

    @staticmethod
    def _alive(con: duckdb.DuckDBPyConnection, record: ExperimentRecord) -> bool:
        """Whether the experiment a sweep works on is still in the store, as it was."""
        rows = con.execute(
            "SELECT fingerprint FROM experiments WHERE key = ?", [record.key]
        ).fetchall()
        return rows == [(record.fingerprint,)]

    def mark_stopped(
        self, name: str, wait: float = LOCK_WAIT_SECONDS, key: int | None = None
    ) -> ExperimentRecord | None:
        """Record that a sweep of ``name`` (the experiment ``key``, when known) was interrupted
        (unless it is done); the experiment as it is now, ``None`` if there is none. Never
        creates a store."""
        with self.connect(must_exist=True, wait=wait) as con:
            record = self._get(con, name) if key is None else self._by_key(con, key)
            if record is None:
                return None
            con.execute(
                "UPDATE experiments SET status = 'stopped' WHERE key = ? AND status = 'running'",
                [record.key],
            )
            return self._by_key(con, record.key)

    def done_units(self, experiment: str | ExperimentRecord) -> set[int]:
        """The units stored of an experiment (by name, or the one a record stands for)."""
        with self.connect() as con:
            record = self._get(con, experiment) if isinstance(experiment, str) else experiment
            if record is None:
                return set()
            return {
                r[0]
                for r in con.execute(
                    "SELECT unit FROM units WHERE experiment = ? AND fingerprint = ?",
                    [record.key, record.fingerprint],
                ).fetchall()
            }

    def commit_unit(
        self,
        record: ExperimentRecord,
        unit: Unit,
        table: pa.Table,
        occupancy: np.ndarray,
        seconds: float,
        trouble: Sequence[TroubleRow] = (),
        then: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    ) -> None:
        """Write one unit's rows, occupancy, numerical trouble and completion in a single
        transaction; raise :class:`ExperimentDeleted`, writing nothing, if the experiment is no
        longer there. ``then`` is called after that transaction, on the same connection (a
        sweep claims its next unit there: the file is opened once per unit, not twice)."""
        rows = record.layout.unit_rows(table, unit.point)
        steps, rungs = np.nonzero(occupancy)
        occupied = pa.table(
            {
                "experiment": arrow_array(np.full(len(steps), record.key, np.int32)),
                "unit": arrow_array(np.full(len(steps), unit.index, np.int32)),
                "point": arrow_array(np.full(len(steps), unit.point, np.int32)),
                "step": arrow_array(steps.astype(np.int32)),
                "rung": arrow_array(rungs.astype(np.int32)),
                "runs": arrow_array(occupancy[steps, rungs].astype(np.int64)),
            }
        )
        with self.connect() as con:
            con.register("unit_rows", rows)
            con.register("unit_occupancy", occupied)
            con.begin()
            if not self._alive(con, record):
                con.rollback()
                raise self._deleted(record)
            try:
                con.execute(f'INSERT INTO "{record.results_table}" SELECT * FROM unit_rows')
                con.execute("INSERT INTO occupancy SELECT * FROM unit_occupancy")
                if trouble:
                    con.execute(_TROUBLE_TABLE)
                    con.executemany(
                        "INSERT INTO trouble VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            (record.key, record.fingerprint, unit.index, unit.point, *t.values())
                            for t in trouble
                        ],
                    )
                con.execute(
                    "INSERT INTO units VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        record.key,
                        record.fingerprint,
                        unit.index,
                        unit.point,
                        unit.start,
                        unit.stop,
                        seconds,
                        dt.datetime.now(),
                    ],
                )
                con.execute(
                    "UPDATE experiments SET seconds = seconds + ? WHERE key = ?",
                    [seconds, record.key],
                )
                con.commit()
            except duckdb.ConstraintException:
                con.rollback()  # another process committed this unit first: keep theirs
            if then is not None:
                then(con)

    def finish(self, record: ExperimentRecord) -> ExperimentRecord:
        """Mark the experiment done if every unit is stored; the experiment as it is now
        (:class:`ExperimentDeleted` if it is gone)."""
        with self.connect() as con:
            if not self._alive(con, record):
                raise self._deleted(record)
            con.execute(
                "UPDATE experiments SET status = 'done', finished = ? WHERE key = ? "
                "AND status <> 'done' AND units = (SELECT count(*) FROM units "
                "WHERE experiment = ? AND fingerprint = ?)",
                [dt.datetime.now(), record.key, record.key, record.fingerprint],
            )
            now = self._by_key(con, record.key)
            assert now is not None
            return now

    def delete(self, name: str) -> None:
        """Delete an experiment: its results table and every row that names its key."""
        with self.connect(must_exist=True) as con:
            record = self._get(con, name)
            if record is None:
                raise UserError(f"no experiment named '{name}' in {self.path}")
            con.begin()
            con.execute(f'DROP TABLE IF EXISTS "{record.results_table}"')
            for table in ("occupancy", "units", "points"):
                con.execute(f"DELETE FROM {table} WHERE experiment = ?", [record.key])
            if self._has_trouble_table(con):
                con.execute("DELETE FROM trouble WHERE experiment = ?", [record.key])
            if "llm_usage" in _tables(con):  # what its language models cost (redline.llm)
                con.execute("DELETE FROM llm_usage WHERE experiment = ?", [record.key])
            con.execute("DELETE FROM experiments WHERE key = ?", [record.key])
            con.commit()

    # -- reading results ---------------------------------------------------------------------
    def require(self, con: duckdb.DuckDBPyConnection, name: str) -> ExperimentRecord:
        record = self._get(con, name)
        if record is None:
            known = [r[0] for r in con.execute("SELECT name FROM experiments").fetchall()]
            from redline.scenario.errors import suggest

            raise UserError(suggest(name, known, "experiment") + f" (store: {self.path})")
        return record

    def scenario(self, name: str) -> Scenario:
        """The scenario an experiment was swept with, as it was then."""
        with self.connect(must_exist=True, read_only=True) as con:
            record = self.require(con, name)
            text = con.execute(
                "SELECT scenario FROM experiments WHERE key = ?", [record.key]
            ).fetchall()[0][0]
        return Scenario.model_validate_json(text)

    def _expander(self, con: duckdb.DuckDBPyConnection, record: ExperimentRecord) -> Expander:
        """What turns the experiment's stored rows into full rows; refused if this redline
        would not recompute the parameters that were drawn."""
        text, check = con.execute(
            "SELECT scenario, params_check FROM experiments WHERE key = ?", [record.key]
        ).fetchall()[0]
        points = {
            int(r[0]): PointConfig(json.loads(r[1]), r[2], tuple(json.loads(r[3]).items()))
            for r in con.execute(
                "SELECT point, levers, lens, fixed FROM points WHERE experiment = ?",
                [record.key],
            ).fetchall()
        }
        expander = Expander(
            record.layout, Scenario.model_validate_json(text), points, record.spec.seed
        )
        # an experiment this object registered was checked then, by this redline
        if self._verified.get(record.key) != check and expander.check() != check:
            raise UserError(
                f"experiment '{record.name}' was swept by redline {record.version}, which drew "
                f"its uncertain parameters differently from this redline ({__version__}); "
                "read it with that version"
            )
        return expander

    def _batches(
        self,
        con: duckdb.DuckDBPyConnection,
        record: ExperimentRecord,
        params: bool = True,
        columns: Sequence[str] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """The experiment's full rows, ordered by design point and run, a batch at a time
        (without the runs' parameter values unless ``params``; ``columns``: only those, and
        only the stored columns they need are read)."""
        expander = self._expander(con, record)
        if columns is None:
            read = "*"
        else:
            read = ", ".join(f'"{_column(c)}"' for c in record.layout.stored_for(columns))
        query = con.sql(f'SELECT {read} FROM "{record.results_table}" ORDER BY point, run')
        reader: pa.RecordBatchReader = query.to_arrow_reader(READ_BATCH)
        yield from expander.expand_all(iter(reader), params, columns)

    def results(
        self, name: str, columns: Sequence[str] | None = None, params: bool = True
    ) -> pa.Table:
        """The per-run rows of an experiment, ordered by design point and run (``columns``:
        only those, in that order, and only what they need is read; ``params`` false: without
        the ``param.*`` columns, which are recomputed from each run's draws — most of the time
        of reading all rows)."""
        with self.connect(must_exist=True, read_only=True) as con:
            record = self.require(con, name)
            schema = record.layout.read_schema(params, columns)
            batches = list(self._batches(con, record, params, columns))
            return pa.Table.from_batches(batches, schema=schema)

    def point_counts(self, name: str, outcomes: list[str]) -> dict[int, PointTally]:
        """Per design point with stored runs: the runs and, per outcome, its hits and mean
        first step, counted by DuckDB (memory does not grow with the number of runs).

        An experiment without stored results is refused with a message."""
        with self.connect(must_exist=True, read_only=True) as con:
            record = self.require(con, name)
            missing = [o for o in outcomes if o not in record.layout.outcomes]
            if missing:
                raise UserError(
                    f"experiment '{name}' does not hold the outcomes {', '.join(missing)} (has "
                    f"{record.spec.scenario} changed since the sweep?)"
                )
            aggregates = ", ".join(
                f'count("{c}"), avg("{c}")' for c in (_column(f"first.{o}") for o in outcomes)
            )
            rows = con.execute(
                f"SELECT point, count(*){', ' if outcomes else ''}{aggregates} "
                f'FROM "{record.results_table}" GROUP BY point ORDER BY point'
            ).fetchall()
        if not rows:
            raise UserError(self._no_results(record))
        return {
            int(r[0]): PointTally(
                int(r[1]),
                [int(h) for h in r[2::2]],
                [None if m is None else float(m) for m in r[3::2]],
            )
            for r in rows
        }

    @staticmethod
    def _no_results(record: ExperimentRecord) -> str:
        return (
            f"experiment '{record.name}' has no results yet ({record.done_units} of "
            f"{record.units} units stored); run its sweep again to compute them"
        )

    def points(self, name: str) -> list[dict[str, Any]]:
        with self.connect(must_exist=True, read_only=True) as con:
            record = self.require(con, name)
            rows = con.execute(
                "SELECT point, label, levers, lens, fixed FROM points "
                "WHERE experiment = ? ORDER BY point",
                [record.key],
            ).fetchall()
        return [
            {
                "point": r[0],
                "label": r[1],
                "levers": json.loads(r[2]),
                "lens": r[3],
                "fixed": json.loads(r[4]),
            }
            for r in rows
        ]

    @staticmethod
    def _has_trouble_table(con: duckdb.DuckDBPyConnection) -> bool:
        return bool(
            con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' "
                "AND table_name = 'trouble'"
            ).fetchone()[0]  # type: ignore[index]
        )

    def trouble(self, name: str) -> dict[int, list[TroubleRow]]:
        """Per design point with any: the numerical trouble of its stored units, summed per
        problem and element (:func:`~redline.engine.trouble.merge_rows`), in program order."""
        with self.connect(must_exist=True, read_only=True) as con:
            record = self.require(con, name)
            if not self._has_trouble_table(con):
                return {}
            found = con.execute(
                "SELECT t.point, problem, kind, element, occurrences, t.runs, first_run, "
                "first_step, first_value FROM trouble t JOIN units u ON u.experiment = "
                "t.experiment AND u.fingerprint = t.fingerprint AND u.unit = t.unit "
                "WHERE t.experiment = ? AND t.fingerprint = ? ORDER BY t.point, t.unit, t.rowid",
                [record.key, record.fingerprint],
            ).fetchall()
        by_point: dict[int, list[TroubleRow]] = {}
        for point, problem, kind, element, times, runs, run, step, value in found:
            by_point.setdefault(int(point), []).append(
                TroubleRow(
                    str(problem),
                    str(kind),
                    str(element),
                    int(times),
                    int(runs),
                    int(run),
                    int(step),
                    float("nan") if value is None else float(value),
                )
            )
        return {point: merge_rows(rows) for point, rows in by_point.items()}

    def occupancy(self, name: str, point: int, horizon: int, rungs: int) -> np.ndarray:
        with self.connect(must_exist=True, read_only=True) as con:
            record = self.require(con, name)
            rows = con.execute(
                "SELECT step, rung, sum(runs) FROM occupancy WHERE experiment = ? "
                "AND point = ? GROUP BY step, rung",
                [record.key, point],
            ).fetchall()
        out = np.zeros((horizon, rungs), dtype=np.int64)
        for step, rung, runs in rows:
            out[step, rung] = runs
        return out

    def export(self, name: str, fmt: str, target: Path, force: bool = False) -> int:
        """Write an experiment's rows to CSV or Parquet, atomically; return the row count.

        Never over the store; over an existing file only if it is an export of redline's, or
        with ``force`` (:func:`redline.experiment.outputs.check_output`)."""
        if fmt not in ("csv", "parquet"):
            raise UserError(f"unknown format '{fmt}'; known: csv, parquet")
        check_output(target, "csv" if fmt == "csv" else "parquet", self.path, force)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        count = 0
        try:
            with self.connect(must_exist=True, read_only=True) as con:
                record = self.require(con, name)
                if record.done_units == 0:
                    raise UserError(self._no_results(record))
                schema = record.layout.read_schema().with_metadata(
                    {PARQUET_KEY: json.dumps({"experiment": name, "version": __version__})}
                )
                writer = _writer(fmt, tmp, schema)
                try:
                    for batch in self._batches(con, record):
                        # text cells a spreadsheet would read as formulas are quoted
                        writer.write_batch(guard_batch(batch) if fmt == "csv" else batch)
                        count += batch.num_rows
                finally:
                    writer.close()
            if fmt == "csv" and count == 0:  # pragma: no cover - a stored unit has rows
                tmp.write_bytes(CSV_HEADER + b"\n")
            os.replace(tmp, target)
        except OSError as exc:
            raise UserError(f"cannot write {target}: {exc.strerror or exc}") from None
        except pa.ArrowException as exc:
            raise UserError(f"cannot write {target}: {exc}") from None
        finally:  # interrupted or refused, no partial file is left behind
            tmp.unlink(missing_ok=True)
        return count


def _writer(fmt: str, path: Path, schema: pa.Schema) -> Any:
    """A writer of record batches to a CSV or Parquet file."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetWriter(path, schema, compression="zstd")
    import pyarrow.csv as pacsv

    return pacsv.CSVWriter(path, schema)


#: the name the store's file is attached under (:meth:`Store.attached`)
_ATTACHED = "redline_store"


def _attached_here(exc: BaseException) -> bool:
    """Whether DuckDB refused the file because this process has it open in another DuckDB (a
    sweep's attached file, used by another thread): it is released when that piece of work
    ends, as a file another process holds is."""
    return "unique file handle conflict" in str(exc).lower()


def _column(name: str) -> str:
    """A column name for a double-quoted SQL identifier."""
    return name.replace('"', '""')
