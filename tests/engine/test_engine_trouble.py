"""Numerical trouble (docs/engine.md "Numerical trouble"): NaN and out-of-range probabilities
and NaN state are counted per element, the same on every backend and equal to a count made
directly from the drawn parameters; results do not change because they are counted; strict
mode stops with a message naming the step, run, element and value.

Each check runs once per registered backend (the ``backend`` fixture).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from engine_support import assert_same_chunks, on_backend, program_from, runs, scenario_dict
from hypothesis import given, settings
from hypothesis import strategies as st

from redline.compile import Program
from redline.core.primitives import libm
from redline.engine.reference import run_reference_chunk
from redline.engine.semantics import ChunkResult
from redline.engine.trouble import (
    NAN_PROBABILITY,
    NAN_STATE,
    OUT_OF_RANGE,
    NumericalTrouble,
    Trouble,
    checks,
    rows,
    strict_check,
)

F = np.float64


#: the formulas' shapes, in the scenario language and in Python (``a``, ``b``, ``c`` are the
#: formula's scenario parameters; ``k`` the run's drawn uncertainty): each is sometimes NaN,
#: sometimes outside [0, 1], sometimes fine. Values are parameters, so a program's structure —
#: and the fused engine's compiled loop — depends only on the dynamic's shape.
SHAPES: list[tuple[str, Callable[[F, int, F, F, F], F]]] = [
    ("k * 0 + {a}", lambda k, t, a, b, c: k * F(0) + a),
    ("k * {a}", lambda k, t, a, b, c: k * a),
    ("(k - {b}) / (step - {c})", lambda k, t, a, b, c: (k - b) / (F(t) - c)),
    ("log(k - {b})", lambda k, t, a, b, c: F(libm("log")(k - b))),
    ("sqrt(k - {b})", lambda k, t, a, b, c: F(np.sqrt(k - b))),
    ("1 / (k - k) * {a}", lambda k, t, a, b, c: F(1) / (k - k) * a),
    ("k * step * {a}", lambda k, t, a, b, c: k * F(t) * a),
]


@dataclass(frozen=True)
class Formula:
    """A formula of one shape (:data:`SHAPES`) with its parameters' names and values."""

    shape: int
    name: str
    a: float
    b: float
    c: float

    @property
    def text(self) -> str:
        n = self.name
        return SHAPES[self.shape][0].format(a=f"{n}_a", b=f"{n}_b", c=f"{n}_c")

    @property
    def parameters(self) -> list[dict[str, Any]]:
        return [{"id": f"{self.name}_{x}", "value": getattr(self, x)} for x in "abc"]

    def value(self, k: float, t: int) -> float:
        with np.errstate(all="ignore"):
            return float(SHAPES[self.shape][1](F(k), t, F(self.a), F(self.b), F(self.c)))


@st.composite
def formulas(draw: st.DrawFn, name: str, shape: int | None = None) -> Formula:
    return Formula(
        draw(st.integers(0, len(SHAPES) - 1)) if shape is None else shape,
        name,
        draw(st.sampled_from([0.0, 0.3, 1.0, 1.5, 3.0, -0.2, -2.0, 1e300])),
        draw(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0])),
        float(draw(st.integers(0, 5))),
    )


def _scenario(
    probabilities: list[Formula], dynamic: Formula, stop: int, horizon: int
) -> dict[str, Any]:
    """Rules that try every step with the given probabilities, a variable that takes the
    dynamic's value every step, and an outcome that ends the runs with k < 0.5 at ``stop``
    (their later steps must not be counted)."""
    return scenario_dict(
        time={"step": "month", "horizon": horizon},
        parameters=[p for f in (*probabilities, dynamic) for p in f.parameters],
        uncertainties=[{"id": "k", "distribution": {"kind": "uniform", "low": -0.5, "high": 1.5}}],
        variables=[{"id": "n", "initial": 0}, {"id": "y", "initial": 0}],
        dynamics=[{"id": "d", "variable": "y", "value": dynamic.text}],
        rules=[
            {"id": f.name, "when": "true", "probability": f.text, "effects": {"n": 1}}
            for f in probabilities
        ],
        outcomes=[{"id": "stop", "when": f"step >= {stop} and k < 0.5", "absorbing": True}],
    )


