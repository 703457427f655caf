"""Shared helpers for the engine tests: scenarios from dicts, running a registered backend,
exact comparison with the reference, statistical checks."""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from numpy.typing import NDArray

from redline.compile import Program, compile_scenario, resolve
from redline.engine import backends
from redline.engine.deciders import DecisionMaker
from redline.engine.kernel import run_chunk
from redline.engine.reference import run_reference_chunk
from redline.engine.semantics import ChunkResult, Unsupported
from redline.scenario.loader import load_scenario
from redline.scenario.model import Scenario

# Fused-engine kernels compiled by the tests go to a cache this machine's test processes share
# (pytest workers and the CLI's subprocesses included), not to the user's cache folder.
os.environ.setdefault(
    "REDLINE_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"redline-test-cache-{os.getuid()}")
)

#: confidence of the statistical oracles: a correct engine fails one check in a thousand
CONFIDENCE = 0.999


def scenario_dict(**sections: Any) -> dict[str, Any]:
    """A minimal valid scenario (one doctrine actor) with the given sections replaced."""
    data: dict[str, Any] = {
        "id": "t",
        "title": "test scenario",
        "time": {"step": "month", "horizon": 5},
        "actors": [{"id": "A", "decision": {"kind": "doctrine"}}],
        "outcomes": [{"id": "never", "when": "false"}],
    }
    data.update(sections)
    return data


