"""The analysis queue: analyses the page asked for (why, ablation, history scores, sensitivity,
scenario discovery, robust levers, games), computed one or two at a time by background threads
so that no request waits on one, each with its progress where the library reports it.

The queue is bounded (a full one refuses with a message); an analysis is cancelled at its next
progress report. What an analysis shows is a list of :data:`Part` — HTML made by the report's
own page code (every text escaped there) and plotly figures as JSON — plus the JSON its
command prints with ``--json``."""

from __future__ import annotations

import html
import itertools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import plotly.graph_objects as go

from redline.engine.trouble import NumericalTrouble
from redline.errors import UserError
from redline.web.jobs import Cancelled, QueueFull

AnalysisState = Literal["queued", "running", "done", "failed", "cancelled"]
#: a part of an analysis page: ("html", fragment) or ("figure", plotly JSON)
Part = tuple[Literal["html", "figure"], str]
#: progress as the library reports it: (done, total, what is being done)
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Finished:
    """An analysis's result as the page shows it (``parts``) and as the API gives it."""

    parts: list[Part]
    data: dict[str, Any]


@dataclass
class AnalysisJob:
    """One analysis the page asked for, where it stands, and its result once done."""

    id: str
    kind: str
    label: str
    back: str
    compute: Callable[[Progress], Finished]
    state: AnalysisState = "queued"
    done: int = 0
    total: int = 0
    step: str = ""
    message: str = ""
    result: Finished | None = None
    created: float = field(default_factory=time.time)
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def fraction(self) -> float:
        if self.state == "done":
            return 1.0
        return min(1.0, self.done / self.total) if self.total else 0.0


class AnalysisQueue:
    """A bounded queue of analyses, computed by ``runners`` threads."""

    def __init__(self, runners: int = 1, capacity: int = 4) -> None:
        self.capacity = capacity
        self._jobs: dict[str, AnalysisJob] = {}
        self._waiting: list[AnalysisJob] = []
        self._ids = itertools.count(1)
        self._lock = threading.Condition()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"redline-analysis-{i}", daemon=True)
            for i in range(runners)
        ]
        for t in self._threads:
            t.start()

    def submit(
        self, kind: str, label: str, back: str, compute: Callable[[Progress], Finished]
    ) -> AnalysisJob:
        """Queue an analysis; refused when the queue is full."""
        with self._lock:
            active = [j for j in self._jobs.values() if j.state in ("queued", "running")]
            if len(active) >= self.capacity:
                raise QueueFull(
                    f"the analysis queue is full ({self.capacity} analyses waiting or "
                    "running); wait for one to finish, or cancel one"
                )
            job = AnalysisJob(f"a{next(self._ids)}", kind, label, back, compute)
            self._jobs[job.id] = job
            self._waiting.append(job)
            self._lock.notify_all()
            return job

    def get(self, ident: str) -> AnalysisJob | None:
        with self._lock:
            return self._jobs.get(ident)

    def position(self, job: AnalysisJob) -> int:
        """1 for the next analysis to start, …; 0 once it started."""
        with self._lock:
            return next((i + 1 for i, j in enumerate(self._waiting) if j is job), 0)

    def cancel(self, ident: str) -> AnalysisJob | None:
        """Cancel an analysis: a waiting one at once, a running one at its next progress."""
        with self._lock:
            job = self._jobs.get(ident)
            if job is None:
                return None
            job.cancel.set()
            if job in self._waiting:
                self._waiting.remove(job)
                job.state, job.message = "cancelled", "cancelled before it started"
            return job

    def close(self, wait: float = 30.0) -> None:
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

    def _next(self) -> AnalysisJob | None:
        with self._lock:
            while not self._closed:
                if self._waiting:
                    job = self._waiting.pop(0)
                    job.state = "running"
                    return job
                self._lock.wait()
            return None

    def _work(self) -> None:
        while (job := self._next()) is not None:
            self._compute(job)

    @staticmethod
    def _compute(job: AnalysisJob) -> None:
        def progress(done: int, total: int, step: str = "") -> None:
            job.done, job.total, job.step = done, total, step
            if job.cancel.is_set():
                raise Cancelled

        try:
            job.result = job.compute(progress)
        except Cancelled:
            job.state, job.message = "cancelled", "cancelled; nothing was kept"
        except (UserError, NumericalTrouble) as exc:
            job.state, job.message = "failed", str(exc)
        except Exception as exc:  # a bug, said in one line; the server goes on
            job.state, job.message = "failed", f"internal error ({type(exc).__name__}: {exc})"
        else:
            job.state, job.message = "done", "done"


def figure_part(figure: go.Figure) -> Part:
    return ("figure", str(figure.to_json()))


def parts_of(items: Sequence[str | go.Figure]) -> list[Part]:
    """The report's section parts (HTML it escaped, or figures) as page parts."""
    return [figure_part(x) if isinstance(x, go.Figure) else ("html", x) for x in items]


def parts_of_sections(sections: Sequence[Any]) -> list[Part]:
    """:class:`redline.report.analysis_page.Section` s as page parts: the same headings,
    paragraphs, tables and figures the report's analysis page shows."""
    from redline.report.analysis_page import table_html

    parts: list[Part] = []
    for s in sections:
        level = 3 if s.level == 3 else 2
        parts.append(("html", f"<h{level}>{html.escape(s.heading)}</h{level}>"))
        for b in s.blocks:
            if b.text is not None:
                cls = " class='note'" if b.note else ""
                parts.append(("html", f"<p{cls}>{html.escape(b.text)}</p>"))
            if b.header:
                parts.append(("html", table_html(b.header, b.rows)))
            if b.figure is not None:
                parts.append(figure_part(b.figure))
    return parts
