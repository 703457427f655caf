"""The order executors hand units back in: however the units finish, strict mode stops at the
earliest unit with numerical trouble, so the message is the same on one core or many."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redline.engine.trouble import NumericalTrouble
from redline.experiment.executors import UnitResult, _windowed


@given(
    n=st.integers(1, 12),
    window=st.integers(1, 5),
    troubled=st.sets(st.integers(0, 11), max_size=4),
    data=st.data(),
)
def test_strict_stops_at_the_earliest_troubled_unit_whatever_finishes_first(
    n: int, window: int, troubled: set[int], data: st.DataObject
) -> None:
    """Units finish in any order (any non-empty set of those in flight at a time): without
    trouble each comes back once; with it, the error raised is the earliest troubled unit's,
    every unit before it came back, none came back twice, and at most ``window`` were in
    flight at once."""
    troubled = {t for t in troubled if t < n}
    started: list[int] = []
    in_flight: set[int] = set()
    widest = 0

    def submit(task: int) -> int:
        nonlocal widest
        started.append(task)
        in_flight.add(task)
        widest = max(widest, len(in_flight))
        return task

    def wait_any(pending: set[int]) -> set[int]:
        done = data.draw(st.sets(st.sampled_from(sorted(pending)), min_size=1))
        in_flight.difference_update(done)
        return done

    def result(task: int) -> Any:
        if task in troubled:
            raise NumericalTrouble(f"trouble in unit {task}")
        return task

    tasks: Any = range(n)  # stand-ins: the scheduling never looks inside a task
    got: list[UnitResult] = []
    if not troubled:
        got.extend(_windowed(submit, wait_any, result, tasks, window))
        assert sorted(got) == list(range(n))  # type: ignore[type-var]
    else:
        first = min(troubled)
        with pytest.raises(NumericalTrouble, match=f"^trouble in unit {first}$"):
            for r in _windowed(submit, wait_any, result, tasks, window):
                got.append(r)
        assert set(range(first)) <= set(got)  # type: ignore[arg-type]
        assert len(got) == len(set(got))  # type: ignore[arg-type]
    assert started == sorted(started) and len(started) == len(set(started))
    assert widest <= window
