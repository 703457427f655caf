"""Plugged-in decision-makers: asked once a step with a batch of live runs, the same answers on
every backend, chunk size and worker count, and clear errors for answers that are not choices."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from numpy.typing import NDArray

import redline
from redline.engine.deciders import DecisionMaker, Situation
from redline.errors import UserError
from redline.results import Results

SCENARIO = "convoy-strike"


@dataclass
class RandomAvailable:
    """Picks uniformly among the available candidates, from each run's own keyed draw."""

    def decide(self, situation: Situation) -> NDArray[np.int64]:
        counts = situation.available.sum(axis=1)
        nth = np.minimum((situation.uniform * counts).astype(np.int64), counts - 1)
        order = np.cumsum(situation.available, axis=1) - 1
        return np.argmax((order == nth[:, None]) & situation.available, axis=1).astype(np.int64)


@dataclass
class Always:
    """Takes one action wherever it is available, else holds."""

    action: str

    def decide(self, situation: Situation) -> NDArray[np.int64]:
        k = situation.actions.index(self.action)
        return np.where(situation.available[:, k], k, 0).astype(np.int64)


@dataclass
class Recording:
    """Holds, and remembers the size of each batch it was asked with."""

    sizes: list[int] = field(default_factory=list)

    def decide(self, situation: Situation) -> NDArray[np.int64]:
        assert situation.actions[0] == "hold" and situation.available[:, 0].all()
        assert situation.utility.shape == situation.available.shape
        assert all(v.shape == (situation.n,) for v in situation.state.values())
        self.sizes.append(situation.n)
        return np.zeros(situation.n, dtype=np.int64)


@dataclass
class Answer:
    """Answers whatever it is told to (for the error tests)."""

    make: str

    def decide(self, situation: Situation) -> object:
        n = situation.n
        return {
            "short": np.zeros(n - 1, dtype=np.int64),
            "float": np.zeros(n),
            "outside": np.full(n, len(situation.actions)),
            "unavailable": np.argmin(situation.available, axis=1),
        }[self.make]


def run(makers: dict[str, DecisionMaker], **kw: object) -> Results:
    options = {"runs": 300, "seed": 5, "levers": {"nato_response": "collective"}, **kw}
    return redline.simulate(SCENARIO, decision_makers=makers, **options)


def test_engine_equals_reference_with_a_plugged_in_decision_maker() -> None:
    makers: dict[str, DecisionMaker] = {"RUS": RandomAvailable(), "POL": RandomAvailable()}
    engine = run(makers)
    reference = run(makers, backend="reference")
    assert engine.table.equals(reference.table)
    # and the decision-maker really decides: the runs differ from the scenario's own logit actors
    assert not engine.table.equals(run({}).table)


@pytest.mark.parametrize("options", [{"chunk_size": 7}, {"workers": 2, "chunk_size": 64}])
def test_plugged_in_results_do_not_depend_on_chunks_or_workers(options: dict[str, int]) -> None:
    makers: dict[str, DecisionMaker] = {"RUS": RandomAvailable()}
    assert run(makers, **options).table.equals(run(makers).table)


def test_asked_once_a_step_for_every_live_run_in_one_batch() -> None:
    maker = Recording()
    results = run({"RUS": maker}, runs=500, chunk_size=500)
    assert sum(maker.sizes) == int(np.sum(results.table.column("steps").to_numpy()))
    assert max(maker.sizes) == 500  # the whole chunk at once, not run by run


def test_the_story_shows_the_plugged_in_choices() -> None:
    result = redline.trace(SCENARIO, seed=2, decision_makers={"RUS": Always("offensive")}).run
    chosen = [
        h.id
        for step in result.log
        for h in step.happenings
        if h.kind == "decision" and h.actor == "RUS"
    ]
    assert chosen and set(chosen) <= {"offensive", "hold"}
    assert "offensive" in chosen


@pytest.mark.parametrize(
    ("make", "message"),
    [
        ("short", "expected 300 choices"),
        ("float", "choices must be integers"),
        ("outside", "is not a candidate position"),
        ("unavailable", "whose requirements do not hold"),
    ],
)
def test_answers_that_are_not_choices_are_refused(make: str, message: str) -> None:
    with pytest.raises(UserError, match=message) as caught:
        run({"RUS": Answer(make)}, chunk_size=300)
    assert "decision-maker of RUS at step 0" in str(caught.value)


def test_unknown_actor_and_non_decision_makers_are_refused() -> None:
    with pytest.raises(UserError, match="unknown actor 'RUZ'; did you mean 'RUS'"):
        run({"RUZ": RandomAvailable()})
    with pytest.raises(UserError, match="has no decide"):
        run({"RUS": object()})  # type: ignore[dict-item]