def direct_count(
    program: Program,
    drawn: np.ndarray,
    run_ids: np.ndarray,
    probabilities: list[Formula],
    dynamic: Formula,
    stop: int,
) -> dict[tuple[str, str], tuple[int, int, tuple[int, int, float]]]:
    """Per (problem, element): occurrences, runs, first (run, step, value) — counted from the
    drawn k of each run, the steps each run lasts and the formulas in Python."""
    found: dict[tuple[str, str], list[tuple[int, int, float]]] = {}
    with np.errstate(all="ignore"):
        for run, k in zip(run_ids, drawn, strict=True):
            last = stop if k < 0.5 else program.horizon - 1
            for t in range(min(last, program.horizon - 1) + 1):
                for f in probabilities:
                    p = f.value(float(k), t)
                    if math.isnan(p):
                        found.setdefault((NAN_PROBABILITY, f.name), []).append((run, t, p))
                    elif not 0.0 <= p <= 1.0:
                        found.setdefault((OUT_OF_RANGE, f.name), []).append((run, t, p))
                y = dynamic.value(float(k), t)
                if math.isnan(y):
                    found.setdefault((NAN_STATE, "y"), []).append((run, t, y))
    return {
        key: (len(hits), len({h[0] for h in hits}), min(hits, key=lambda h: (h[0], h[1])))
        for key, hits in found.items()
    }


def counted(program: Program, trouble: Trouble) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {
        (r.problem, r.element): (r.occurrences, r.runs, (r.first_run, r.first_step, r.first_value))
        for r in rows(program, trouble)
    }


