"""The factors of a sensitivity analysis and the outcome probabilities at design points.

A factor is an input whose influence on the outcomes is measured: each uncertainty the
configuration draws (its distribution as the scenario, or the lens, gives it) and each parameter
the user names with a range (drawn uniformly over it). A design is a set of points in the unit
cube, one coordinate per factor; a point's coordinates are mapped to factor values through each
factor's inverse CDF (the same function the engines draw uncertainties with), so a design that is
uniform in the cube follows the factors' distributions.

At each design point every factor is fixed at its value and ``runs_per_point`` runs estimate each
outcome's probability. Point ``j`` uses run indices ``j·R … (j+1)·R − 1``: the points' Monte Carlo
errors are independent, so their variance (binomial, ``p(1 − p)/R``) can be estimated and
accounted for (:mod:`redline.analysis.sensitivity`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from redline.compile.configure import Configuration, configure, overrides
from redline.compile.draws import draw_of
from redline.compile.lower import lower
from redline.core.distributions import Draw, UniformDraw
from redline.engine import backends
from redline.engine.deciders import DecisionMaker, still_asked
from redline.engine.params import transform
from redline.errors import RedlineValueError
from redline.scenario.errors import suggest
from redline.scenario.model import Scenario

#: how close to 0 or 1 a design's uniform may come (a normal's quantile there is ±7 sd)
EDGE = 1e-12
#: the most design points × runs one analysis may ask for
MAX_DESIGN_RUNS = 2_000_000_000


@dataclass(frozen=True)
class Factor:
    """One input of the analysis: its name, whether it is an uncertainty or a parameter the
    user ranged, and the distribution its values follow."""

    name: str
    kind: str  # "uncertainty" | "parameter"
    draw: Draw

    def values(self, unit: NDArray[np.float64]) -> NDArray[np.float64]:
        """The factor's values at uniforms ``unit`` (its inverse CDF), kept inside the open
        interval (0, 1) so that an unbounded distribution's value stays finite."""
        return transform(self.draw, np.clip(unit, EDGE, 1.0 - EDGE))

    def describe(self) -> str:
        """The distribution in words: ``uniform 0.2–0.8``."""
        d = self.draw
        fields = ", ".join(f"{k}={v:g}" for k, v in vars(d).items() if isinstance(v, float | int))
        return f"{type(d).__name__.removesuffix('Draw').lower()}({fields})"


def factors(
    scenario: Scenario,
    config: Configuration,
    params: Mapping[str, tuple[float, float]] | None = None,
    uncertainties: Sequence[str] | None = None,
) -> list[Factor]:
    """The configuration's drawn uncertainties (all, or those named in ``uncertainties``) and
    each parameter of ``params`` over its uniform range ``(low, high)``, in the scenario's order.

    A lens that fixes an uncertainty makes it a constant, not a factor; a parameter that a lever
    option or the lens sets is overridden by the design (the factor's value wins)."""
    lens = next((x for x in scenario.lenses if x.id == config.lens), None)
    lens_set = lens.set if lens is not None else {}
    drawn: list[Factor] = []
    for u in scenario.uncertainties:
        value = lens_set.get(u.id, u.distribution)
        if not isinstance(value, float | int):
            drawn.append(Factor(u.id, "uncertainty", draw_of(value)))
    if uncertainties is not None:
        known = [f.name for f in drawn]
        for name in uncertainties:
            if name not in known:
                fixed = [u.id for u in scenario.uncertainties if u.id not in known]
                why = f" (the lens '{config.lens}' fixes it)" if name in fixed else ""
                raise RedlineValueError(
                    "uncertainties: " + suggest(name, known, "drawn uncertainty") + why,
                    parameter="uncertainties",
                )
        drawn = [f for f in drawn if f.name in set(uncertainties)]
    ranged: list[Factor] = []
    known_params = [p.id for p in scenario.parameters]
    for name, bounds in (params or {}).items():
        if name in {u.id for u in scenario.uncertainties}:
            raise RedlineValueError(
                f"params: '{name}' is an uncertainty, a factor already (drawn from its "
                "distribution); name parameters only",
                parameter="params",
            )
        if name not in known_params:
            raise RedlineValueError(
                "params: " + suggest(name, known_params, "parameter"), parameter="params"
            )
        low, high = (float(b) for b in bounds)
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise RedlineValueError(
                f"params: the range of '{name}' must be two finite numbers, low < high, "
                f"got {low:g}:{high:g}",
                parameter="params",
            )
        ranged.append(Factor(name, "parameter", UniformDraw(low, high)))
    order = {p.id: i for i, p in enumerate(scenario.parameters)}
    ranged.sort(key=lambda f: order[f.name])
    out = drawn + ranged
    if not out:
        raise RedlineValueError(
            "the configuration draws no uncertainty and no parameter range was given: nothing "
            "to analyse (name parameters with ranges, e.g. --param NAME=LOW:HIGH)",
            parameter="params",
        )
    return out


