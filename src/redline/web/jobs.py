"""The run queue: experiments the page asked for, computed a few at a time by background
threads with the library's own runner (:func:`redline.experiment.runner.execute`, as
``redline run`` computes them), into the same store.

The queue is bounded (a full one refuses with a message), shows each waiting run's position,
and cancels: a queued run is dropped, a running one stops after the unit it is computing is
stored — only whole units are ever stored, and the experiment is marked stopped, so the same
run started again goes on from there. Two runs of the same experiment never compute at once
(the second waits for the first, then finds its units stored)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from redline.engine.simulate import Backend
from redline.engine.trouble import NumericalTrouble
from redline.errors import UserError
from redline.experiment import runner
from redline.experiment.spec import ExperimentSpec
from redline.experiment.store import Store
from redline.experiment.sweep import Plan
from redline.web.queue import Cancelled, Job, JobQueue

State = Literal["queued", "running", "done", "stopped", "failed", "cancelled"]
FINISHED: frozenset[str] = frozenset({"done", "stopped", "failed", "cancelled"})


@dataclass(kw_only=True)
class RunJob(Job):
    """One run the page asked for: its experiment, where it stands and what it said."""

    spec: ExperimentSpec
    backend: Backend
    state: State = "queued"

    @property
    def experiment(self) -> str:
        return self.spec.name

    @property
    def fraction(self) -> float:
        """How much of the run is stored, 0 to 1 (1 when it finished with nothing to do)."""
        if self.state == "done":
            return 1.0
        return self.done / self.total if self.total else 0.0


class RunQueue(JobQueue[RunJob]):
    """A bounded queue of runs, computed by ``runners`` threads into ``store``; two runs of
    one experiment never compute at once."""

    noun, nouns = "run", "runs"
    cancelled_before_start = "cancelled before it started; nothing was stored"

    def __init__(self, store: Store, runners: int = 2, capacity: int = 8) -> None:
        self.store = store
        self._running: set[str] = set()  # experiments being computed
        super().__init__(runners, capacity, "r")

    def submit(self, spec: ExperimentSpec, backend: Backend, label: str) -> RunJob:
        """Queue a run; refused when the queue is full."""
        return self._queue(lambda ident: RunJob(id=ident, label=label, spec=spec, backend=backend))

    # -- computing ---------------------------------------------------------------------------
    def _eligible(self, job: RunJob) -> bool:
        return job.experiment not in self._running

    def _taken(self, job: RunJob) -> None:
        self._running.add(job.experiment)

    def _released(self, job: RunJob) -> None:
        self._running.discard(job.experiment)

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