def write_scenario(data: dict[str, Any], folder: Path, name: str = "s.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def load_dict(data: dict[str, Any], folder: Path | None = None) -> Scenario:
    """Write a scenario dict as YAML and load it, so that every validation check runs."""
    if folder is not None:
        return load_scenario(write_scenario(data, folder)).scenario
    with tempfile.TemporaryDirectory() as tmp:
        return load_scenario(write_scenario(data, Path(tmp))).scenario


def program_of(
    scenario: Scenario, levers: dict[str, str] | None = None, lens: str | None = None
) -> Program:
    return compile_scenario(scenario, resolve(scenario, levers, lens))


def program_from(data: dict[str, Any], folder: Path | None = None) -> Program:
    return program_of(load_dict(data, folder))


def runs(n: int, start: int = 0) -> NDArray[np.int64]:
    return np.arange(start, start + n, dtype=np.int64)


def assert_same_chunks(a: ChunkResult, b: ChunkResult, context: str = "") -> None:
    """Exact equality of every per-run summary of two chunk results."""
    where = f" ({context})" if context else ""
    assert np.array_equal(a.runs, b.runs), f"runs differ{where}"
    for name in ("first_hit", "peak_level", "steps"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape, f"{name} shapes differ{where}: {x.shape} vs {y.shape}"
        bad = np.flatnonzero((x != y).reshape(len(a.runs), -1).any(axis=1))
        assert bad.size == 0, (
            f"{name} differs{where} in {bad.size} runs, first run {a.runs[bad[0]]}: "
            f"{x[bad[0]]!r} vs {y[bad[0]]!r}"
        )
    assert a.final.shape == b.final.shape, f"final shapes differ{where}"
    same = (a.final == b.final) | (np.isnan(a.final) & np.isnan(b.final))
    bad = np.flatnonzero(~same.all(axis=1))
    assert bad.size == 0, (
        f"final differs{where} in {bad.size} runs, first run {a.runs[bad[0]]}: "
        f"{a.final[bad[0]]!r} vs {b.final[bad[0]]!r}"
    )
    occ_a, occ_b = getattr(a, "occupancy", None), getattr(b, "occupancy", None)
    assert (occ_a is None) == (occ_b is None), f"only one result has occupancy{where}"
    if occ_a is not None:
        assert np.array_equal(occ_a, occ_b), f"ladder occupancy differs{where}"
    assert sorted(a.params) == sorted(b.params), f"drawn parameters differ{where}"
    for key in a.params:
        assert np.array_equal(a.params[key], b.params[key], equal_nan=True), (
            f"drawn parameter {key} differs{where}"
        )


def features(chunk: ChunkResult) -> NDArray[np.bool_]:
    """Per run, what it exercised: each mechanism event that happened (the event record), each
    outcome it reached, and its peak rung (one column per rung)."""
    assert chunk.events is not None
    peak = chunk.peak_level.astype(np.int64) + 1  # -1 (none) is column 0
    rungs = np.zeros((len(peak), int(peak.max(initial=0)) + 1), dtype=np.bool_)
    rungs[np.arange(len(peak)), peak] = True
    return np.concatenate([chunk.events >= 0, chunk.first_hit >= 0, rungs], axis=1)


def covering_runs(exercised: NDArray[np.bool_], budget: int) -> NDArray[np.int64]:
    """Indices of runs (rows): first, greedily, runs until every feature any run exercised is
    exercised by one of them (however many that takes: the budget never cuts the cover short);
    then, up to ``budget`` runs in all, the runs whose combination of features is rarest; ties
    in run order (deterministic)."""
    covered = np.zeros(exercised.shape[1], dtype=np.bool_)
    chosen: list[int] = []
    while True:
        gain = (exercised & ~covered).sum(axis=1)
        best = int(np.argmax(gain))
        if gain[best] == 0:
            break
        chosen.append(best)
        covered |= exercised[best]
    _, inverse, counts = np.unique(exercised, axis=0, return_inverse=True, return_counts=True)
    rarity = counts[inverse.ravel()]
    taken = set(chosen)
    for i in np.argsort(rarity, kind="stable"):
        if len(chosen) >= budget:
            break
        if int(i) not in taken:
            chosen.append(int(i))
            taken.add(int(i))
    return np.array(sorted(chosen), dtype=np.int64)


def engine_vs_reference(
    program: Program, seed: int, run_ids: NDArray[np.int64], context: str = ""
) -> ChunkResult:
    """Run both backends on the same runs, assert they agree exactly, return the engine's."""
    fast = run_chunk(program, seed, run_ids)
    slow = run_reference_chunk(program, seed, run_ids)
    assert_same_chunks(fast, slow, context)
    return fast


def on_backend(
    backend: str,
    program: Program,
    seed: int,
    run_ids: NDArray[np.int64],
    *,
    trace: bool = False,
    makers: dict[str, DecisionMaker] | None = None,
    events: bool = False,
) -> ChunkResult:
    """The runs on the backend itself, through the registry without its fallback: where the
    backend lacks a capability the program or the call needs (or leaves the program to the
    fallback), the check is skipped, saying so. The fallback's own parametrisation runs it,
    and test_engine_backends checks that the registry falls back."""
    try:
        return backends.run_chunk(
            backend,
            program,
            seed,
            run_ids,
            trace=trace,
            makers=makers,
            fallback=False,
            events=events,
        )
    except Unsupported as exc:
        pytest.skip(f"{exc} (the registry runs this on {backends.FALLBACK})")


def require(
    backend: str,
    program: Program,
    *,
    trace: bool = False,
    makers: dict[str, DecisionMaker] | None = None,
) -> None:
    """Skip the check, saying why, where the backend lacks a capability the program or the call
    needs (for checks through ``redline.simulate``, where the registry would fall back)."""
    lacking = backends.get(backend).capabilities.lacking(
        backends.needs(program, trace=trace, makers=makers)
    )
    if lacking:
        pytest.skip(
            f"the {backend} backend lacks {', '.join(lacking)} "
            f"(the registry runs this on {backends.FALLBACK})"
        )


def traced(backend: str, program: Program, seed: int, run_ids: NDArray[np.int64]) -> list[Any]:
    """The backend's trace records of the runs (skipped on a backend without traces)."""
    trace = on_backend(backend, program, seed, run_ids, trace=True).trace
    assert trace is not None
    return trace


def backend_vs_reference(
    backend: str, program: Program, seed: int, run_ids: NDArray[np.int64], context: str = ""
) -> ChunkResult:
    """The backend's result for the runs, checked to equal the reference interpreter's
    exactly (the reference's own, unchecked, on the reference)."""
    got = on_backend(backend, program, seed, run_ids)
    if backend != "reference":
        expected = run_reference_chunk(program, seed, run_ids)
        assert_same_chunks(got, expected, f"{backend}{': ' + context if context else ''}")
    return got


def sized(backend: str, n: int, reference: int) -> int:
    """Runs for a check on ``backend``: ``n``, or ``reference`` on the reference interpreter,
    which is about a thousand times slower than the compiled backends. (The statistical
    checks — Wilson intervals, chi-square tests, bounds in standard errors — hold at any
    number of runs.)"""
    return reference if backend == "reference" else n


def wilson(hits: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    # imported here, not with the module: statsmodels brings pandas, a second of CPU to every
    # test process that collects the engine tests
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(hits, n, alpha=1.0 - confidence, method="wilson")
    return float(lo), float(hi)


def assert_rate(
    hits: int, n: int, p: float, what: str = "", confidence: float = CONFIDENCE
) -> None:
    """The exact probability ``p`` lies inside the Wilson interval of ``hits`` out of ``n``."""
    lo, hi = wilson(hits, n, confidence)
    assert lo <= p <= hi, (
        f"{what}: observed {hits}/{n} = {hits / n:.5f}, {confidence:.1%} interval "
        f"[{lo:.5f}, {hi:.5f}] does not contain the exact {p:.5f}"
    )


def logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
