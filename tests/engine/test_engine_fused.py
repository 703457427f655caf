"""The fused (Numba) engine equals the reference interpreter exactly, and leaves to the NumPy
kernel what it does not run.

It is checked on the same 1,000 runs per built-in scenario as the NumPy kernel is in
test_engine_differential (directly against the reference on the quick tier, against the
kernel — itself checked against the reference on those runs — on all of them), and on
randomly generated scenarios. Each distinct program is compiled once per machine (cached).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from engine_support import (
    assert_same_chunks,
    load_dict,
    program_from,
    program_of,
    runs,
    scenario_dict,
    write_scenario,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenario_strategy import scenarios
from test_engine_cli import redline_cli
from test_engine_determinism import _assert_tables_equal
from test_engine_differential import _builtin, configurations, run_ranges
from test_engine_oracles import chicken

import redline
from redline.core.primitives import LIBM, libm
from redline.engine import fused
from redline.engine.fused import cache
from redline.engine.fused.codegen import Effects, Inputs, Outputs, Work
from redline.engine.kernel import run_chunk
from redline.engine.reference import run_reference_chunk
from redline.engine.semantics import Unsupported
from redline.scenario.loader import builtin_scenarios

BUILTINS = sorted(builtin_scenarios())


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_fused_equals_reference_and_kernel(name: str) -> None:
    s = _builtin(name)
    for (levers, lens), (start, quick, per) in zip(configurations(s), run_ranges(s), strict=True):
        program = program_of(s, levers, lens)
        context = f"{name} {levers} lens={lens}"
        ids = runs(per, start)
        got = fused.run_chunk(program, 2024, ids)
        assert_same_chunks(got, run_chunk(program, 2024, ids), context)
        head = runs(quick, start)
        assert_same_chunks(
            fused.run_chunk(program, 2024, head), run_reference_chunk(program, 2024, head), context
        )


@pytest.mark.slow
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(data=scenarios())
def test_random_scenarios_fused_equals_reference(data: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        program = program_from(data, Path(tmp))
    if program.strategic:
        return
    ids = runs(40)
    assert_same_chunks(
        fused.run_chunk(program, 11, ids), run_reference_chunk(program, 11, ids), "random"
    )


def test_results_do_not_depend_on_chunks_threads_or_backend() -> None:
    s = _builtin("convoy-strike")
    base = redline.simulate(s, 3000, seed=5, backend="numba", chunk_size=3000, threads=1).table
    for chunk, threads in ((1000, 2), (7, 1)):
        n = 3000 if chunk > 7 else 21
        other = redline.simulate(
            s, n, seed=5, backend="numba", chunk_size=chunk, threads=threads
        ).table
        _assert_tables_equal(base.slice(0, n), other, f"chunk {chunk}, {threads} threads")
    numpy = redline.simulate(s, 3000, seed=5, backend="numpy").table
    _assert_tables_equal(base, numpy, "numba vs numpy backend")


def test_strategic_programs_and_plugged_in_deciders_run_on_the_kernel(tmp_path: Path) -> None:
    """Equilibrium play and Python decision-makers are the NumPy kernel's; asking for the
    fused engine gives its results, not an error."""
    s = load_dict(chicken(2.0), tmp_path)
    program = program_of(s, {}, None)
    assert program.strategic
    with pytest.raises(Unsupported):
        fused.run_chunk(program, 1, runs(3))
    a = redline.simulate(s, 500, seed=2, backend="numba").table
    b = redline.simulate(s, 500, seed=2, backend="numpy").table
    _assert_tables_equal(a, b, "strategic")

    class Hold:
        def decide(self, situation: Any) -> np.ndarray:
            return np.zeros(len(situation.runs), dtype=np.int64)

    c = _builtin("convoy-strike")
    makers = {"RUS": Hold()}
    x = redline.simulate(c, 200, seed=2, backend="numba", decision_makers=makers).table
    y = redline.simulate(c, 200, seed=2, backend="numpy", decision_makers=makers).table
    _assert_tables_equal(x, y, "plugged-in decision-maker")


def test_generated_source_holds_no_scenario_text(tmp_path: Path) -> None:
    """Names, tags and strings are resolved to indices: nothing a scenario says is executed."""
    odd = "zz_injected__import_os"
    data = scenario_dict(
        actors=[
            {"id": "AAA", "decision": {"kind": "logit", "lambda": 2, "weights": {odd: 1}}},
            {"id": "BBB", "decision": {"kind": "doctrine"}},
        ],
        variables=[{"id": odd, "initial": 0.5}],
        actions=[{"id": f"{odd}_act", "actors": ["AAA"], "effects": {odd: 0.1}}],
        rules=[{"id": f"{odd}_rule", "when": f'chose("AAA", "{odd}_act")', "tags": [f"{odd}:t"]}],
        outcomes=[{"id": f"{odd}_out", "when": f'happened("{odd}:t")'}],
    )
    program = program_from(data, tmp_path)
    text = fused.source(program)
    path = write_scenario(data, tmp_path, "odd.yaml")
    shown = redline_cli("explain", str(path), "--fused", cwd=tmp_path)
    assert shown.returncode == 0 and "def kernel(" in shown.stdout, shown.stderr
    assert "kernel" in text
    assert odd not in text and "AAA" not in text and "BBB" not in text


def test_the_kernel_takes_named_structures() -> None:
    """The generated run loop takes its inputs, the effect tables, its outputs and its working
    arrays as four named tuples of arrays, whose fields the generated code reads by name."""
    program = program_of(_builtin("convoy-strike"))
    text = fused.source(program)
    assert "def kernel(inp, FX, out, work):" in text
    for structure, name in ((Inputs, "inp"), (Effects, "FX"), (Outputs, "out"), (Work, "work")):
        used = set(re.findall(rf"\b{name}\.(\w+)", text))
        assert used and used <= set(structure._fields), (structure.__name__, used)
    # every output is a field of the chunk's result (the trouble arrays make up its `trouble`)
    returned = {"trouble" if f.startswith("trouble") else f for f in Outputs._fields}
    assert returned - {"occupancy"} <= set(dataclasses.asdict(fused.run_chunk(program, 1, runs(3))))


def test_compiled_loops_are_kept_by_program_structure(monkeypatch: pytest.MonkeyPatch) -> None:
    """Configurations of a scenario share one fingerprint and one compiled loop: after the
    first chunk, no chunk of any of them generates the module again."""
    s = _builtin("convoy-strike")
    programs = [program_of(s, levers, lens) for levers, lens in configurations(s)]
    assert len({p.fingerprint for p in programs}) == 1
    first = cache.compiled(programs[0])
    generated: list[str] = []
    real = cache.generate

    def counting(program: Any) -> Any:
        generated.append(program.fingerprint)
        return real(program)

    monkeypatch.setattr(cache, "generate", counting)
    for program in programs:
        assert cache.compiled(program) is first
        fused.run_chunk(program, 1, runs(5))
    assert generated == []
    # a program without a fingerprint (built by hand) is generated each time, and still shares
    # the loaded kernel of its source
    anonymous = dataclasses.replace(programs[0], fingerprint="")
    assert cache.compiled(anonymous).kernel is first.kernel
    assert generated == [""]


_FIRST_CHUNK = """
import json, sys
import numpy as np
from redline.compile import compile_scenario, resolve
from redline.engine.fused import run_chunk
from redline.engine.fused.cache import compiled
from redline.scenario.loader import load_scenario
s = load_scenario(sys.argv[1]).scenario
program = compile_scenario(s, resolve(s))
run_chunk(program, 1, np.arange(10))
run_chunk(program, 1, np.arange(10, 30))
stats = compiled(program).kernel.stats
print(json.dumps([len(compiled(program).kernel.signatures),
                  sum(stats.cache_misses.values()), sum(stats.cache_hits.values())]))