def default_range(scenario: Scenario, name: str) -> tuple[float, float]:
    """A parameter's value ± 50%: the range used when a parameter is named without one."""
    known = {p.id: p.value for p in scenario.parameters}
    if name not in known:
        raise RedlineValueError(
            "params: " + suggest(name, list(known), "parameter"), parameter="params"
        )
    value = known[name]
    if value == 0:
        raise RedlineValueError(
            f"params: '{name}' is 0, so ±50% is no range; give one: {name}=LOW:HIGH",
            parameter="params",
        )
    return (min(0.5 * value, 1.5 * value), max(0.5 * value, 1.5 * value))


def design_values(fs: Sequence[Factor], unit: NDArray[np.float64]) -> NDArray[np.float64]:
    """A design in the unit cube (points × factors) as factor values."""
    return np.column_stack([f.values(unit[:, j]) for j, f in enumerate(fs)])


def point_hits(
    scenario: Scenario,
    config: Configuration,
    fs: Sequence[Factor],
    values: NDArray[np.float64],
    outcomes: Sequence[str],
    *,
    runs_per_point: int,
    seed: int,
    backend: str = "numpy",
    threads: int = 1,
    progress: Callable[[int], None] | None = None,
    makers: Mapping[str, DecisionMaker] | None = None,
) -> NDArray[np.int64]:
    """How many of each point's ``runs_per_point`` runs reached each outcome (points ×
    outcomes), every factor fixed at the point's value. Point ``j`` runs indices
    ``j·R … (j+1)·R − 1`` of ``seed``; the result is the same for any thread count or backend.
    ``progress`` is called with the number of points done as each finishes. ``makers`` decide
    the language-model actors: asked from this thread, a point at a time (each point's runs at
    once)."""
    if backend not in backends.BACKENDS:
        raise RedlineValueError(
            f"backend must be one of {', '.join(backends.BACKENDS)}, got '{backend}'",
            parameter="backend",
        )
    n_points = values.shape[0]
    if n_points * runs_per_point > MAX_DESIGN_RUNS:
        raise RedlineValueError(
            f"{n_points:,} design points × {runs_per_point:,} runs is more than "
            f"{MAX_DESIGN_RUNS:,} runs",
            parameter="runs_per_point",
        )
    lowered = lower(scenario)
    setting = overrides(scenario, config)
    ids = [o.id for o in lowered.outcomes]
    columns = [ids.index(o) for o in outcomes]
    names = [f.name for f in fs]

    def one(j: int) -> NDArray[np.int64]:
        fixed = dict(zip(names, map(float, values[j]), strict=True))
        program = configure(lowered, {**setting, **fixed})
        runs = np.arange(j * runs_per_point, (j + 1) * runs_per_point, dtype=np.int64)
        asked = still_asked(program.deciders, makers) or None
        chunk = backends.run_chunk(backend, program, seed, runs, makers=asked)
        hit = chunk.first_hit[:, columns] >= 0
        return np.asarray(hit.sum(axis=0), dtype=np.int64)

    hits = np.zeros((n_points, len(columns)), dtype=np.int64)
    if threads <= 1 or makers:
        for j in range(n_points):
            hits[j] = one(j)
            if progress:
                progress(1)
        return hits
    pool = ThreadPoolExecutor(max_workers=threads)
    try:
        for j, row in zip(range(n_points), pool.map(one, range(n_points)), strict=True):
            hits[j] = row
            if progress:
                progress(1)
    finally:  # Ctrl-C or an error: the points not started are dropped, not waited for
        pool.shutdown(wait=True, cancel_futures=True)
    return hits