def same_value(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def assert_same_trouble(a: Trouble | None, b: Trouble | None, context: str) -> None:
    assert a is not None and b is not None, f"no trouble counts ({context})"
    for name in ("occurrences", "runs", "first_run", "first_step", "per_run"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), f"{name} differs ({context})"
    assert np.array_equal(a.first_value, b.first_value, equal_nan=True), (
        f"first values differ ({context})"
    )


#: examples of the random check per backend: every example has every probability shape at
#: once, and each is a new program the fused engine compiles (about a second of CPU where its
#: cache is cold, as in CI), so it gets fewer than the kernels, whose examples cost little
EXAMPLES = {"numba": 10}


def test_counts_equal_a_direct_count_and_the_reference(backend: str) -> None:
    """Every probability shape at once (one rule each), with values that make it NaN, out of
    range or fine, and a dynamic of any shape: the counts per element, the runs and the first
    occurrence equal a count made from each run's drawn k; the NumPy and fused engines' counts
    equal the reference's, array for array, and so do their results."""

    # the same scenarios every session: the fused engine compiles each once per machine
    @settings(max_examples=EXAMPLES.get(backend, 30), derandomize=True)
    @given(
        probabilities=st.tuples(*(formulas(f"r{i}", i) for i in range(len(SHAPES)))),
        dynamic=formulas("d"),
        stop=st.integers(0, 5),
        seed=st.integers(0, 2**32),
    )
    def check(probabilities: tuple[Formula, ...], dynamic: Formula, stop: int, seed: int) -> None:
        program = program_from(_scenario(list(probabilities), dynamic, stop, horizon=6))
        ids = runs(40, start=seed % 1000)
        got = on_backend(backend, program, seed, ids)
        expected = direct_count(program, got.params["k"], ids, list(probabilities), dynamic, stop)
        found = counted(program, got.trouble) if got.trouble is not None else {}
        assert found.keys() == expected.keys()
        for key, (times, nruns, first) in expected.items():
            g_times, g_runs, g_first = found[key]
            assert (g_times, g_runs) == (times, nruns), key
            assert g_first[:2] == first[:2] and same_value(g_first[2], first[2]), key
        assert got.trouble is not None
        assert got.trouble.per_run.sum() == got.trouble.occurrences.sum()
        if backend != "reference":
            expected_chunk = run_reference_chunk(program, seed, ids)
            assert_same_chunks(got, expected_chunk, backend)
            assert_same_trouble(got.trouble, expected_chunk.trouble, backend)

    check()


def test_behaviour_is_kept_nan_never_fires_above_one_always_does(backend: str) -> None:
    """Counting changes no result: a NaN probability never fires, one above 1 always does,
    one below 0 never does (the same as clipping to [0, 1] with NaN as 0)."""
    data = scenario_dict(
        time={"step": "month", "horizon": 4},
        variables=[{"id": f"n_{name}", "initial": 0} for name in ("nan", "big", "neg")],
        rules=[
            {"id": "nan", "when": "true", "probability": "0 * (1 / (step - step))",
             "effects": {"n_nan": 1}},
            {"id": "big", "when": "true", "probability": "3 + 0 * step", "effects": {"n_big": 1}},
            {"id": "neg", "when": "true", "probability": "step * 0 - 0.5",
             "effects": {"n_neg": 1}},
        ],
    )  # fmt: skip
    program = program_from(data)
    got = on_backend(backend, program, 1, runs(30))
    assert got.final[:, 0].tolist() == [0.0] * 30
    assert got.final[:, 1].tolist() == [4.0] * 30
    assert got.final[:, 2].tolist() == [0.0] * 30
    assert got.trouble is not None
    found = {(r.problem, r.element): r for r in rows(program, got.trouble)}
    assert sorted(found) == [
        (NAN_PROBABILITY, "nan"),
        (OUT_OF_RANGE, "big"),
        (OUT_OF_RANGE, "neg"),
    ]
    assert all(r.occurrences == 4 * 30 and r.runs == 30 for r in found.values())
    assert found[(OUT_OF_RANGE, "big")].first_value == 3.0


def test_a_scheduled_event_and_a_clean_scenario(backend: str) -> None:
    """A scheduled event's probability is checked at its step; a scenario without trouble
    reports none (no false warnings)."""
    data = scenario_dict(
        time={"step": "month", "horizon": 5},
        schedule=[{"id": "vote", "step": 2, "probability": "1.25 + 0 * step", "tags": ["voted"]}],
        rules=[{"id": "fine", "when": "true", "probability": 0.5, "tags": ["x"]}],
    )
    program = program_from(data)
    got = on_backend(backend, program, 3, runs(25))
    assert got.trouble is not None
    (row,) = rows(program, got.trouble)
    assert (row.kind, row.element, row.problem) == ("scheduled event", "vote", OUT_OF_RANGE)
    assert (row.occurrences, row.runs, row.first_run, row.first_step) == (25, 25, 0, 2)
    clean = program_from(scenario_dict(rules=data["rules"]))
    trouble = on_backend(backend, clean, 3, runs(25)).trouble
    assert trouble is not None and not trouble.any


def test_strict_names_the_step_run_element_and_value(backend: str) -> None:
    data = scenario_dict(
        time={"step": "month", "horizon": 6},
        variables=[{"id": "x", "initial": 0.5}],
        rules=[
            {
                "id": "late",
                "when": "step >= 3",
                "probability": "x * 4",
                "effects": {"x": 0.0},
            }
        ],
    )
    program = program_from(data)
    got: ChunkResult = on_backend(backend, program, 0, runs(10, start=7))
    with pytest.raises(NumericalTrouble) as caught:
        strict_check(program, got.trouble)
    message = str(caught.value)
    assert "step 3 of run 7" in message
    assert "rule 'late'" in message and "2.0" in message and "always fires" in message
    assert "\n" not in message


def test_checks_name_every_element_kind() -> None:
    """Each probability and variable has its checks, named as the user wrote them."""
    data = scenario_dict(
        variables=[{"id": "x", "initial": 0}],
        schedule=[{"id": "vote", "step": 1, "probability": 0.5}],
        rules=[{"id": "r", "when": "true", "probability": 0.5}],
    )
    program = program_from(data)
    names = [(c.problem, c.label) for c in checks(program)]
    assert names == [
        (NAN_PROBABILITY, "scheduled event 'vote'"),
        (OUT_OF_RANGE, "scheduled event 'vote'"),
        (NAN_PROBABILITY, "rule 'r'"),
        (OUT_OF_RANGE, "rule 'r'"),
        (NAN_STATE, "variable 'x'"),
    ]


def test_chunks_merge_into_the_counts_of_one_chunk(backend: str) -> None:
    """The counts do not depend on the chunking: chunks of a few runs, merged, give the counts
    and first occurrences of all the runs in one chunk."""
    formulas = [Formula(shape, f"r{shape}", 0.3, 0.5, 2.0) for shape in range(len(SHAPES))]
    program = program_from(_scenario(formulas, Formula(3, "d", 0.0, 0.5, 0.0), 2, horizon=5))
    whole = on_backend(backend, program, 5, runs(24)).trouble
    parts = [on_backend(backend, program, 5, runs(6, start=a)).trouble for a in (18, 0, 12, 6)]
    assert whole is not None and all(p is not None for p in parts)
    merged = Trouble.merge(p for p in parts if p is not None)
    whole.per_run = merged.per_run
    assert whole.any
    assert_same_trouble(merged, whole, f"{backend}: merged chunks")
