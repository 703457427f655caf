"""Properties: printing round-trips, and the compiled engine equals the scalar evaluator."""

from __future__ import annotations

from typing import Any

import numpy as np
from expr_support import RUNS, SYMBOLS, TAGS, OneRun, make_arrays, typed_exprs
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from redline.engine.scalar import evaluate
from redline.engine.vectorised import Layout, compile_expr
from redline.scenario.expr import MAX_CHARS, Expr, Type, check, parse, to_source

LAYOUT = Layout(tags=TAGS)


@settings(max_examples=300, deadline=None)
@given(typed_exprs(4))
def test_print_then_parse_gives_the_same_tree(case: tuple[Expr, Type]) -> None:
    expr, expected_type = case
    source = to_source(expr)
    assume(len(source) <= MAX_CHARS)
    assert parse(source) == expr
    assert to_source(parse(source)) == source
    assert check(expr, SYMBOLS) is expected_type


def _same_bits(got: Any, want: Any) -> bool:
    """Element-wise identical float64 arrays (NaN equals NaN, 0.0 differs from -0.0)."""
    nan = np.isnan(got)
    if not np.array_equal(nan, np.isnan(want)):
        return False
    return bool(np.array_equal(got[~nan].view(np.uint64), want[~nan].view(np.uint64)))


def _assert_matches_scalar(expr: Expr, expected: Type, mode: str, seed: int, dtype: Any) -> None:
    arrays = make_arrays(seed, dtype)
    compiled = compile_expr(expr, LAYOUT, "actions[3].effects.x", mode)  # type: ignore[arg-type]
    result = compiled(arrays)
    scalars = [
        evaluate(expr, OneRun(arrays, r), "actions[3].effects.x", mode)  # type: ignore[arg-type]
        for r in range(RUNS)
    ]
    if mode == "sample" and expected is Type.BOOL:
        assert np.asarray(result).dtype == np.bool_
        assert all(isinstance(s, bool) for s in scalars)
        got = np.broadcast_to(result, (RUNS,))
        assert np.array_equal(got, np.array(scalars, dtype=np.bool_)), (got, scalars)
    else:
        assert np.asarray(result).dtype == np.float64
        assert not any(isinstance(s, bool) for s in scalars)
        got = np.broadcast_to(result, (RUNS,))
        want = np.array(scalars, dtype=np.float64)
        assert _same_bits(got, want), (to_source(expr), got, want)


@settings(max_examples=200, deadline=None)
@given(
    typed_exprs(3),
    st.integers(0, 2**32),
    st.sampled_from([np.int32, np.float64]),
)
def test_compiled_equals_scalar_in_sample_mode(
    case: tuple[Expr, Type], seed: int, dtype: Any
) -> None:
    _assert_matches_scalar(case[0], case[1], "sample", seed, dtype)


@settings(max_examples=200, deadline=None)
@given(typed_exprs(3), st.integers(0, 2**32))
def test_compiled_equals_scalar_in_mean_mode(case: tuple[Expr, Type], seed: int) -> None:
    _assert_matches_scalar(case[0], case[1], "mean", seed, np.int32)


@settings(max_examples=100, deadline=None)
@given(typed_exprs(3), st.integers(0, 2**32))
def test_result_does_not_depend_on_chunking(case: tuple[Expr, Type], seed: int) -> None:
    """Evaluating runs one at a time gives the same bits as the whole chunk at once."""
    expr, _ = case
    arrays = make_arrays(seed)
    compiled = compile_expr(expr, LAYOUT, "site", "sample")
    whole = np.broadcast_to(compiled(arrays), (RUNS,))
    for r in (0, 7, RUNS - 1):
        draws = type(arrays.draws)(
            arrays.draws.seed, arrays.draws.step, arrays.draws.runs[r : r + 1]
        )
        single = type(arrays)(
            {k: v[r : r + 1] for k, v in arrays.values.items()},
            arrays.now[r : r + 1],
            arrays.ever[r : r + 1],
            arrays.count[r : r + 1],
            draws,
            {k: v[r : r + 1] for k, v in arrays.chosen.items()},
            {k: v[r : r + 1] for k, v in arrays.beliefs.items()},
        )
        one = np.broadcast_to(compiled(single), (1,))
        if whole.dtype == np.bool_:
            assert one[0] == whole[r]
        else:
            assert _same_bits(one, whole[r : r + 1])
