"""The Aalen–Johansen estimator counts each step's events at once: the same floats, bit for bit,
as taking the runs one at a time in order of their times (the estimator as written before)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from redline.analysis.incidence import aalen_johansen


def one_run_at_a_time(
    times: np.ndarray, causes: np.ndarray, horizon: int, cause: int = 1
) -> np.ndarray:
    out = np.zeros(horizon)
    survival, total, at_risk = 1.0, 0.0, len(times)
    order = np.argsort(times, kind="stable")
    times, causes = times[order], causes[order]
    i = 0
    for t in range(horizon):
        j = i
        while j < len(times) and times[j] == t:
            j += 1
        events = causes[i:j]
        if at_risk > 0:
            total += survival * int(np.sum(events == cause)) / at_risk
            survival *= 1.0 - int(np.sum(events > 0)) / at_risk
        at_risk -= j - i
        i = j
        out[t] = total
    return out


@settings(deadline=None)
@given(
    horizon=st.integers(1, 12),
    runs=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 3)), max_size=60),
    cause=st.integers(1, 3),
)
def test_counted_at_once_equals_one_run_at_a_time(
    horizon: int, runs: list[tuple[int, int]], cause: int
) -> None:
    times = np.array([min(t, horizon - 1) for t, _ in runs], dtype=np.int64)
    causes = np.array([c for _, c in runs], dtype=np.int64)
    got = aalen_johansen(times, causes, horizon, cause)
    want = one_run_at_a_time(times, causes, horizon, cause)
    assert got.tobytes() == want.tobytes()
