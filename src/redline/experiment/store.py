"""The store: an embedded DuckDB file with experiments, their design points, units and results.

A unit's result rows, its ladder occupancy and its completion record are written in one
transaction, so a sweep killed at any moment leaves only whole units behind. The file is opened
for each transaction and closed after it, so several processes can take turns writing to one
store; one that cannot get the file for a while is refused with a clear message.

Ctrl-C that lands inside a DuckDB query (DuckDB reports it as ``RuntimeError: Query
interrupted``) is raised as :class:`KeyboardInterrupt`, as anywhere else; the transaction it
interrupted is rolled back when the connection closes.

An experiment's ``status`` is ``running`` while a sweep works on it (or after one was killed),
``stopped`` after a sweep was interrupted, and ``done`` once every unit is stored.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from redline.errors import UserError, is_interruption
from redline.experiment.design import DesignPoint, Unit
from redline.experiment.spec import ExperimentSpec
from redline.version import __version__

DEFAULT_STORE = Path("redline.duckdb")
#: how long to wait for a store that another process is writing
LOCK_WAIT_SECONDS = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS experiments (
    name VARCHAR PRIMARY KEY, spec VARCHAR NOT NULL, fingerprint VARCHAR NOT NULL,
    scenario_id VARCHAR NOT NULL, scenario_digest VARCHAR NOT NULL, version VARCHAR NOT NULL,
    seed UBIGINT NOT NULL, status VARCHAR NOT NULL, created TIMESTAMP NOT NULL,
    finished TIMESTAMP, points INTEGER NOT NULL, units INTEGER NOT NULL, runs BIGINT NOT NULL,
    seconds DOUBLE NOT NULL DEFAULT 0, results_table VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS points (
    experiment VARCHAR NOT NULL, point INTEGER NOT NULL, label VARCHAR NOT NULL,
    levers VARCHAR NOT NULL, lens VARCHAR, fixed VARCHAR NOT NULL,
    PRIMARY KEY (experiment, point));
CREATE TABLE IF NOT EXISTS units (
    experiment VARCHAR NOT NULL, unit INTEGER NOT NULL, point INTEGER NOT NULL,
    run_start BIGINT NOT NULL, run_stop BIGINT NOT NULL, seconds DOUBLE NOT NULL,
    finished TIMESTAMP NOT NULL, PRIMARY KEY (experiment, unit));
CREATE TABLE IF NOT EXISTS occupancy (
    experiment VARCHAR NOT NULL, unit INTEGER NOT NULL, point INTEGER NOT NULL,
    step INTEGER NOT NULL, rung INTEGER NOT NULL, runs BIGINT NOT NULL);
"""


@dataclass(frozen=True)
class PointTally:
    """One design point's stored runs, and per outcome how many reached it and at which mean
    first step (``None`` when none did)."""

    runs: int
    hits: list[int]
    mean_first_step: list[float | None]


@dataclass(frozen=True)
class ExperimentRecord:
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
    results_table: str
    done_units: int = 0

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


def _table_name(name: str) -> str:
    return "results_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


