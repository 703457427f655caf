"""What a decision-maker that reads the story so far is shown — what happened since its last
decision, the rung, the credibility of the red lines it would cross — is the same whether the
run is computed in a batch by the NumPy kernel or alone by the reference interpreter, so a
language model is asked the same question (and its cached answer serves both)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

import redline
from redline import Situation


class Recorder:
    """Picks an available action from its keyed draw, and records what it was shown."""

    history = True

    def __init__(self) -> None:
        self.seen: dict[tuple[int, int], Any] = {}

    def decide(self, s: Situation) -> NDArray[np.int64]:
        assert s.recent is not None and s.level is not None
        out = np.zeros(s.n, dtype=np.int64)
        for i, run in enumerate(s.runs):
            shown = {k: float(v[i]) for k, v in s.credibility.items()}
            self.seen[(int(run), s.step)] = (s.recent[i], int(s.level[i]), shown, s.crosses)
            choices = np.flatnonzero(s.available[i])
            out[i] = choices[int(s.uniform[i] * len(choices))]
        return out


def test_the_batch_and_the_single_run_see_the_same_story() -> None:
    batch = Recorder()
    redline.simulate("nato-russia", 8, seed=3, decision_makers={"RUS": batch}, chunk_size=3)
    told = sum(len(v[0]) for v in batch.seen.values())
    assert told > 8 * 10  # reactions and others' choices, not only its own
    assert any(h.kind == "red_line" for v in batch.seen.values() for h in v[0])
    assert any(v[2] for v in batch.seen.values())  # red lines it faced, with credibility
    for run in (0, 7):
        alone = Recorder()
        redline.trace("nato-russia", seed=3, run=run, decision_makers={"RUS": alone})
        assert alone.seen == {k: v for k, v in batch.seen.items() if k[0] == run}


class Plain:
    """A decision-maker that does not ask for the story: it is given none."""

    def __init__(self) -> None:
        self.recent: list[object] = []

    def decide(self, s: Situation) -> NDArray[np.int64]:
        self.recent.append(s.recent)
        return np.zeros(s.n, dtype=np.int64)


def test_a_decision_maker_that_does_not_ask_is_not_told() -> None:
    plain = Plain()
    redline.simulate("convoy-strike", 5, decision_makers={"RUS": plain})
    assert plain.recent and all(r is None for r in plain.recent)
