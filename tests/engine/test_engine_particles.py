"""Populations of runs (the ``particles`` capability): advanced to a step, looked at, kept,
dropped and copied, and continued — the same on every backend that declares the capability, the
same as the plain runs when never resampled, and fresh randomness for every copy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from engine_support import program_of, runs
from numpy.typing import NDArray

from redline.core.program import Expression, Program
from redline.engine import backends
from redline.engine.kernel import run_chunk
from redline.engine.particles import (
    MAX_PARTICLES,
    Particles,
    particle_runs,
    resample_uniform,
    systematic,
)
from redline.engine.semantics import Unsupported
from redline.scenario.expr import Type, check_source
from redline.scenario.expr.fold import fold
from redline.scenario.loader import load_scenario
from redline.scenario.model import Scenario
from redline.scenario.symbols import scope_symbols


def _expr(s: Scenario, source: str, expect: Type = Type.BOOL) -> Expression:
    tree = check_source(source, scope_symbols(s)["post"], expect)
    return Expression(source, tree, "test", fold(tree))


@pytest.fixture(scope="module")
def convoy() -> tuple[Scenario, Program]:
    s = load_scenario("convoy-strike").scenario
    return s, program_of(s)


def start(backend: str, program: Program, seed: int, ids: NDArray[np.int64]) -> Particles:
    """A population on the backend itself, skipped where it lacks the capability."""
    try:
        return backends.start_particles(backend, program, seed, ids, fallback=False)
    except Unsupported as exc:
        pytest.skip(f"{exc} (the registry runs populations on {backends.FALLBACK})")


def test_never_resampled_it_gives_the_plain_runs(backend: str, convoy: tuple) -> None:
    _, program = convoy
    ids = runs(60, 1000)
    pop = start(backend, program, 7, ids)
    assert (pop.size, pop.step) == (60, 0)
    pop.advance(5)
    assert pop.step == 5
    pop.advance(program.horizon + 10)  # never past the horizon
    assert pop.step == program.horizon
    plain = run_chunk(program, 7, ids)
    assert np.array_equal(pop.first_hits(), plain.first_hit)
    assert np.array_equal(pop.runs(), ids)
    for name, values in plain.params.items():
        assert np.array_equal(pop.drawn()[name], values)


def _history(pop: Particles, s: Scenario, steps: list[int]) -> list[object]:
    """Advance through ``steps``, resampling by a weight that reads the state, events and
    outcomes; what the population showed at each step."""
    seen: list[object] = []
    balance = _expr(s, "balance", Type.NUMBER)
    struck = _expr(s, 'now("attack:*")')
    n = pop.size
    for g, t in enumerate(steps, start=1):
        pop.advance(t)
        b, now, first = pop.evaluate(balance), pop.evaluate(struck), pop.first_hits()
        seen.append((b.copy(), now.copy(), first.copy(), pop.runs().copy(), pop.drawn()))
        weight = 0.2 + (b > 0) + now + (first[:, 0] >= 0)
        index = systematic(weight, resample_uniform(11, g))
        if g % 2:
            pop = pop.take(index, particle_runs(g, np.arange(n)))
        else:  # the same, split in two blocks and joined again
            half = n // 2
            left = pop.take(index[:half], particle_runs(g, np.arange(half)))
            right = pop.take(index[half:], particle_runs(g, np.arange(half, n)))
            pop = left.join([right])
    pop.advance(10_000)
    seen.append((pop.first_hits(), pop.drawn(), pop.runs()))
    return seen


def _same(a: object, b: object) -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and sorted(a) == sorted(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, tuple | list):
        assert isinstance(b, tuple | list) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    else:
        assert np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)


def test_resampled_populations_match_the_reference(backend: str, convoy: tuple) -> None:
    """The specification is the reference interpreter's population: a list of runs."""
    s, program = convoy
    ids = runs(48)
    steps = [2, 3, 7, 8, 12, 20]
    ours = _history(start(backend, program, 3, ids), s, steps)
    spec = _history(backends.start_particles("reference", program, 3, ids), s, steps)
    _same(ours, spec)