"""


def test_processes_that_start_on_one_new_module_compile_it_once(tmp_path: Path) -> None:
    """A sweep's workers, or any processes, that start on the same uncompiled module at once:
    one compiles it into the cache folder while the others wait, then load what it wrote
    (each process's machine code is made once, and serves every later chunk)."""
    data = scenario_dict(
        variables=[{"id": "v", "initial": 0.2, "min": 0, "max": 1}],
        dynamics=[{"id": "d", "variable": "v", "value": "v + 0.1 * normal(0, 1)"}],
        outcomes=[{"id": "high", "when": "v > 0.9"}],
    )
    path = write_scenario(data, tmp_path)
    env = {**os.environ, "REDLINE_CACHE_DIR": str(tmp_path / "cache")}
    command = [sys.executable, "-c", _FIRST_CHUNK, str(path)]
    procs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    made = sorted(tuple(json.loads(p.communicate(timeout=600)[0])) for p in procs)
    # (signatures, compiled, loaded): one process compiled, the other loaded; a chunk after the
    # first compiled nothing more in either
    assert made == [(1, 0, 1), (1, 1, 0)]


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    xs=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1, max_size=50)
)
def test_compiled_scalar_functions_give_the_ufuncs_bits(xs: list[float]) -> None:
    """The fused loop calls the C library's functions as plain scalar calls; they give the
    very bits of the ufuncs the reference and the NumPy kernel call."""
    values = np.array(xs)
    for name in LIBM:
        got = _scalar_loop(name)(values)
        want = np.asarray(libm(name)(values), dtype=np.float64)
        assert np.array_equal(got.view(np.int64), want.view(np.int64)), name


@functools.cache
def _scalar_loop(name: str) -> Any:
    """A compiled loop calling the fused engine's scalar function ``name`` (Numba imported
    only when the test runs)."""
    import numba

    from redline.engine.fused.runtime import _scalar

    f = _scalar(name)

    @numba.njit(error_model="numpy")
    def loop(values: Any) -> Any:
        out = np.empty_like(values)
        for i in range(values.shape[0]):
            out[i] = f(values[i])
        return out

    return loop
