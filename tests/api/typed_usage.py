"""A user's script: the Python API as the README shows it, type-checked under ``mypy --strict``
by ``test_api_typing.py`` (which also runs it). Not a test module itself."""

from __future__ import annotations

from typing import reveal_type

import numpy as np
from numpy.typing import NDArray

import redline


class Hawk:
    """Strikes the convoy wherever it can, else holds."""

    def decide(self, situation: redline.Situation) -> NDArray[np.int64]:
        k = situation.actions.index("strike_convoy")
        return np.where(situation.available[:, k], k, 0).astype(np.int64)


def main() -> None:
    scenario: redline.Scenario = redline.load("convoy-strike")
    results: redline.Results = redline.simulate(
        scenario, 200, seed=1, levers={"nato_response": "none"}, chunk_size=100
    )
    print(results)
    for outcome in results.summary():
        p: float = outcome.p
        first: float | None = outcome.mean_first_step
        print(f"{outcome.name}: {p:.3f} ({outcome.lo:.3f}–{outcome.hi:.3f}), first {first}")

    summary: redline.Summary = results.summary()  # a table: to_pandas(), to_arrow()
    print(summary.to_arrow().num_rows, summary[0].name)

    told: redline.Story = redline.story(scenario, seed=1, run=3)  # under the first lens
    print(told.caption, len(told), told.ending)

    traced: redline.Trace = redline.trace(scenario, seed=1, run=3)
    steps: int = traced.run.steps
    print(traced, steps)
    for line in traced.story:
        print(line.when, line.text)

    makers: dict[str, redline.DecisionMaker] = {"RUS": Hawk()}
    hawkish = redline.simulate(scenario, 100, decision_makers=makers, backend="reference")
    print(hawkish.to_json()["outcomes"])

    paths: redline.Paths = redline.why(scenario, "war", 300, seed=1)
    share: float = paths.routes[0].share if paths.routes else 0.0
    print(f"{paths.outcome}: {paths.hits} of {paths.runs}; top path {share:.0%}")

    try:
        redline.simulate(scenario, 0)
    except ValueError as exc:
        print(exc)

    reveal_type(redline.simulate)
    reveal_type(redline.trace)


if __name__ == "__main__":
    main()