class Store:
    """One DuckDB file of experiments."""

    def __init__(self, path: Path = DEFAULT_STORE) -> None:
        self.path = Path(path)
        self._schema_ready = False

    def require_file(self) -> None:
        """Refuse a store that does not exist (reading commands never create one)."""
        if not self.path.exists():
            raise UserError(
                f"no store at {self.path} (run a sweep first, or name one with --store)"
            )

    @contextlib.contextmanager
    def connect(
        self, must_exist: bool = False, wait: float = LOCK_WAIT_SECONDS
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one piece of work; waits ``wait`` seconds for other processes,
        then refuses.

        ``must_exist``: reading commands never create a store, and never write into a DuckDB
        file that is not one."""
        if must_exist:
            self.require_file()
        deadline = time.monotonic() + wait
        while True:
            try:
                con = duckdb.connect(str(self.path))
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise UserError(f"{self.path} is not a redline store: {exc}") from None
                if time.monotonic() > deadline:
                    raise UserError(
                        f"store {self.path} is in use by another process and did "
                        f"not come free within {wait:.0f} s"
                    ) from None
                time.sleep(0.05)
            except duckdb.Error as exc:
                raise UserError(f"{self.path} is not a redline store: {exc}") from None
        try:
            if not self._schema_ready:
                self._prepare(con, must_exist)
            yield con
        except (RuntimeError, duckdb.Error) as exc:
            if is_interruption(exc):  # Ctrl-C in a query: its transaction is rolled back
                raise KeyboardInterrupt from None
            raise
        finally:
            con.close()

    def _prepare(self, con: duckdb.DuckDBPyConnection, must_exist: bool) -> None:
        """Create the schema in a new store; refuse a DuckDB file that holds other tables."""
        tables = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        }
        if "experiments" not in tables and (tables or must_exist):
            shown = ", ".join(sorted(tables)[:5]) or "none"
            raise UserError(
                f"{self.path} is not a redline store: a DuckDB file with other "
                f"tables ({shown}); name another file with --store"
            )
        con.execute(_SCHEMA)
        self._schema_ready = True

    # -- experiments -------------------------------------------------------------------------
    def get(self, name: str) -> ExperimentRecord | None:
        with self.connect(must_exist=True) as con:
            return self._get(con, name)

    def record(self, name: str) -> ExperimentRecord:
        """An experiment that must exist (the error suggests a close name)."""
        with self.connect(must_exist=True) as con:
            return self.require(con, name)

    def _get(self, con: duckdb.DuckDBPyConnection, name: str) -> ExperimentRecord | None:
        rows = con.execute(
            "SELECT name, spec, fingerprint, scenario_id, scenario_digest, version, status, "
            "created, finished, points, units, runs, seconds, results_table, "
            "(SELECT count(*) FROM units u WHERE u.experiment = e.name) "
            "FROM experiments e WHERE name = ?",
            [name],
        ).fetchall()
        if not rows:
            return None
        row = rows[0]
        return ExperimentRecord(row[0], ExperimentSpec.model_validate_json(row[1]), *row[2:])

    def experiments(self) -> list[ExperimentRecord]:
        """Every experiment, oldest first (none for a store that does not exist)."""
        if not self.path.exists():
            return []
        with self.connect(must_exist=True) as con:
            names = [
                r[0]
                for r in con.execute("SELECT name FROM experiments ORDER BY created").fetchall()
            ]
            return [rec for n in names if (rec := self._get(con, n)) is not None]

    def begin(
        self,
        spec: ExperimentSpec,
        fingerprint: str,
        scenario_id: str,
        digest: str,
        points: list[DesignPoint],
        units: list[Unit],
    ) -> ExperimentRecord:
        """Register an experiment, or find the same one to resume (and mark it running again);
        refuse a different spec under an existing name."""
        with self.connect() as con:
            existing = self._get(con, spec.name)
            if existing is not None:
                if existing.fingerprint != fingerprint:
                    raise UserError(self._mismatch(existing, spec, digest))
                if not existing.complete:
                    con.execute(
                        "UPDATE experiments SET status = 'running' WHERE name = ? "
                        "AND status <> 'done'",
                        [spec.name],
                    )
                    existing = self._get(con, spec.name)
                    assert existing is not None
                return existing
            con.begin()
            con.execute(
                "INSERT INTO experiments VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, NULL, ?, ?, "
                "?, 0, ?)",
                [
                    spec.name,
                    spec.model_dump_json(),
                    fingerprint,
                    scenario_id,
                    digest,
                    __version__,
                    spec.seed,
                    dt.datetime.now(),
                    len(points),
                    len(units),
                    spec.runs * len(points),
                    _table_name(spec.name),
                ],
            )
            con.executemany(
                "INSERT INTO points VALUES (?, ?, ?, ?, ?, ?)",
                [
                    [
                        spec.name,
                        p.index,
                        p.label(),
                        json.dumps(dict(p.config.levers)),
                        p.config.lens,
                        json.dumps(dict(p.fixed)),
                    ]
                    for p in points
                ],
            )
            con.commit()
            record = self._get(con, spec.name)
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

    def mark_stopped(self, name: str, wait: float = LOCK_WAIT_SECONDS) -> ExperimentRecord | None:
        """Record that a sweep of ``name`` was interrupted (unless it is done); the experiment
        as it is now, ``None`` if it was never registered. Never creates a store."""
        with self.connect(must_exist=True, wait=wait) as con:
            con.execute(
                "UPDATE experiments SET status = 'stopped' WHERE name = ? AND status = 'running'",
                [name],
            )
            return self._get(con, name)

    def done_units(self, name: str) -> set[int]:
        with self.connect() as con:
            return {
                r[0]
                for r in con.execute(
                    "SELECT unit FROM units WHERE experiment = ?", [name]
                ).fetchall()
            }

    def commit_unit(
        self,
        record: ExperimentRecord,
        unit: Unit,
        table: pa.Table,
        occupancy: np.ndarray,
        seconds: float,
    ) -> None:
        """Write one unit's rows, occupancy and completion in a single transaction."""
        steps, rungs = np.nonzero(occupancy)
        occupied = pa.table(
            {
                "experiment": pa.array([record.name] * len(steps), pa.string()),
                "unit": pa.array([unit.index] * len(steps), pa.int32()),
                "point": pa.array([unit.point] * len(steps), pa.int32()),
                "step": pa.array(steps, pa.int32()),
                "rung": pa.array(rungs, pa.int32()),
                "runs": pa.array(occupancy[steps, rungs], pa.int64()),
            }
        )
        with self.connect() as con:
            con.register("unit_rows", table)
            con.register("unit_occupancy", occupied)
            con.begin()
            try:
                con.execute(
                    f'CREATE TABLE IF NOT EXISTS "{record.results_table}" AS '
                    "SELECT * FROM unit_rows LIMIT 0"
                )
                con.execute(f'INSERT INTO "{record.results_table}" SELECT * FROM unit_rows')
                con.execute("INSERT INTO occupancy SELECT * FROM unit_occupancy")
                con.execute(
                    "INSERT INTO units VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        record.name,
                        unit.index,
                        unit.point,
                        unit.start,
                        unit.stop,
                        seconds,
                        dt.datetime.now(),
                    ],
                )
                con.execute(
                    "UPDATE experiments SET seconds = seconds + ? WHERE name = ?",
                    [seconds, record.name],
                )
                con.commit()
            except duckdb.ConstraintException:
                con.rollback()  # another process committed this unit first: keep theirs

    def finish(self, name: str) -> None:
        with self.connect() as con:
            con.execute(
                "UPDATE experiments SET status = 'done', finished = ? WHERE name = ? "
                "AND status <> 'done' "
                "AND (SELECT count(*) FROM units WHERE experiment = ?) = units",
                [dt.datetime.now(), name, name],
            )

    def delete(self, name: str) -> None:
        with self.connect() as con:
            record = self._get(con, name)
            if record is None:
                raise UserError(f"no experiment named '{name}' in {self.path}")
            con.begin()
            con.execute(f'DROP TABLE IF EXISTS "{record.results_table}"')
            for table in ("occupancy", "units", "points", "experiments"):
                column = "name" if table == "experiments" else "experiment"
                con.execute(f"DELETE FROM {table} WHERE {column} = ?", [name])
            con.commit()

    # -- reading results ---------------------------------------------------------------------
    def require(self, con: duckdb.DuckDBPyConnection, name: str) -> ExperimentRecord:
        record = self._get(con, name)
        if record is None:
            known = [r[0] for r in con.execute("SELECT name FROM experiments").fetchall()]
            from redline.scenario.errors import suggest

            raise UserError(suggest(name, known, "experiment") + f" (store: {self.path})")
        return record

    def results(self, name: str, columns: str = "*") -> pa.Table:
        """The per-run rows of an experiment, ordered by design point and run."""
        with self.connect(must_exist=True) as con:
            record = self.require(con, name)
            if not self._has_table(con, record.results_table):
                return pa.table({})
            return con.sql(
                f'SELECT {columns} FROM "{record.results_table}" ORDER BY point, run'
            ).to_arrow_table()

    def point_counts(self, name: str, outcomes: list[str]) -> dict[int, PointTally]:
        """Per design point with stored runs: the runs and, per outcome, its hits and mean
        first step, counted by DuckDB (memory does not grow with the number of runs).

        An experiment without stored results is refused with a message."""
        with self.connect(must_exist=True) as con:
            record = self.require(con, name)
            if not self._has_table(con, record.results_table):
                raise UserError(self._no_results(record))
            aggregates = ", ".join(
                f'count("{c}"), avg("{c}")' for c in (_column(f"first.{o}") for o in outcomes)
            )
            try:
                rows = con.execute(
                    f"SELECT point, count(*){', ' if outcomes else ''}{aggregates} "
                    f'FROM "{record.results_table}" GROUP BY point ORDER BY point'
                ).fetchall()
            except duckdb.BinderException as exc:
                raise UserError(
                    f"experiment '{name}' does not hold the outcomes of its scenario as it is "
                    f"now (has {record.spec.scenario} changed since the sweep?): {exc}"
                ) from None
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
        with self.connect(must_exist=True) as con:
            self.require(con, name)
            rows = con.execute(
                "SELECT point, label, levers, lens, fixed FROM points "
                "WHERE experiment = ? ORDER BY point",
                [name],
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

    def occupancy(self, name: str, point: int, horizon: int, rungs: int) -> np.ndarray:
        with self.connect(must_exist=True) as con:
            rows = con.execute(
                "SELECT step, rung, sum(runs) FROM occupancy WHERE experiment = ? "
                "AND point = ? GROUP BY step, rung",
                [name, point],
            ).fetchall()
        out = np.zeros((horizon, rungs), dtype=np.int64)
        for step, rung, runs in rows:
            out[step, rung] = runs
        return out

    def export(self, name: str, fmt: str, target: Path) -> int:
        """Write an experiment's rows to CSV or Parquet, atomically; return the row count."""
        if fmt not in ("csv", "parquet"):
            raise UserError(f"unknown format '{fmt}'; known: csv, parquet")
        if target.is_dir():
            raise UserError(f"cannot write {target}: it is a folder; give a file name")
        if not target.parent.is_dir():
            raise UserError(f"cannot write {target}: folder {target.parent} does not exist")
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            with self.connect(must_exist=True) as con:
                record = self.require(con, name)
                if not self._has_table(con, record.results_table):
                    raise UserError(self._no_results(record))
                option = "(FORMAT parquet)" if fmt == "parquet" else "(FORMAT csv, HEADER true)"
                try:
                    con.execute(
                        f'COPY (SELECT * FROM "{record.results_table}" ORDER BY point, run) '
                        f"TO '{_sql_path(tmp)}' {option}"
                    )
                    count = con.execute(
                        f'SELECT count(*) FROM "{record.results_table}"'
                    ).fetchall()[0]
                except duckdb.Error as exc:
                    if is_interruption(exc):
                        raise KeyboardInterrupt from None
                    raise UserError(f"cannot write {target}: {exc}") from None
            os.replace(tmp, target)
        except OSError as exc:
            raise UserError(f"cannot write {target}: {exc.strerror}") from None
        finally:  # interrupted or refused, no partial file is left behind
            tmp.unlink(missing_ok=True)
        return int(count[0])

    @staticmethod
    def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
        rows = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
        ).fetchall()
        return bool(rows[0][0])


def _column(name: str) -> str:
    """A column name for a double-quoted SQL identifier."""
    return name.replace('"', '""')


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
