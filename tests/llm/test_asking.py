"""Asking a language model through real HTTP (a fake OpenAI-compatible server on loopback whose
model follows a seeded policy): every live run of a step asked at once within the concurrency
bound, transport failures retried, invalid answers asked again then replaced by the scenario's
fallback and counted, a server that stops answering reported with a message."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
import pytest

import redline
from redline.errors import UserError
from redline.llm import language_makers

from .conftest import TINY, endpoint
from .fake_model import FakeModel

RUNS = 12


def simulate(fake: FakeModel, runs: int = RUNS, **options: object) -> tuple[object, object]:
    """The tiny scenario simulated against the fake server; its results and RED's maker."""
    s = redline.load(TINY)
    makers = language_makers(s, endpoint(fake, **options), keep_reasons=True)
    try:
        results = redline.simulate(s, runs, seed=4, decision_makers=makers)
    finally:
        makers["RED"].close()
    return results, makers["RED"]


def test_every_live_run_of_a_step_is_asked_at_once(fake: FakeModel) -> None:
    fake.reset(delay=0.05)
    _, maker = simulate(fake)
    # a step's requests are in flight together: all of them at the first step
    assert fake.policy.max_in_flight == RUNS
    assert fake.policy.requests == maker.usage.asked == maker.usage.decisions
    # and no more than the concurrency bound when it is lower
    fake.reset(delay=0.05)
    simulate(fake, concurrency=5)
    assert fake.policy.max_in_flight == 5


def test_transport_failures_are_retried_and_change_nothing(fake: FakeModel) -> None:
    calm, _ = simulate(fake)
    fake.reset(fail=[429, 500, 503, 429])
    stormy, maker = simulate(fake)
    assert fake.policy.statuses[429] == 2 and fake.policy.statuses[500] == 1
    assert fake.policy.requests == maker.usage.asked + 4
    assert stormy.table.equals(calm.table)


def test_a_stalled_request_is_asked_again_after_its_timeout(fake: FakeModel) -> None:
    calm, _ = simulate(fake, runs=6)
    fake.reset(stall=2, stall_seconds=3.0)
    slow, maker = simulate(fake, runs=6, timeout=0.5)
    assert fake.policy.requests == maker.usage.asked + 2
    assert slow.table.equals(calm.table)


def test_a_server_that_keeps_failing_stops_the_run_with_a_message(fake: FakeModel) -> None:
    fake.reset(fail=[500] * 50)
    with pytest.raises(UserError) as info:
        simulate(fake, runs=3, max_retries=1)
    message = str(info.value)
    assert "language model 'fake-model' at http://127.0.0.1:" in message
    assert "answered 500 (after 1 retries)" in message
    assert "asks only the rest" in message


def test_invalid_answers_are_asked_again_then_fall_back(fake: FakeModel) -> None:
    # half the first answers name no available action; asked again, the model answers well
    fake.reset(invalid=0.5)
    _, maker = simulate(fake)
    u = maker.usage
    assert 0 < u.invalid < u.decisions and u.fallbacks == 0
    assert u.asked == u.decisions + u.invalid
    again = [d for d in maker.decided.values() if d.attempts == 2]
    assert len(again) == u.invalid and not any(d.fallback for d in again)
    retried = [b for b in fake.policy.bodies if len(b["messages"]) == 4]
    assert len(retried) == u.invalid
    assert "is not one of the available actions" in retried[0]["messages"][3]["content"]
    # a model that never answers well: the scenario's fallback, every time, counted
    fake.reset(broken=True)
    results, maker = simulate(fake)
    u = maker.usage
    assert u.fallbacks == u.decisions and u.invalid == 2 * u.decisions  # retries: 1
    assert fake.policy.requests == 2 * u.decisions
    assert {d.action for d in maker.decided.values()} == {"wait_out"}
    assert all(d.fallback and "after 2 invalid answers" in d.reason for d in maker.decided.values())
    # waiting it out every month: tension only falls, so no run reaches war
    assert pc.sum(pc.greater_equal(results.table["first.war"], 0)).as_py() in (0, None)


def test_answers_follow_the_model_not_the_batch(fake: FakeModel) -> None:
    """A run's choice depends on its own prompt and sampling key: the same runs in chunks of
    any size get the same answers."""
    s = redline.load(TINY)
    tables = []
    for chunk in (5, RUNS):
        makers = language_makers(s, endpoint(fake))
        tables.append(
            redline.simulate(s, RUNS, seed=4, decision_makers=makers, chunk_size=chunk).table
        )
        makers["RED"].close()
    assert tables[0].equals(tables[1])
    # and different runs are different samples: not every run made the same choices
    assert len(set(np.asarray(tables[0]["final.tension"]).round(6))) > 1
