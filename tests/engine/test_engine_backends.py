"""The backend registry: every backend with its declared capabilities, and the fallback.

Where a program or a call needs a capability a backend lacks, or the backend raises
Unsupported, the registry runs it on the NumPy kernel, with the same results; asked not to fall
back, it says what is lacking. (The batteries of test_engine_semantics, test_engine_oracles and
test_engine_determinism run on every backend, skipping what a backend lacks.)
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from engine_support import (
    assert_same_chunks,
    program_from,
    program_of,
    runs,
    scenario_dict,
)
from test_engine_oracles import chicken
from test_engine_semantics import ending_scenario

import redline
from redline.compile import Program
from redline.engine import backends
from redline.engine.backends import FALLBACK, REGISTRY, Capabilities
from redline.engine.semantics import Unsupported
from redline.experiment.design import Unit
from redline.experiment.executors import UnitTask, _threadable
from redline.experiment.job import Job

CAPABILITIES = [f.name for f in dataclasses.fields(Capabilities)]


class Hold:
    """A plugged-in decision-maker that always holds."""

    def decide(self, situation: Any) -> np.ndarray:
        return np.zeros(len(situation.runs), dtype=np.int64)


def test_every_backend_is_registered_and_the_fallback_can_run_everything() -> None:
    assert backends.BACKENDS == ("numba", "numpy", "reference")
    assert REGISTRY[FALLBACK].capabilities.lacking(Capabilities(True, True, True, True, True)) == ()
    for name in backends.BACKENDS:
        assert backends.get(name).name == name
        assert name in backends.BACKEND_HELP
    with pytest.raises(KeyError, match="known: numba, numpy, reference"):
        backends.get("fortran")


def test_declared_capabilities() -> None:
    table = {name: dataclasses.astuple(b.capabilities) for name, b in REGISTRY.items()}
    assert CAPABILITIES == [
        "equilibrium",
        "decision_makers",
        "traces",
        "events",
        "threads",
        "particles",
    ]
    assert table == {
        "numba": (False, False, False, True, True, False),
        "numpy": (True, True, True, True, True, True),
        "reference": (True, True, True, True, False, True),
    }


def test_the_registry_imports_no_backend() -> None:
    """Backends are imported when first used: naming them, or printing the fused engine's
    source, starts no Numba and imports no compiled backend."""
    code = (
        "import sys\n"
        "import redline\n"
        "from redline.compile import compile_scenario, resolve\n"
        "from redline.engine import backends, fused, simulate\n"
        "s = redline.load('convoy-strike')\n"
        "fused.source(compile_scenario(s, resolve(s)))\n"
        "heavy = ('numba', 'redline.engine.kernel', 'redline.engine.fused.cache')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout


def _needing(capability: str, folder: Path) -> tuple[Program, dict[str, Any]]:
    """A program and the call arguments that need ``capability``."""
    if capability == "equilibrium":
        return program_from(chicken(1.0), folder), {}
    program = program_from(ending_scenario(6), folder)
    if capability == "decision_makers":
        return program, {"makers": {"A": Hold()}}
    return program, {"trace": True}


LACKING = [
    (name, capability)
    for name, b in REGISTRY.items()
    for capability in CAPABILITIES
    # populations are not run by run_chunk: test_engine_particles checks their fallback
    if capability not in ("threads", "particles") and not getattr(b.capabilities, capability)
]


@pytest.mark.parametrize(("name", "capability"), LACKING)
def test_what_a_backend_lacks_runs_on_the_fallback(
    tmp_path: Path, name: str, capability: str
) -> None:
    program, call = _needing(capability, tmp_path)
    assert backends.select(name, program, **call).name == FALLBACK
    got = backends.run_chunk(name, program, 3, runs(40), **call)
    expected = REGISTRY[FALLBACK].load()(program, 3, runs(40), **call)
    assert_same_chunks(got, expected, f"{name} without {capability}")
    assert got.trace == expected.trace
    with pytest.raises(Unsupported, match=f"the {name} backend lacks {capability}"):
        backends.run_chunk(name, program, 3, runs(40), fallback=False, **call)


def test_a_backend_that_raises_unsupported_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backend that declares a capability but raises Unsupported for a call (the fused engine
    made to claim traces) leaves that call to the fallback."""
    claims = dataclasses.replace(REGISTRY["numba"].capabilities, traces=True)
    registry = dict(REGISTRY) | {
        "numba": dataclasses.replace(REGISTRY["numba"], capabilities=claims)
    }
    monkeypatch.setattr(backends, "REGISTRY", registry)
    program = program_from(ending_scenario(6), tmp_path)
    assert backends.select("numba", program, trace=True).name == "numba"
    got = backends.run_chunk("numba", program, 5, runs(30), trace=True)
    expected = registry["numpy"].load()(program, 5, runs(30), trace=True)
    assert_same_chunks(got, expected, "fused made to trace")
    assert got.trace == expected.trace
    with pytest.raises(Unsupported, match="traces"):
        backends.run_chunk("numba", program, 5, runs(30), trace=True, fallback=False)


@pytest.mark.parametrize("name", ["numpy", "reference"])
def test_backends_with_traces_trace_the_same(tmp_path: Path, name: str) -> None:
    """Traces — each run's rung, actions, reacting rules, events and state after every step —
    are the same on every backend that has them, on a built-in scenario and a small one."""
    builtin = program_of(redline.load("convoy-strike"))
    for program in (builtin, program_from(ending_scenario(8), tmp_path)):
        a = backends.run_chunk(name, program, 2, runs(12), trace=True, fallback=False)
        b = backends.run_chunk("reference", program, 2, runs(12), trace=True, fallback=False)
        assert a.trace is not None and b.trace is not None
        assert len(a.trace) == int(a.steps.sum())
        assert a.trace == b.trace


@pytest.mark.parametrize("name", backends.BACKENDS)
def test_threads_only_where_the_backend_declares_them(tmp_path: Path, name: str) -> None:
    """In one process, units go on threads only on a backend with the ``threads`` capability,
    and never with plugged-in decision-makers (which need not be thread-safe)."""
    program = program_from(scenario_dict(), tmp_path)
    job = Job(program=program, levers=(), lens=None)
    task = UnitTask(job, Unit(0, 0, 0, 10), 1, name)  # type: ignore[arg-type]
    assert _threadable(task) == REGISTRY[name].capabilities.threads
    with_makers = dataclasses.replace(task, makers=(("A", Hold()),))
    assert not _threadable(with_makers)
    strategic = program_from(chicken(1.0), tmp_path)
    on_fallback = dataclasses.replace(task, job=dataclasses.replace(job, program=strategic))
    assert _threadable(on_fallback) == backends.select(name, strategic).capabilities.threads
