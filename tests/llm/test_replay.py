"""Language-model runs are reproducible and cheap to rerun: every request and answer is kept in
the store, so the same seed replays exactly without asking anything, a run interrupted by a
failing endpoint goes on asking only what it had not asked, one run told as a story (by the
reference interpreter, one run at a time) replays the batch's answers with their reasons, and
the paths to an outcome (why) work on the same runs."""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pytest

import redline
from redline.errors import UserError
from redline.experiment.store import Store
from redline.llm.cache import StoreCache

from .conftest import TINY, endpoint
from .fake_model import FakeModel

RUNS = 16


def test_a_rerun_replays_from_the_store_and_asks_nothing(fake: FakeModel, tmp_path: Path) -> None:
    store = tmp_path / "answers.duckdb"
    first = redline.simulate(TINY, RUNS, seed=9, llm=endpoint(fake), llm_store=store)
    asked = fake.policy.requests
    assert asked > 0 and StoreCache(Store(store)).count() == asked
    fake.reset()
    again = redline.simulate(TINY, RUNS, seed=9, llm=endpoint(fake), llm_store=store)
    assert fake.policy.requests == 0
    assert again.table.equals(first.table)
    # another seed is another sample of every run: asked anew
    redline.simulate(TINY, 2, seed=10, llm=endpoint(fake), llm_store=store)
    assert fake.policy.requests > 0

    # one run told by the reference interpreter: the batch's answers, replayed, with reasons
    fake.reset()
    run = next(i for i in range(RUNS) if pc.greater(first.table["peak_level"], 0)[i].as_py())
    trace = redline.trace(TINY, seed=9, run=run, llm=endpoint(fake), llm_store=store)
    assert fake.policy.requests == 0
    assert trace.run.peak_level == first.table["peak_level"][run].as_py()
    told = [line for line in trace.story if line.text.startswith("Redland")]
    # a choice a step, holds included, each with the model's reason
    assert len(told) == trace.run.steps
    assert all(line.why.startswith("the policy picks ") for line in told)

    # the paths to an outcome, over the same runs, ask nothing either
    fake.reset()
    paths = redline.why(TINY, "war", RUNS, seed=9, llm=endpoint(fake), llm_store=store)
    assert fake.policy.requests == 0
    hits = pc.sum(pc.greater_equal(first.table["first.war"], 0)).as_py() or 0
    assert paths.hits == hits


def test_a_run_stopped_by_its_endpoint_goes_on_where_it_stopped(
    fake: FakeModel, tmp_path: Path
) -> None:
    reference = redline.simulate(TINY, RUNS, seed=3, llm=endpoint(fake))
    total = fake.policy.requests
    store = tmp_path / "resumed.duckdb"
    # the endpoint fails after the first step's answers: the run stops with a message
    fake.reset(fail=[200] * RUNS + [500] * 200)
    with pytest.raises(UserError, match="the same command asks only the rest"):
        redline.simulate(TINY, RUNS, seed=3, llm=endpoint(fake, max_retries=0), llm_store=store)
    kept = StoreCache(Store(store)).count()
    assert kept >= RUNS
    fake.reset()
    resumed = redline.simulate(TINY, RUNS, seed=3, llm=endpoint(fake), llm_store=store)
    assert fake.policy.requests == total - kept
    assert resumed.table.equals(reference.table)


def test_without_an_endpoint_nothing_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(redline.RedlineValueError, match="no endpoint is configured"):
        redline.simulate(TINY, 3)
    with pytest.raises(redline.RedlineTypeError, match=r"llm must be a redline\.llm\.Endpoint"):
        redline.simulate(TINY, 3, llm="http://127.0.0.1:9/v1")  # type: ignore[arg-type]
