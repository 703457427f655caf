"""Determinism (DESIGN §7): a run's result depends only on (scenario, levers, lens, seed, run).

Not on the chunk size, the number of worker processes, the backend, repetition, or which other
runs share its chunk. Each check runs once per registered backend (the ``backend`` fixture), the
reference interpreter on fewer runs.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from engine_support import (
    backend_vs_reference,
    load_dict,
    on_backend,
    program_of,
    require,
    runs,
    sized,
)
from test_engine_differential import _builtin
from test_engine_oracles import chicken

import redline
from redline.engine.reference import run_reference_chunk
from redline.scenario.loader import builtin_scenarios
from redline.scenario.model import Scenario

BUILTINS = sorted(builtin_scenarios())


def _assert_tables_equal(a: pa.Table, b: pa.Table, what: str) -> None:
    assert a.schema == b.schema, f"{what}: schemas differ"
    assert a.num_rows == b.num_rows, f"{what}: {a.num_rows} vs {b.num_rows} rows"
    for name in a.column_names:
        x, y = a.column(name), b.column(name)
        assert x.equals(y), f"{what}: column {name} differs"
    assert a.equals(b), what


@pytest.fixture(scope="module", params=BUILTINS)
def builtin(request: pytest.FixtureRequest) -> Scenario:
    return redline.load(request.param)


def test_there_are_builtin_scenarios() -> None:
    assert BUILTINS, "no built-in scenarios found"


def test_chunk_sizes_do_not_change_results(builtin: Scenario, backend: str) -> None:
    require(backend, program_of(builtin))
    n = sized(backend, 1200, 12)
    base = redline.simulate(builtin, n, seed=17, chunk_size=10_000, backend=backend).table
    other = redline.simulate(builtin, n, seed=17, chunk_size=n * 5 // 6, backend=backend).table
    _assert_tables_equal(base, other, f"chunk size {n * 5 // 6}")
    # small chunks on a prefix of the runs (each chunk costs a whole simulation's overhead)
    for size, count in ((7, min(24, n)), (1, 3)):
        small = redline.simulate(builtin, count, seed=17, chunk_size=size, backend=backend).table
        _assert_tables_equal(base.slice(0, count), small, f"chunk size {size}")


def test_repeated_simulations_are_identical(builtin: Scenario, backend: str) -> None:
    require(backend, program_of(builtin))
    n = sized(backend, 300, 8)
    a = redline.simulate(builtin, n, seed=3, backend=backend).table
    b = redline.simulate(builtin, n, seed=3, backend=backend).table
    _assert_tables_equal(a, b, "repeat")
    c = redline.simulate(builtin, n, seed=4, backend=backend).table
    # a different seed gives a different sample (so the equalities above can fail)
    assert not c.drop(["run"]).equals(a.drop(["run"]))


def test_worker_processes_do_not_change_results(builtin: Scenario, backend: str) -> None:
    require(backend, program_of(builtin))
    n, chunk = sized(backend, 1200, 12), sized(backend, 300, 4)
    one = redline.simulate(builtin, n, seed=5, chunk_size=chunk, workers=1, backend=backend)
    two = redline.simulate(builtin, n, seed=5, chunk_size=chunk, workers=2, backend=backend)
    _assert_tables_equal(one.table, two.table, "workers 2")
    assert two.table.column("run").to_pylist() == list(range(n))


@cache
def _on_reference(
    name: str,
    n: int,
    seed: int,
    levers: tuple[tuple[str, str], ...] = (),
    lens: str | None = None,
    chunk_size: int | None = None,
) -> pa.Table:
    """The reference interpreter's table of a built-in scenario, made once per test process for
    every backend compared with it."""
    options: dict[str, Any] = {"chunk_size": chunk_size} if chunk_size else {}
    scenario = _builtin(name)
    return redline.simulate(
        scenario,
        n,
        seed=seed,
        levers=dict(levers) or None,
        lens=lens,
        backend="reference",
        **options,
    ).table


def test_backends_give_the_same_table(builtin: Scenario, backend: str) -> None:
    if backend == "reference":
        pytest.skip("the reference interpreter is the backend the others are compared with")
    require(backend, program_of(builtin))
    fast = redline.simulate(builtin, 12, seed=8, backend=backend, chunk_size=5).table
    slow = _on_reference(builtin.id, 12, 8, chunk_size=5)
    _assert_tables_equal(fast, slow, f"{backend} vs reference")
    # with every lens and the last option of every lever, too
    levers = {lever.id: lever.options[-1].id for lever in builtin.levers}
    for lens in [lz.id for lz in builtin.lenses]:
        fast = redline.simulate(builtin, 2, seed=2, levers=levers, lens=lens, backend=backend)
        slow = _on_reference(builtin.id, 2, 2, tuple(levers.items()), lens)
        _assert_tables_equal(fast.table, slow, f"lens {lens}")


def test_a_run_does_not_depend_on_its_chunk(builtin: Scenario, backend: str) -> None:
    program = program_of(builtin)
    # a run among n, alone, and in a window of runs (fewer on the reference interpreter, at a
    # tenth of a second per run of the larger scenarios)
    n, target, (start, stop) = (
        (10, 7, (4, 9)) if backend == "reference" else (1000, 123, (100, 150))
    )
    whole = on_backend(backend, program, 9, runs(n))
    alone = on_backend(backend, program, 9, np.array([target], dtype=np.int64))
    _assert_row(whole, target, alone, f"run {target} alone")
    window = on_backend(backend, program, 9, runs(stop - start, start=start))
    _assert_row(whole, target, window, f"run {target} in {start}..{stop - 1}", at=target - start)
    shuffled_ids = np.random.default_rng(0).permutation(n).astype(np.int64)
    shuffled = on_backend(backend, program, 9, shuffled_ids)
    order = np.argsort(shuffled_ids)
    for name in ("first_hit", "peak_level", "steps", "final"):
        assert np.array_equal(getattr(shuffled, name)[order], getattr(whole, name)), name
    ref = run_reference_chunk(program, 9, np.array([target], dtype=np.int64))
    _assert_row(whole, target, ref, f"reference run {target}")


def _assert_row(whole: object, index: int, part: object, what: str, at: int = 0) -> None:
    for name in ("first_hit", "peak_level", "steps", "final"):
        x = getattr(whole, name)[index]
        y = getattr(part, name)[at]
        assert np.array_equal(x, y), f"{what}: {name} {x!r} vs {y!r}"
    for key, values in whole.params.items():  # type: ignore[attr-defined]
        assert values[index] == part.params[key][at], f"{what}: param {key}"  # type: ignore[attr-defined]


def test_run_indices_beyond_the_first_chunk(builtin: Scenario, backend: str) -> None:
    """Large run indices (a resumed or distributed sweep) agree with the reference."""
    program = program_of(builtin)
    ids = np.array([10**6, 2**31 + 5, 10**12], dtype=np.int64)
    backend_vs_reference(backend, program, 1, ids, "large run indices")


def test_strategic_scenario_is_deterministic(tmp_path: Path, backend: str) -> None:
    """Equilibrium play (chose()) is solved per run: chunking does not change it."""
    s = load_dict(chicken(2.0), tmp_path)
    require(backend, program_of(s))
    n = sized(backend, 200, 40)
    base = redline.simulate(s, n, seed=1, chunk_size=1000, backend=backend).table
    for size, count in ((64, n), (7, 70 * n // 200), (1, 10 * n // 200)):
        _assert_tables_equal(
            base.slice(0, count),
            redline.simulate(s, count, seed=1, chunk_size=size, backend=backend).table,
            f"chicken, chunk size {size}",
        )
    if backend != "reference":
        _assert_tables_equal(
            base.slice(0, 12),
            redline.simulate(s, 12, seed=1, backend="reference").table,
            "chicken, reference",
        )


def test_results_table_shape(builtin: Scenario, backend: str) -> None:
    require(backend, program_of(builtin))
    n = sized(backend, 300, 10)
    res = redline.simulate(builtin, n, seed=0, backend=backend)
    table = res.table
    assert table.num_rows == n
    assert table.column("run").to_pylist() == list(range(n))
    horizon = builtin.time.horizon
    steps = table.column("steps").to_numpy()
    assert steps.min() >= 1 and steps.max() <= horizon
    for outcome in builtin.outcomes:
        first = table.column(f"first.{outcome.id}").to_numpy(zero_copy_only=False)
        hit = ~np.isnan(first.astype(float))
        assert np.all(first[hit] < steps[hit])
    summary = res.summary()
    assert [s.id for s in summary] == [o.id for o in builtin.outcomes]
    for s in summary:
        assert s.runs == n
        assert s.hits == int(
            np.sum(
                ~np.isnan(
                    table.column(f"first.{s.id}").to_numpy(zero_copy_only=False).astype(float)
                )
            )
        )
        assert s.p == s.hits / n
        assert 0 <= s.lo <= s.hi <= 1
