"""Every primitive of the table, on every evaluator: the reference's scalar walk, the NumPy
kernel's closures, the constant folder and the fused engine compute the same bits.

The table (``redline.core.primitives``) is the one place a function is declared; these checks
iterate over it, so a function added there is checked here without a new test.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redline.core.primitives import BINARY, FUNCTION_TABLE, UNARY, Primitive
from redline.engine.scalar import evaluate
from redline.engine.vectorised import Layout, compile_expr
from redline.scenario.expr import Symbols, Type, check_source, parse
from redline.scenario.expr.fold import fold

MATH = [p for p in FUNCTION_TABLE if p.family == "math"]
NAMES = ("x", "y", "z")
SYMBOLS = Symbols(names=dict.fromkeys(NAMES, Type.NUMBER))

#: finite values, the awkward ones among them (signed zeros, huge, tiny, negative)
values = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 1e-300, -1e-300, 700.0, -745.0, 1e300]),
    st.floats(-50, 50, allow_nan=False),
)


def _call(primitive: Primitive) -> str:
    arity = primitive.min_args
    return f"{primitive.name}({', '.join(NAMES[:arity])})"


class _One:
    """One run's environment for the scalar evaluator."""

    def __init__(self, bound: dict[str, float]) -> None:
        self.values = {k: np.float64(v) for k, v in bound.items()}
        self.now: set[str] = set()
        self.ever: set[str] = set()
        self.counts: dict[str, int] = {}


def _bits(value: Any) -> bytes:
    return np.asarray(value, dtype=np.float64).tobytes()


@pytest.mark.parametrize("primitive", MATH, ids=lambda p: p.name)
@settings(max_examples=60, deadline=None)
@given(data=st.lists(st.tuples(values, values, values), min_size=1, max_size=6))
def test_math_primitives_agree_on_every_evaluator(
    primitive: Primitive, data: list[tuple[float, float, float]]
) -> None:
    source = _call(primitive)
    tree = check_source(source, SYMBOLS, Type.NUMBER)
    columns = {name: np.array([row[i] for row in data]) for i, name in enumerate(NAMES)}
    compiled = compile_expr(tree, Layout(()), "site", "sample")
    vectorised = np.broadcast_to(compiled(SimpleNamespace(values=columns)), (len(data),))  # type: ignore[arg-type]
    for r, row in enumerate(data):
        bound = dict(zip(NAMES, row, strict=True))
        scalar = evaluate(tree, _One(bound), "site")  # type: ignore[arg-type]
        assert _bits(scalar) == _bits(vectorised[r]), (source, bound)
        with np.errstate(all="ignore"):
            try:
                folded = fold(parse(source), bound)
            except Exception:  # an overflowing constant is refused, not folded
                continue
        assert _bits(folded) == _bits(scalar), (source, bound)


@pytest.mark.parametrize("op", sorted(BINARY))
def test_every_operator_has_code_and_an_expectation(op: str) -> None:
    primitive = BINARY[op]
    assert primitive.apply is not None and primitive.code is not None
    assert "{0}" in primitive.code and "{1}" in primitive.code
    primitive.expectation()  # defined for every operator


def test_every_primitive_declares_what_each_evaluator_needs() -> None:
    for primitive in (*FUNCTION_TABLE, *UNARY.values(), *BINARY.values()):
        if primitive.family in ("event", "choice"):
            continue  # read from the run's tables by each backend
        assert primitive.apply is not None, primitive.name
        assert primitive.code is not None, primitive.name
        if primitive.family == "random":
            assert primitive.draw in ("uniform", "normal")
            assert "{draw}" in primitive.code and primitive.expect is not None


def test_the_fused_engine_writes_every_math_primitive(tmp_path: Path) -> None:
    """Each math primitive and arithmetic operator as a dynamic of one scenario: the fused
    engine equals the kernel to the bit (signed zeros and NaNs included)."""
    import yaml

    from redline.compile import compile_scenario
    from redline.engine import fused
    from redline.engine.kernel import run_chunk
    from redline.scenario.loader import load_scenario

    calls = [_call(p).replace("y", "2").replace("z", "4") for p in MATH]
    calls += [f"x {op} 1.5" for op in ("+", "-", "*", "/", "%", "**")]
    calls += ["-x", "x / (x - x)", "where(x < 0, -0.0 * x, x)"]
    variables = [{"id": "x"}] + [{"id": f"v{k}"} for k in range(len(calls))]
    dynamics = [{"id": "draw", "variable": "x", "value": "uniform(-3, 3)"}] + [
        {"id": f"d{k}", "variable": f"v{k}", "value": call} for k, call in enumerate(calls)
    ]
    data = {
        "id": "t",
        "title": "every math primitive",
        "time": {"step": "month", "horizon": 3},
        "actors": [{"id": "A", "decision": {"kind": "doctrine"}}],
        "variables": variables,
        "dynamics": dynamics,
        "outcomes": [{"id": "never", "when": "false"}],
    }
    path = tmp_path / "primitives.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    program = compile_scenario(load_scenario(path).scenario)
    runs = np.arange(200)
    a = fused.run_chunk(program, 5, runs)
    b = run_chunk(program, 5, runs)
    assert a.final.tobytes() == b.final.tobytes()
