"""Remembering Numba's typing of built-in operations (what cuts a fused module's cold compile by
a quarter) gives Numba's own answers, raises its own errors, and comes off when the last user
leaves."""

from __future__ import annotations

import operator
import threading

import numba
import pytest
from numba.core import errors, types
from numba.core.registry import cpu_target

from redline.engine.fused.resolution import remembered


def _numba_own() -> object:
    return vars(types.Function).get("get_call_type")


def _resolve(op: object, *args: types.Type) -> object:
    context = cpu_target.typing_context
    context.refresh()
    fnty = context.resolve_value_type(op)
    return fnty.get_call_type(context, args, {})


def test_resolutions_are_numbas_own_and_found_once() -> None:
    cases = [
        (operator.add, types.float64, types.float64),
        (operator.lt, types.float64, types.int64),
        (operator.and_, types.int64, types.IntegerLiteral(8)),
        (operator.getitem, types.float64[::1], types.IntegerLiteral(3)),
    ]
    expected = [_resolve(*case) for case in cases]
    with remembered():
        first = [_resolve(*case) for case in cases]
        again = [_resolve(*case) for case in cases]
    assert first == expected
    # remembered, not recomputed (Numba builds an item access's signature anew each time)
    assert all(a is b for a, b in zip(first, again, strict=True))
    assert _resolve(*cases[-1]) is not _resolve(*cases[-1])


def test_a_failed_resolution_raises_numbas_error_inside_too() -> None:
    with pytest.raises(errors.TypingError), remembered():
        _resolve(operator.add, types.float64, types.unicode_type)


def test_compiled_code_is_the_same_inside() -> None:
    def f(x: float, k: int) -> float:
        return (x * 2.0 - k) / 3.0 if x < k else x**0.5

    inside = numba.njit(f)
    with remembered():
        values = [inside(x, 2) for x in (0.5, 4.0, float("nan"))]
    outside = numba.njit(f)
    assert [repr(v) for v in values] == [repr(outside(x, 2)) for x in (0.5, 4.0, float("nan"))]
    assert inside.nopython_signatures == outside.nopython_signatures


def test_the_patch_comes_off_when_the_last_user_leaves() -> None:
    before = _numba_own()
    entered, leave = threading.Barrier(3), threading.Event()

    def hold() -> None:
        with remembered():
            entered.wait()
            leave.wait()

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for thread in threads:
        thread.start()
    entered.wait()
    with remembered():  # nested in the others' use
        assert _numba_own() is not before
    assert _numba_own() is not before  # the threads are still inside
    leave.set()
    for thread in threads:
        thread.join()
    assert _numba_own() is before
