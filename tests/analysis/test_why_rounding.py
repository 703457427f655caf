"""``why`` on an event that every run which missed the outcome had from the start: its rate by
the hits' steps is a weighted mean of ones, which floating-point rounding can put a hair above 1;
the statistics must still come out (a crash here stopped `redline ablate nato-russia` under the
invitation lever)."""

from __future__ import annotations

import numpy as np

from redline.analysis.why import Event, _event_stats, _Tally

#: hits per step whose shares sum (in floating point) to 1.0000000000000002
HIT_STEPS = [7, 25, 44, 46, 13, 3, 24, 42, 31, 3, 32, 17, 11, 21, 43, 48, 7, 28, 38, 12, 13, 12]
HIT_STEPS += [10, 44, 10, 11, 6, 6]


def test_an_event_every_miss_had_gives_finite_statistics() -> None:
    horizon = len(HIT_STEPS)
    weights = np.array(HIT_STEPS) / sum(HIT_STEPS)
    assert float(np.ones(horizon) @ weights) > 1.0  # the rounding this test is about
    tally = _Tally(np.array([True]), horizon, 1, 0, "int16")
    n_hit, n_not = sum(HIT_STEPS), 500
    tally.runs, tally.hits = n_hit + n_not, n_hit
    tally.hit_steps[:] = HIT_STEPS
    tally.before[:] = n_hit
    tally.not_at[0, 0] = n_not  # every run that missed had the event at step 0
    event = Event("rule:r/fired", "rule:r", "rule", "fired", "rule r fired", "rules.r", (0,))
    (stat,) = _event_stats((event,), tally, 2.0)
    assert stat.share == 1.0
    assert stat.p_not == 1.0
    assert stat.lift == 1.0 and not stat.on_route
