"""The run queue: experiments the page asked for, computed a few at a time by background
threads with the library's own runner (:func:`redline.experiment.runner.execute`, as
``redline run`` computes them), into the same store.

The queue is bounded (a full one refuses with a message), shows each waiting run's position,
and cancels: a queued run is dropped, a running one stops after the unit it is computing is
stored — only whole units are ever stored, and the experiment is marked stopped, so the same
run started again goes on from there. Two runs of the same experiment never compute at once
(the second waits for the first, then finds its units stored)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from redline.engine.simulate import Backend
from redline.engine.trouble import NumericalTrouble
from redline.errors import UserError
from redline.experiment import runner
from redline.experiment.spec import ExperimentSpec
from redline.experiment.store import Store
from redline.experiment.sweep import Plan

State = Literal["queued", "running", "done", "stopped", "failed", "cancelled"]
FINISHED: frozenset[str] = frozenset({"done", "stopped", "failed", "cancelled"})


class QueueFull(UserError):
    """The queue holds as many runs as it may; the message says how many."""


class Cancelled(KeyboardInterrupt):
    """Raised from a run's progress callback, after a unit is stored, to stop it as Ctrl-C
    stops ``redline run`` (the runner marks the experiment stopped)."""


@dataclass
class RunJob:
    """One run the page asked for: its experiment, where it stands and what it said."""

    id: str
    spec: ExperimentSpec
    backend: Backend
    label: str
    state: State = "queued"
    total: int = 0
    done: int = 0
    message: str = ""
    created: float = field(default_factory=time.time)
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def experiment(self) -> str:
        return self.spec.name

    @property
    def fraction(self) -> float:
        """How much of the run is stored, 0 to 1 (1 when it finished with nothing to do)."""
        if self.state == "done":
            return 1.0
        return self.done / self.total if self.total else 0.0


class RunQueue:
    """A bounded queue of runs, computed by ``runners`` threads into ``store``."""

    def __init__(self, store: Store, runners: int = 2, capacity: int = 8) -> None:
        self.store = store
        self.capacity = capacity
        self._jobs: dict[str, RunJob] = {}
        self._waiting: list[RunJob] = []
        self._running: set[str] = set()  # experiments being computed
        self._ids = itertools.count(1)
        self._lock = threading.Condition()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"redline-run-{i}", daemon=True)
            for i in range(runners)
        ]
        for t in self._threads:
            t.start()

    # -- asking ------------------------------------------------------------------------------
    def submit(self, spec: ExperimentSpec, backend: Backend, label: str) -> RunJob:
        """Queue a run; refused when the queue is full."""
        with self._lock:
            active = [j for j in self._jobs.values() if j.state in ("queued", "running")]
            if len(active) >= self.capacity:
                raise QueueFull(
                    f"the run queue is full ({self.capacity} runs waiting or running); wait "
                    "for one to finish, or cancel one"
                )
            job = RunJob(f"r{next(self._ids)}", spec, backend, label)
            self._jobs[job.id] = job
            self._waiting.append(job)
            self._lock.notify_all()
            return job

    def get(self, ident: str) -> RunJob | None:
        with self._lock:
            return self._jobs.get(ident)

    def jobs(self) -> list[RunJob]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.created, reverse=True)

    def position(self, job: RunJob) -> int:
        """1 for the next run to start, 2 for the one after, …; 0 once it started."""
        with self._lock:
            return next((i + 1 for i, j in enumerate(self._waiting) if j is job), 0)

    def cancel(self, ident: str) -> RunJob | None:
        """Cancel a run: a waiting one at once, a running one after the unit it computes."""
        with self._lock:
            job = self._jobs.get(ident)
            if job is None:
                return None
            job.cancel.set()
            if job in self._waiting:
                self._waiting.remove(job)
                job.state = "cancelled"
                job.message = "cancelled before it started; nothing was stored"
            self._lock.notify_all()
            return job

    def close(self, wait: float = 30.0) -> None:
        """Cancel every run and let the threads end (running runs stop at their next unit)."""
        with self._lock:
            self._closed = True
            for job in list(self._jobs.values()):
                job.cancel.set()
            for job in self._waiting:
                job.state = "cancelled"
            self._waiting.clear()
            self._lock.notify_all()
        deadline = time.monotonic() + wait
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))

    # -- computing ---------------------------------------------------------------------------
    def _next(self) -> RunJob | None:
        """The first waiting run whose experiment no other thread is computing (None: closed)."""
        with self._lock:
            while True:
                if self._closed:
                    return None
                job = next((j for j in self._waiting if j.experiment not in self._running), None)
                if job is not None:
                    self._waiting.remove(job)
                    self._running.add(job.experiment)
                    job.state = "running"
                    return job
                self._lock.wait()

    def _work(self) -> None:
        while (job := self._next()) is not None:
            try:
                self._compute(job)
            finally:
                with self._lock:
                    self._running.discard(job.experiment)
                    self._lock.notify_all()

    def _compute(self, job: RunJob) -> None:
        def start(plan: Plan, on: str) -> Callable[[int], None]:
            job.total = plan.runs_todo

            def advance(runs: int) -> None:
                job.done += runs
                if job.cancel.is_set():
                    raise Cancelled

            return advance

        try:
            plan = runner.execute(
                job.spec,
                self.store,
                {"workers": 1, "threads": 1},
                job.backend,
                start,
                confirm=None,
            )
        except runner.Stopped as exc:
            job.state, job.message = "stopped", str(exc).replace("command", "run")
        except NumericalTrouble as exc:
            job.state, job.message = "failed", str(exc)
        except UserError as exc:
            job.state, job.message = "failed", str(exc)
        except Exception as exc:  # a bug, said in one line; the page and the server go on
            job.state, job.message = "failed", f"{type(exc).__name__}: {exc}"
        else:
            job.done = job.total
            job.state = "done"
            job.message = (
                f"done: {plan.computed} of {len(plan.units)} units computed now, the rest "
                "were stored already"
                if plan.computed < len(plan.units)
                else "done"
            )