def test_a_fork_continues_as_the_original_and_a_copy_differs(convoy: tuple) -> None:
    s, program = convoy
    pop = backends.start_particles("numpy", program, 5, runs(200))
    pop.advance(4)
    same = pop.take(np.arange(200), pop.runs())
    fresh = pop.take(np.arange(200), particle_runs(1, np.arange(200)))
    for p in (pop, same, fresh):
        p.advance(program.horizon)
    assert np.array_equal(pop.first_hits(), same.first_hits())
    balance = _expr(s, "balance", Type.NUMBER)
    assert not np.array_equal(pop.evaluate(balance), fresh.evaluate(balance))
    # drawn uncertainties travel with the particle: copied, never drawn again
    for name, values in pop.drawn().items():
        assert np.array_equal(fresh.drawn()[name], values)


def test_an_ended_run_stays_as_it_ended(backend: str, tmp_path: Path) -> None:
    """A walk absorbed at the top keeps its rung and its events; nothing happens in it after."""
    data = (
        "id: t\ntitle: t\ntime: {step: month, horizon: 12}\n"
        "actors: [{id: A, decision: {kind: doctrine}}]\n"
        "variables: [{id: x, initial: 0, min: 0, max: 100}]\n"
        "dynamics: [{id: up, variable: x, value: 'x + 1'}]\n"
        "rules: [{id: tick, when: 'true', tags: [tick]}]\n"
        "outcomes: [{id: done, when: 'x >= 3 + 5 * uniform(0, 1)', absorbing: true}]\n"
    )
    path = tmp_path / "t.yaml"
    path.write_text(data, encoding="utf-8")
    s = load_scenario(path).scenario
    program = program_of(s)
    pop = start(backend, program, 1, runs(40))
    x, tick = _expr(s, "x", Type.NUMBER), _expr(s, 'now("tick")')
    ticks = _expr(s, 'count("tick")', Type.NUMBER)
    for t in range(1, program.horizon + 1):
        pop.advance(t)
        first = pop.first_hits()[:, 0]
        ended = (first >= 0) & (first < t - 1)
        fresh = first == t - 1
        value = pop.evaluate(x)
        assert np.all(value[first >= 0] == first[first >= 0] + 1)
        assert np.all(pop.evaluate(tick)[ended] == 0) and np.all(pop.evaluate(tick)[fresh] == 1)
        assert np.all(pop.evaluate(ticks)[first >= 0] == first[first >= 0] + 1)
        assert np.all(value[first < 0] == t)


def test_the_fused_engine_leaves_populations_to_the_kernel(convoy: tuple) -> None:
    _, program = convoy
    assert not backends.get("numba").capabilities.particles
    with pytest.raises(Unsupported, match="lacks particles"):
        backends.start_particles("numba", program, 0, runs(3), fallback=False)
    pop = backends.start_particles("numba", program, 0, runs(3))
    assert type(pop).__module__ == "redline.engine.kernel"


def test_systematic_resampling() -> None:
    w = np.array([0.0, 1.0, 3.0, 0.0, 4.0, 0.0])
    for u in (0.0, 0.3, 0.999):
        index = systematic(w, u)
        assert len(index) == 6 and np.all(np.diff(index) >= 0)
        counts = np.bincount(index, minlength=6)
        expected = 6 * w / w.sum()
        assert np.all(counts >= np.floor(expected)) and np.all(counts <= np.ceil(expected))
        assert counts[[0, 3, 5]].sum() == 0
    with pytest.raises(ValueError, match="every weight is zero"):
        systematic(np.zeros(4), 0.5)
    assert resample_uniform(1, 2) == resample_uniform(1, 2) != resample_uniform(1, 3)


def test_particle_run_ids() -> None:
    assert np.array_equal(particle_runs(0, np.arange(3)), [0, 1, 2])
    ids = particle_runs(5, np.array([0, 7]))
    assert ids.tolist() == [5 << 40, (5 << 40) + 7]
    with pytest.raises(ValueError):
        particle_runs(1, np.array([MAX_PARTICLES]))
