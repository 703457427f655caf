"""Scenario discovery: where in the space of the uncertainties an outcome concentrates.

The runs of one configuration each draw their uncertainties (and, where the user ranges them,
parameters, drawn uniformly over the range); a run is a case of interest when it reaches the
outcome. PRIM (the patient rule induction method, EMA Workbench's
``ema_workbench.analysis.prim``) peels the box of all draws a little at a time (``peel_alpha``
of the runs in a box per step), along the factor whose peel raises the density of cases most,
until the box holds ``mass_min`` of the runs, then pastes back what raises the density again.
Every box on that peeling trajectory is a candidate, traded off by

- **coverage**: the share of all the outcome's runs that are in the box;
- **density**: the share of the box's runs that reach the outcome;
- **mass**: the share of all runs in the box;

and the box chosen is the one of highest coverage among those of density at least
``min_density`` — or, without it, the one of best balance, the highest harmonic mean of coverage
and density. The chosen box's limits on each factor it restricts are given with PRIM's quasi-p
values (Bryant and Lempert 2010: a one-sided binomial test of whether the restriction matters).
Where no box on the trajectory lifts the outcome's rate to 1.5 times its base rate, the outcome
concentrates at most weakly in these factors, and :meth:`Discovery.findings` says so (and names each
restriction whose quasi-p value is above 0.05).

For comparison a classification tree (CART, scikit-learn's ``DecisionTreeClassifier``, leaves of
at least ``mass_min`` of the runs, depth ``cart_depth``) splits the same draws; each leaf is a
box with its own coverage, density and mass (and limits, ``lower.<factor>`` and
``upper.<factor>``: the range of the draws where the tree sets none).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from redline.analysis.factors import Factor, factors
from redline.compile.configure import configure, overrides, resolve
from redline.compile.lower import lower
from redline.engine import backends
from redline.engine.deciders import DecisionMaker, still_asked
from redline.engine.simulate import DEFAULT_CHUNK, check_sizes, chunk_bounds
from redline.errors import RedlineValueError, UserError
from redline.scenario.errors import suggest
from redline.scenario.model import Scenario, Uniform

#: a box that does not lift the outcome's rate this much above its base rate is no concentration
LIFT = 1.5
#: quasi-p values above this mark a restriction not told apart from chance
SIGNIFICANT = 0.05


@dataclass(frozen=True)
class Discovery:
    """PRIM's box (and its peeling trajectory) and CART's leaves for one outcome.

    ``box``: a row per factor — ``lower``, ``upper`` (the chosen box), ``low``, ``high`` (the
    range of the draws), ``restricted``, ``qp_lower``, ``qp_upper``. ``trajectory``: a row per
    box PRIM considered — ``coverage``, ``density``, ``mass``, ``restricted`` (how many factors
    it restricts), ``runs``, ``hits``. ``leaves``: CART's leaves, densest first — ``rule``,
    ``coverage``, ``density``, ``mass``, ``runs``, ``hits``, ``lower.<factor>`` and
    ``upper.<factor>``. Arrow tables (``.to_pandas()``)."""

    scenario: str
    outcome: str
    outcome_name: str
    levers: Mapping[str, str]
    lens: str | None
    factors: tuple[Factor, ...]
    runs: int
    hits: int
    seed: int
    chosen: int
    min_density: float | None
    box: pa.Table
    trajectory: pa.Table
    leaves: pa.Table
    cart_text: str
    seconds: float = field(default=0.0, compare=False)

    @property
    def base_rate(self) -> float:
        return self.hits / self.runs

    @property
    def chosen_stats(self) -> dict[str, Any]:
        """Coverage, density, mass and restricted dimensions of the chosen box."""
        row: dict[str, Any] = self.trajectory.slice(self.chosen, 1).to_pylist()[0]
        return row

    def findings(self) -> list[str]:
        """What a reader must know: weak concentration (the densest box PRIM reaches holds the
        outcome at under 1.5 times its base rate), and restrictions whose quasi-p value is
        above 0.05 (not told apart from chance)."""
        out = []
        top = max(r["density"] for r in self.trajectory.to_pylist())
        if top < LIFT * self.base_rate:
            out.append(
                f"{self.outcome} concentrates at most weakly in these factors: the densest box "
                f"on PRIM's trajectory holds it in {top:.2%} of its runs, against "
                f"{self.base_rate:.2%} in all runs (less than {LIFT:g} times)"
            )
        for row in self.box.to_pylist():
            weak = [
                side
                for side, key in (("lower", "qp_lower"), ("upper", "qp_upper"))
                if math.isfinite(row[key]) and row[key] > SIGNIFICANT
            ]
            if row["restricted"] and weak:
                values = ", ".join(f"{side} {row['qp_' + side]:.2g}" for side in weak)
                out.append(
                    f"the restriction of {row['factor']} is not told apart from chance "
                    f"(quasi-p {values})"
                )
        return out

    def rule(self) -> str:
        """The chosen box in words: ``0.2 ≤ a ≤ 0.6 and b ≥ 0.7``."""
        parts = []
        for row in self.box.to_pylist():
            if not row["restricted"]:
                continue
            lo, hi = row["lower"] > row["low"], row["upper"] < row["high"]
            name = row["factor"]
            if lo and hi:
                parts.append(f"{row['lower']:.4g} ≤ {name} ≤ {row['upper']:.4g}")
            elif lo:
                parts.append(f"{name} ≥ {row['lower']:.4g}")
            else:
                parts.append(f"{name} ≤ {row['upper']:.4g}")
        return " and ".join(parts) or "everywhere (no restriction)"

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "outcome": self.outcome,
            "levers": dict(self.levers),
            "lens": self.lens,
            "runs": self.runs,
            "hits": self.hits,
            "base_rate": self.base_rate,
            "seed": self.seed,
            "min_density": self.min_density,
            "factors": [
                {"name": f.name, "kind": f.kind, "distribution": f.describe()} for f in self.factors
            ],
            "box": {"rule": self.rule(), **self.chosen_stats, "limits": _rows(self.box)},
            "trajectory": _rows(self.trajectory),
            "cart": {"leaves": _rows(self.leaves), "tree": self.cart_text},
            "findings": self.findings(),
        }


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = table.to_pylist()
    for row in rows:
        for k, v in row.items():
            if isinstance(v, float) and not math.isfinite(v):
                row[k] = None
    return rows


def draws(
    scenario: Scenario,
    outcome: str,
    runs: int,
    *,
    params: Mapping[str, tuple[float, float]] | None = None,
    uncertainties: Sequence[str] | None = None,
    levers: Mapping[str, str] | None = None,
    lens: str | None = None,
    seed: int = 0,
    backend: str = "numpy",
    threads: int = 1,
    progress: Callable[[int], None] | None = None,
    makers: Mapping[str, DecisionMaker] | None = None,
) -> tuple[list[Factor], NDArray[np.float64], NDArray[np.bool_]]:
    """``runs`` runs of one configuration: the factors, each run's draw of every factor (runs ×
    factors) and whether it reached ``outcome``. The same for any thread count or backend.
    ``makers`` decide the language-model actors (asked from this thread, a chunk at a time)."""
    check_sizes(runs, DEFAULT_CHUNK, 1, backend)
    try:
        config = resolve(scenario, dict(levers or {}), lens)
    except UserError as exc:
        raise RedlineValueError(f"levers/lens: {exc}", parameter="levers") from None
    known = [o.id for o in scenario.outcomes]
    if outcome not in known:
        raise RedlineValueError(
            "outcome: " + suggest(outcome, known, "outcome"), parameter="outcome"
        )
    fs = factors(scenario, config, params, uncertainties)
    ranged = {
        f.name: Uniform(kind="uniform", low=lo, high=hi) for f, (lo, hi) in _ranges(fs, params)
    }
    program = configure(lower(scenario), {**overrides(scenario, config), **ranged})
    column = [o.id for o in program.outcomes].index(outcome)
    names = [f.name for f in fs]

    def one(bounds: tuple[int, int]) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        ids = np.arange(bounds[0], bounds[1], dtype=np.int64)
        chunk = backends.run_chunk(backend, program, seed, ids, makers=asked)
        x = np.column_stack(
            [np.broadcast_to(np.asarray(chunk.params[n], np.float64), ids.shape) for n in names]
        )
        return x, chunk.first_hit[:, column] >= 0

    asked = still_asked(program.deciders, makers) or None
    parts: list[tuple[NDArray[np.float64], NDArray[np.bool_]]] = []
    bounds = chunk_bounds(runs, DEFAULT_CHUNK)
    pool = ThreadPoolExecutor(max_workers=1 if asked else max(1, threads))
    try:
        for part in map(one, bounds) if asked else pool.map(one, bounds):
            parts.append(part)
            if progress:
                progress(len(part[1]))
    finally:  # Ctrl-C or an error: the chunks not started are dropped, not waited for
        pool.shutdown(wait=True, cancel_futures=True)
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    return fs, x, y


def _ranges(
    fs: Sequence[Factor], params: Mapping[str, tuple[float, float]] | None
) -> list[tuple[Factor, tuple[float, float]]]:
    given = params or {}
    return [(f, given[f.name]) for f in fs if f.kind == "parameter"]


def discover(
    scenario: Scenario,
    outcome: str,
    runs: int = 100_000,
    *,
    params: Mapping[str, tuple[float, float]] | None = None,
    uncertainties: Sequence[str] | None = None,
    levers: Mapping[str, str] | None = None,
    lens: str | None = None,
    seed: int = 0,
    min_density: float | None = None,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
    cart_depth: int = 3,
    backend: str = "numpy",
    threads: int = 1,
    progress: Callable[[int], None] | None = None,
    makers: Mapping[str, DecisionMaker] | None = None,
) -> Discovery:
    """Simulate ``runs`` runs drawing the factors, then find PRIM's box where ``outcome``
    concentrates (and CART's leaves for comparison); see the module for the definitions.
    ``makers`` decide the scenario's language-model actors (a language model's, cached)."""
    if min_density is not None and not 0.0 < min_density <= 1.0:
        raise RedlineValueError(
            f"min_density must be in (0, 1], got {min_density:g}", parameter="min_density"
        )
    if not 0.0 < peel_alpha < 0.5:
        raise RedlineValueError(
            f"peel_alpha must be in (0, 0.5), got {peel_alpha:g}", parameter="peel_alpha"
        )
    if not 0.0 < mass_min < 1.0:
        raise RedlineValueError(
            f"mass_min must be in (0, 1), got {mass_min:g}", parameter="mass_min"
        )
    if not 1 <= cart_depth <= 10:
        raise RedlineValueError(
            f"cart_depth must be between 1 and 10, got {cart_depth}", parameter="cart_depth"
        )
    started = time.perf_counter()
    fs, x, y = draws(
        scenario,
        outcome,
        runs,
        params=params,
        uncertainties=uncertainties,
        levers=levers,
        lens=lens,
        seed=seed,
        backend=backend,
        threads=threads,
        progress=progress,
        makers=makers,
    )
    hits = int(y.sum())
    name = next(o.label for o in scenario.outcomes if o.id == outcome)
    if hits == 0 or hits == runs:
        raise RedlineValueError(
            f"outcome '{outcome}' was reached in {hits:,} of {runs:,} runs: with "
            f"{'no' if hits == 0 else 'only'} runs of {'interest' if hits == 0 else 'it'} there "
            "is nothing to discover (more runs, another configuration or another outcome)",
            parameter="outcome",
        )
    names = [f.name for f in fs]
    box, trajectory, chosen = prim_box(names, x, y, min_density, peel_alpha, mass_min)
    leaves, text = cart_leaves(names, x, y, mass_min, cart_depth, seed)
    config = resolve(scenario, dict(levers or {}), lens)
    return Discovery(
        scenario=scenario.id,
        outcome=outcome,
        outcome_name=name,
        levers=dict(config.levers),
        lens=config.lens,
        factors=tuple(fs),
        runs=runs,
        hits=hits,
        seed=seed,
        chosen=chosen,
        min_density=min_density,
        box=box,
        trajectory=trajectory,
        leaves=leaves,
        cart_text=text,
        seconds=time.perf_counter() - started,
    )


def prim_box(
    names: list[str],
    x: NDArray[np.float64],
    y: NDArray[np.bool_],
    min_density: float | None,
    peel_alpha: float,
    mass_min: float,
) -> tuple[pa.Table, pa.Table, int]:
    """PRIM's trajectory and chosen box (EMA Workbench)."""
    import logging

    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "ipyparallel not installed": not used here
        from ema_workbench.analysis import prim

    logging.getLogger("EMA").setLevel(logging.WARNING)
    frame = pd.DataFrame(x, columns=names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder = prim.Prim(
            frame,
            y.astype(np.int64),
            # a run is of interest when it reached the outcome (y = 1 ≥ the threshold); so low a
            # threshold keeps the box PRIM finds: the choice on its trajectory is ours
            threshold=1e-9,
            peel_alpha=peel_alpha,
            paste_alpha=peel_alpha,
            mass_min=mass_min,
        )
        found = finder.find_box()
    path = found.peeling_trajectory
    coverage = path["coverage"].to_numpy(np.float64)
    density = path["density"].to_numpy(np.float64)
    chosen = choose(coverage, density, min_density)
    lims = found.box_lims[chosen]
    init = found.box_lims[0]
    qp = found.qp[chosen]
    lower = [float(lims[n].iloc[0]) for n in names]
    upper = [float(lims[n].iloc[1]) for n in names]
    low = [float(init[n].iloc[0]) for n in names]
    high = [float(init[n].iloc[1]) for n in names]
    box = pa.table(
        {
            "factor": names,
            "lower": lower,
            "upper": upper,
            "low": low,
            "high": high,
            "restricted": [
                a > b or c < d for a, b, c, d in zip(lower, low, upper, high, strict=True)
            ],
            "qp_lower": [_qp(qp, n, 0) for n in names],
            "qp_upper": [_qp(qp, n, 1) for n in names],
        }
    )
    trajectory = pa.table(
        {
            "id": path["id"].to_numpy(np.int64),
            "coverage": coverage,
            "density": density,
            "mass": path["mass"].to_numpy(np.float64),
            "restricted": path["res_dim"].to_numpy(np.int64),
            "runs": path["n"].to_numpy(np.int64),
            "hits": path["k"].to_numpy(np.int64),
        }
    )
    return box, trajectory, chosen


def choose(
    coverage: NDArray[np.float64], density: NDArray[np.float64], min_density: float | None
) -> int:
    """The box chosen on a trajectory: of highest coverage among those at least
    ``min_density`` dense (the first of equals), or without it the one of highest harmonic
    mean of coverage and density."""
    if min_density is None:
        score = 2 * coverage * density / np.maximum(coverage + density, 1e-300)
        return int(np.argmax(score))
    ok = np.flatnonzero(density >= min_density - 1e-12)
    if len(ok) == 0:
        raise RedlineValueError(
            f"min_density: no box on PRIM's trajectory is that dense (the densest holds "
            f"{density.max():.1%} of its runs in the outcome)",
            parameter="min_density",
        )
    return int(ok[np.argmax(coverage[ok])])


def _qp(qp: Mapping[str, Any], name: str, side: int) -> float:
    """A quasi-p value of the chosen box (NaN where the side is not restricted)."""
    values = qp.get(name)
    if values is None:
        return math.nan
    value = float(values[side])
    return value if value >= 0 else math.nan


def cart_leaves(
    names: list[str],
    x: NDArray[np.float64],
    y: NDArray[np.bool_],
    mass_min: float,
    depth: int,
    seed: int,
) -> tuple[pa.Table, str]:
    """A classification tree's leaves as boxes, densest first, and the tree as text."""
    from sklearn.tree import DecisionTreeClassifier, export_text

    n = len(y)
    tree = DecisionTreeClassifier(
        max_depth=depth, min_samples_leaf=max(1, int(mass_min * n)), random_state=seed
    )
    tree.fit(x, y)
    t = tree.tree_
    total = int(y.sum())
    leaf_of = tree.apply(x)
    rows: dict[str, list[Any]] = {
        k: [] for k in ("leaf", "rule", "coverage", "density", "mass", "runs", "hits")
    }
    low, high = x.min(axis=0), x.max(axis=0)

    def walk(node: int, bounds: dict[str, tuple[float, float]]) -> None:
        if t.children_left[node] == -1:
            inside = leaf_of == node
            count = int(inside.sum())
            k = int(y[inside].sum())
            rows["leaf"].append(node)
            rows["rule"].append(_rule(bounds))
            rows["coverage"].append(k / total)
            rows["density"].append(k / count if count else math.nan)
            rows["mass"].append(count / n)
            rows["runs"].append(count)
            rows["hits"].append(k)
            for j, name in enumerate(names):
                lo, hi = bounds.get(name, (-math.inf, math.inf))
                rows.setdefault(f"lower.{name}", []).append(max(lo, float(low[j])))
                rows.setdefault(f"upper.{name}", []).append(min(hi, float(high[j])))
            return
        name, cut = names[t.feature[node]], float(t.threshold[node])
        lo, hi = bounds.get(name, (-math.inf, math.inf))
        walk(int(t.children_left[node]), {**bounds, name: (lo, min(hi, cut))})
        walk(int(t.children_right[node]), {**bounds, name: (max(lo, cut), hi)})

    walk(0, {})
    table = pa.table(rows)
    order = np.argsort(-np.asarray(rows["density"]), kind="stable")
    return table.take(pa.array(order)), export_text(tree, feature_names=names)


def _rule(bounds: Mapping[str, tuple[float, float]]) -> str:
    parts = []
    for name, (lo, hi) in bounds.items():
        if math.isfinite(lo) and math.isfinite(hi):
            parts.append(f"{lo:.4g} < {name} ≤ {hi:.4g}")
        elif math.isfinite(lo):
            parts.append(f"{name} > {lo:.4g}")
        else:
            parts.append(f"{name} ≤ {hi:.4g}")
    return " and ".join(parts) or "everywhere"
