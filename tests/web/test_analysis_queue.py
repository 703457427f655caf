"""The analysis queue: bounded (a full one refuses in one line), in order with each waiting
analysis's place, cancelled at once while waiting or at the next progress while computing, a
mistake said in its message; and the analysis forms' options checked before anything is
queued (caps, unknown names, a scenario with nothing to score)."""

from __future__ import annotations

import html
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from redline.errors import UserError
from redline.web import Settings, create_app
from redline.web.analyses import AnalysisJob, AnalysisQueue, Finished, Progress
from redline.web.queue import QueueFull


def until_finished(job: AnalysisJob) -> None:
    for _ in range(2000):
        if job.state not in ("queued", "running"):
            return
        time.sleep(0.005)
    raise AssertionError(f"{job.id} still {job.state}")


def test_the_queue_is_bounded_ordered_and_cancels() -> None:
    queue = AnalysisQueue(runners=1, capacity=3)
    go, started = threading.Event(), threading.Event()

    def held(progress: Progress) -> Finished:
        started.set()
        go.wait(10)
        progress(1, 2, "half")
        return Finished([("html", "<p>done</p>")], {"answer": 42})

    def refused(progress: Progress) -> Finished:
        raise UserError("unknown outcome 'wat'; did you mean 'war'?")

    try:
        first = queue.submit("robust", "first", "/", held)
        assert started.wait(10)
        second = queue.submit("game", "second", "/", refused)
        third = queue.submit("game", "third", "/", held)
        assert (first.state, queue.position(second), queue.position(third)) == ("running", 1, 2)
        with pytest.raises(QueueFull, match=r"analysis queue is full \(3 analyses"):
            queue.submit("game", "fourth", "/", held)
        cancelled = queue.cancel(third.id)
        assert cancelled is third and third.state == "cancelled"
        go.set()
        until_finished(first)
        until_finished(second)
        assert first.state == "done" and first.result is not None
        assert first.result.data == {"answer": 42} and first.fraction == 1.0
        assert (first.done, first.total, first.step) == (1, 2, "half")
        assert second.state == "failed" and "did you mean 'war'" in second.message
        # a running analysis stops at its next progress report, keeping nothing
        go.clear()
        started.clear()
        fourth = queue.submit("robust", "fourth", "/", held)
        assert started.wait(10)
        queue.cancel(fourth.id)
        go.set()
        until_finished(fourth)
        assert fourth.state == "cancelled" and fourth.result is None
    finally:
        go.set()
        queue.close()


def test_the_forms_options_are_checked_before_anything_is_queued(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    settings = Settings(
        workspace=tmp_path / "ws", store=tmp_path / "s.duckdb", allowed_hosts=("testserver",)
    )
    base = "/scenarios/builtin/convoy-strike/analyze"
    refusals = {
        "robust?samples=2000": "samples must be between 1 and 32 here, got 2,000",
        "discover?outcome=wat": "unknown outcome 'wat'; did you mean 'war'?",
        "score": "scenario 'convoy-strike' has no observations to score against",
        "sensitivity?method=sobol&n=100000": "n must be between 8 and 512 here, got 100,000",
        "game?step=2024-07&decisions=RUS": "decision, line 1: expected DECISION=…, got 'RUS'",
        "game?step=never&decisions=RUS%3Dhold": "step must be a step number or a date",
    }
    with TestClient(create_app(settings)) as client:
        form = client.get(base)
        assert form.status_code == 200 and 'id="form-robust"' in form.text
        for query, message in refusals.items():
            answer = client.get(f"{base}/{query}")
            assert answer.status_code == 400, query
            assert message in html.unescape(answer.text), (query, answer.text[-400:])
        assert client.get("/api/analyses/a1").status_code == 404  # nothing was queued
        assert client.get("/api/analyses/a1").json() == {
            "detail": "no analysis 'a1' on this server"
        }
