"""Determinism (DESIGN §7): a run's result depends only on (scenario, levers, lens, seed, run).

Not on the chunk size, the number of worker processes, the backend, repetition, or which other
runs share its chunk.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from engine_support import assert_same_chunks, load_dict, program_of, runs
from test_engine_oracles import chicken

import redline
from redline.engine.kernel import run_chunk
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


def test_chunk_sizes_do_not_change_results(builtin: Scenario) -> None:
    n = 1200
    base = redline.simulate(builtin, n, seed=17, chunk_size=10_000).table
    other = redline.simulate(builtin, n, seed=17, chunk_size=1000).table
    _assert_tables_equal(base, other, "chunk size 1000")
    # small chunks on a prefix of the runs (each chunk costs a whole simulation's overhead)
    for size, count in ((7, 24), (1, 3)):
        small = redline.simulate(builtin, count, seed=17, chunk_size=size).table
        _assert_tables_equal(base.slice(0, count), small, f"chunk size {size}")


def test_repeated_simulations_are_identical(builtin: Scenario) -> None:
    a = redline.simulate(builtin, 300, seed=3).table
    b = redline.simulate(builtin, 300, seed=3).table
    _assert_tables_equal(a, b, "repeat")
    c = redline.simulate(builtin, 300, seed=4).table
    # a different seed gives a different sample (so the equalities above can fail)
    assert not c.drop(["run"]).equals(a.drop(["run"]))


def test_worker_processes_do_not_change_results(builtin: Scenario) -> None:
    n = 1200
    one = redline.simulate(builtin, n, seed=5, chunk_size=300, workers=1).table
    two = redline.simulate(builtin, n, seed=5, chunk_size=300, workers=2).table
    _assert_tables_equal(one, two, "workers 2")
    assert two.column("run").to_pylist() == list(range(n))


def test_backends_give_the_same_table(builtin: Scenario) -> None:
    fast = redline.simulate(builtin, 12, seed=8, backend="numpy", chunk_size=5).table
    slow = redline.simulate(builtin, 12, seed=8, backend="reference", chunk_size=5).table
    _assert_tables_equal(fast, slow, "numpy vs reference")
    # with every lens and the last option of every lever, too
    levers = {lever.id: lever.options[-1].id for lever in builtin.levers}
    for lens in [lz.id for lz in builtin.lenses]:
        fast = redline.simulate(builtin, 2, seed=2, levers=levers, lens=lens).table
        slow = redline.simulate(
            builtin, 2, seed=2, levers=levers, lens=lens, backend="reference"
        ).table
        _assert_tables_equal(fast, slow, f"lens {lens}")


def test_a_run_does_not_depend_on_its_chunk(builtin: Scenario) -> None:
    program = program_of(builtin)
    whole = run_chunk(program, 9, runs(1000))
    alone = run_chunk(program, 9, np.array([123], dtype=np.int64))
    _assert_row(whole, 123, alone, "run 123 alone")
    window = run_chunk(program, 9, runs(50, start=100))
    _assert_row(whole, 123, window, "run 123 in 100..149", at=23)
    shuffled_ids = np.random.default_rng(0).permutation(1000).astype(np.int64)
    shuffled = run_chunk(program, 9, shuffled_ids)
    order = np.argsort(shuffled_ids)
    for name in ("first_hit", "peak_level", "steps", "final"):
        assert np.array_equal(getattr(shuffled, name)[order], getattr(whole, name)), name
    ref = run_reference_chunk(program, 9, np.array([123], dtype=np.int64))
    _assert_row(whole, 123, ref, "reference run 123")


def _assert_row(whole: object, index: int, part: object, what: str, at: int = 0) -> None:
    for name in ("first_hit", "peak_level", "steps", "final"):
        x = getattr(whole, name)[index]
        y = getattr(part, name)[at]
        assert np.array_equal(x, y), f"{what}: {name} {x!r} vs {y!r}"
    for key, values in whole.params.items():  # type: ignore[attr-defined]
        assert values[index] == part.params[key][at], f"{what}: param {key}"  # type: ignore[attr-defined]


def test_run_indices_beyond_the_first_chunk(builtin: Scenario) -> None:
    """Large run indices (a resumed or distributed sweep) agree between backends."""
    program = program_of(builtin)
    ids = np.array([10**6, 2**31 + 5, 10**12], dtype=np.int64)
    assert_same_chunks(run_chunk(program, 1, ids), run_reference_chunk(program, 1, ids))


def test_strategic_scenario_is_deterministic(tmp_path: Path) -> None:
    """Equilibrium play (chose()) is solved per run: chunking does not change it."""
    s = load_dict(chicken(2.0), tmp_path)
    base = redline.simulate(s, 200, seed=1, chunk_size=1000).table
    for size, count in ((64, 200), (7, 70), (1, 10)):
        _assert_tables_equal(
            base.slice(0, count),
            redline.simulate(s, count, seed=1, chunk_size=size).table,
            f"chicken, chunk size {size}",
        )
    _assert_tables_equal(
        base.slice(0, 12),
        redline.simulate(s, 12, seed=1, backend="reference").table,
        "chicken, reference",
    )


def test_results_table_shape(builtin: Scenario) -> None:
    res = redline.simulate(builtin, 300, seed=0)
    table = res.table
    assert table.num_rows == 300
    assert table.column("run").to_pylist() == list(range(300))
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
        assert s.runs == 300
        assert s.hits == int(
            np.sum(
                ~np.isnan(
                    table.column(f"first.{s.id}").to_numpy(zero_copy_only=False).astype(float)
                )
            )
        )
        assert s.p == s.hits / 300
        assert 0 <= s.lo <= s.hi <= 1
