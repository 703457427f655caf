"""A bounded queue of jobs the page asked for, computed by background threads so that no
request waits on one: what the run queue (:mod:`redline.web.jobs`) and the analysis queue
(:mod:`redline.web.analyses`) share.

A full queue refuses with a message; each waiting job has a position; a waiting job is
cancelled at once, a running one when its computation next looks at ``job.cancel``."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from redline.errors import UserError


class QueueFull(UserError):
    """The queue holds as many jobs as it may; the message says how many."""


class Cancelled(KeyboardInterrupt):
    """Raised from a job's progress callback to stop it where it looked at ``job.cancel`` (a
    run after the unit it stored, as Ctrl-C stops ``redline run``)."""


@dataclass(kw_only=True)
class Job:
    """What the queue keeps of every job: where it stands, how far it got, what it said."""

    id: str
    label: str
    state: str = "queued"
    done: int = 0
    total: int = 0
    message: str = ""
    created: float = field(default_factory=time.time)
    cancel: threading.Event = field(default_factory=threading.Event)


J = TypeVar("J", bound=Job)


class JobQueue(Generic[J]):
    """Jobs computed by ``runners`` threads, at most ``capacity`` waiting or running.

    A kind of job names itself (``noun``, ``nouns``: "run", "runs"), says what a job cancelled
    before it started leaves (``cancelled_before_start``) and computes one (:meth:`_compute`);
    :meth:`_eligible`, :meth:`_taken` and :meth:`_released` keep jobs that must not run at
    once apart."""

    noun = "job"
    nouns = "jobs"
    cancelled_before_start = "cancelled before it started"

    def __init__(self, runners: int, capacity: int, prefix: str) -> None:
        self.capacity = capacity
        self._prefix = prefix
        self._jobs: dict[str, J] = {}
        self._waiting: list[J] = []
        self._ids = itertools.count(1)
        self._lock = threading.Condition()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"redline-{self.noun}-{i}", daemon=True)
            for i in range(runners)
        ]
        for t in self._threads:
            t.start()

    # -- asking ------------------------------------------------------------------------------
    def _queue(self, job_of: Callable[[str], J]) -> J:
        """Queue the job ``job_of`` makes from its id; refused when the queue is full."""
        with self._lock:
            active = [j for j in self._jobs.values() if j.state in ("queued", "running")]
            if len(active) >= self.capacity:
                raise QueueFull(
                    f"the {self.noun} queue is full ({self.capacity} {self.nouns} waiting or "
                    "running); wait for one to finish, or cancel one"
                )
            job = job_of(f"{self._prefix}{next(self._ids)}")
            self._jobs[job.id] = job
            self._waiting.append(job)
            self._lock.notify_all()
            return job

    def get(self, ident: str) -> J | None:
        with self._lock:
            return self._jobs.get(ident)

    def jobs(self) -> list[J]:
        """Every job asked for, the newest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.created, reverse=True)

    def position(self, job: J) -> int:
        """1 for the next job to start, 2 for the one after, …; 0 once it started."""
        with self._lock:
            return next((i + 1 for i, j in enumerate(self._waiting) if j is job), 0)

    def cancel(self, ident: str) -> J | None:
        """Cancel a job: a waiting one at once, a running one when it next looks."""
        with self._lock:
            job = self._jobs.get(ident)
            if job is None:
                return None
            job.cancel.set()
            if job in self._waiting:
                self._waiting.remove(job)
                job.state, job.message = "cancelled", self.cancelled_before_start
            self._lock.notify_all()
            return job

    def close(self, wait: float = 30.0) -> None:
        """Cancel every job and let the threads end (running ones stop when they next look)."""
        with self._lock:
            self._closed = True
            for job in self._jobs.values():
                job.cancel.set()
            for job in self._waiting:
                job.state = "cancelled"
            self._waiting.clear()
            self._lock.notify_all()
        deadline = time.monotonic() + wait
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))

    # -- computing ---------------------------------------------------------------------------
    def _eligible(self, job: J) -> bool:
        """Whether a waiting job may start now."""
        return True

    def _taken(self, job: J) -> None:
        """A job starts (under the lock)."""

    def _released(self, job: J) -> None:
        """A job has ended (under the lock)."""

    def _compute(self, job: J) -> None:
        """Compute a job, leaving its final state and message on it."""
        raise NotImplementedError

    def _next(self) -> J | None:
        """The first waiting job that may start (None: the queue is closed)."""
        with self._lock:
            while not self._closed:
                job = next((j for j in self._waiting if self._eligible(j)), None)
                if job is not None:
                    self._waiting.remove(job)
                    self._taken(job)
                    job.state = "running"
                    return job
                self._lock.wait()
            return None

    def _work(self) -> None:
        while (job := self._next()) is not None:
            try:
                self._compute(job)
            finally:
                with self._lock:
                    self._released(job)
                    self._lock.notify_all()
