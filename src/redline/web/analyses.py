"""The analysis queue: analyses the page asked for (why, ablation, history scores, sensitivity,
scenario discovery, robust levers, games), computed one or two at a time by background threads
so that no request waits on one, each with its progress where the library reports it.

The queue is bounded (a full one refuses with a message); an analysis is cancelled at its next
progress report. What an analysis shows is a list of :data:`Part` — HTML made by the report's
own page code (every text escaped there) and plotly figures as JSON — plus the JSON its
command prints with ``--json``."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import plotly.graph_objects as go

from redline.engine.trouble import NumericalTrouble
from redline.errors import UserError
from redline.web.queue import Cancelled, Job, JobQueue

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


@dataclass(kw_only=True)
class AnalysisJob(Job):
    """One analysis the page asked for, where it stands, and its result once done."""

    kind: str
    back: str
    compute: Callable[[Progress], Finished]
    state: AnalysisState = "queued"
    step: str = ""
    result: Finished | None = None

    @property
    def fraction(self) -> float:
        if self.state == "done":
            return 1.0
        return min(1.0, self.done / self.total) if self.total else 0.0


class AnalysisQueue(JobQueue[AnalysisJob]):
    """A bounded queue of analyses, computed by ``runners`` threads."""

    noun, nouns = "analysis", "analyses"

    def __init__(self, runners: int = 1, capacity: int = 4) -> None:
        super().__init__(runners, capacity, "a")

    def submit(
        self, kind: str, label: str, back: str, compute: Callable[[Progress], Finished]
    ) -> AnalysisJob:
        """Queue an analysis; refused when the queue is full."""
        return self._queue(
            lambda ident: AnalysisJob(id=ident, label=label, kind=kind, back=back, compute=compute)
        )

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
