"""Sweeps of the same experiment at the same time share its units instead of each computing all.

Before a sweep computes a unit it claims it in the store (the table ``claims``: the unit, the
claimant's host, process id and process start time, and a heartbeat), in one transaction that
takes only units that are neither stored nor claimed by a live claimant. A second sweep of the
same experiment therefore computes the units the first has not claimed, then waits for the
first to store the rest, and both end with the whole experiment.

A claimant is live while its process runs: on the same host, its process id exists with the same
start time (a killed sweep's units are taken over at once); on another host, while its heartbeat
(renewed at every claim, that is every unit it finishes) is younger than :data:`LEASE_SECONDS`.
A unit that two sweeps compute all the same (a lease that ran out) is stored once: the store
keeps the first commit.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import sys
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import duckdb

from redline.experiment.store import ExperimentRecord

#: how long a claim of a sweep on another host holds without a heartbeat
LEASE_SECONDS = 600.0

_TABLE = """
CREATE TABLE IF NOT EXISTS claims (
    experiment INTEGER NOT NULL, fingerprint VARCHAR NOT NULL, unit INTEGER NOT NULL,
    host VARCHAR NOT NULL, pid INTEGER NOT NULL, started BIGINT NOT NULL,
    heartbeat TIMESTAMP NOT NULL, PRIMARY KEY (experiment, fingerprint, unit))
"""


def process_started(pid: int) -> int | None:
    """When a process started (Linux: clock ticks since boot), 0 where the system does not say,
    ``None`` if there is no such process running (a zombie has ended)."""
    if sys.platform.startswith("linux"):
        try:
            text = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        fields = text[text.rindex(")") + 2 :].split()
        return None if fields[0] in ("Z", "X") else int(fields[19])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # pragma: no cover - someone else's process
        return 0
    return 0


@dataclass(frozen=True)
class Claimant:
    """A sweep's process, as its claims name it."""

    host: str
    pid: int
    started: int

    @classmethod
    def me(cls) -> Claimant:
        return cls(socket.gethostname(), os.getpid(), process_started(os.getpid()) or 0)

    def live(self, heartbeat: dt.datetime, now: dt.datetime) -> bool:
        """Whether this claimant still works on its claims (seen from this host, ``now``)."""
        if self.host == socket.gethostname():
            started = process_started(self.pid)
            return started is not None and started == self.started
        return (now - heartbeat).total_seconds() < LEASE_SECONDS


def claim(
    con: duckdb.DuckDBPyConnection,
    record: ExperimentRecord,
    candidates: list[int],
    me: Claimant,
    limit: int,
) -> tuple[list[int], set[int]]:
    """In one transaction: claim for ``me`` up to ``limit`` of ``candidates`` (unit indices,
    in order) that are neither stored nor claimed by another live claimant, and renew ``me``'s
    heartbeat; the units claimed, and the candidates already stored.

    The caller checks in the same connection that the experiment still exists."""
    con.execute(_TABLE)
    now = dt.datetime.now()
    con.begin()
    try:
        stored = {
            r[0]
            for r in con.execute(
                "SELECT unit FROM units WHERE experiment = ? AND fingerprint = ?",
                [record.key, record.fingerprint],
            ).fetchall()
        }
        held = {
            r[0]
            for r in con.execute(
                "SELECT unit, host, pid, started, heartbeat FROM claims "
                "WHERE experiment = ? AND fingerprint = ?",
                [record.key, record.fingerprint],
            ).fetchall()
            if (who := Claimant(r[1], r[2], r[3])) != me and who.live(r[4], now)
        }
        taken = [u for u in candidates if u not in stored and u not in held][:limit]
        if taken:
            con.executemany(
                "INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    [record.key, record.fingerprint, u, me.host, me.pid, me.started, now]
                    for u in taken
                ],
            )
        con.execute(
            "UPDATE claims SET heartbeat = ? WHERE experiment = ? AND host = ? AND pid = ?",
            [now, record.key, me.host, me.pid],
        )
        con.commit()
    except BaseException:
        # Ctrl-C can land after the commit, when there is nothing left to undo
        with suppress(duckdb.TransactionException):
            con.rollback()
        raise
    return taken, stored & set(candidates)


def release(con: duckdb.DuckDBPyConnection, key: int) -> None:
    """Forget every claim on experiment ``key`` (it is done, or deleted)."""
    tables = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    }
    if "claims" in tables:
        con.execute("DELETE FROM claims WHERE experiment = ?", [key])
