"""Shared helpers for the engine tests: scenarios from dicts, both backends, exact comparison."""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray
from statsmodels.stats.proportion import proportion_confint

from redline.compile import Program, compile_scenario, resolve
from redline.engine.kernel import run_chunk
from redline.engine.semantics import ChunkResult
from redline.engine.reference import run_reference_chunk
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


def engine_vs_reference(
    program: Program, seed: int, run_ids: NDArray[np.int64], context: str = ""
) -> ChunkResult:
    """Run both backends on the same runs, assert they agree exactly, return the engine's."""
    fast = run_chunk(program, seed, run_ids)
    slow = run_reference_chunk(program, seed, run_ids)
    assert_same_chunks(fast, slow, context)
    return fast


def wilson(hits: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
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
