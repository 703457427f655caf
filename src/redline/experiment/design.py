"""Design points (lever options × lenses × sampled uncertainties) and the units of work.

A unit is (design point, run range): the deterministic grain that is computed, committed and
resumed. Every design point uses the same run indices, so comparisons between points use common
random numbers.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from redline.compile import Configuration
from redline.compile.configure import resolve
from redline.compile.draws import draw_of
from redline.engine.params import transform
from redline.engine.simulate import chunk_bounds
from redline.errors import UserError
from redline.experiment.spec import ExperimentSpec
from redline.scenario.errors import suggest
from redline.scenario.model import Choice, Distribution, Scenario

GRID_QUANTILES = (0.1, 0.5, 0.9)
#: the most design points × units one experiment may have
MAX_UNITS = 1_000_000


@dataclass(frozen=True)
class DesignPoint:
    index: int
    config: Configuration
    fixed: tuple[tuple[str, float], ...]  # uncertainties fixed by the sampling plan

    def label(self) -> str:
        parts = [self.config.label()] + [f"{k}={v:.4g}" for k, v in self.fixed]
        return ", ".join(p for p in parts if p != "defaults") or "defaults"


def lever_defaults(s: Scenario) -> dict[str, str]:
    """Each lever's default option (its first when none is declared)."""
    return {lv.id: lv.default or lv.options[0].id for lv in s.levers}


def setting_label(
    levers: Mapping[str, str], defaults: Mapping[str, str], fixed: Mapping[str, float]
) -> str:
    """A lever setting named by what it changes from the defaults (and the uncertainties a
    design point fixes); ``defaults`` when it changes nothing."""
    changed = [f"{k}={v}" for k, v in levers.items() if defaults.get(k) != v]
    return ", ".join(changed + [f"{k}={v:.4g}" for k, v in fixed.items()]) or "defaults"


@dataclass(frozen=True)
class Unit:
    index: int
    point: int
    start: int
    stop: int


def configurations(
    s: Scenario,
    levers: dict[str, list[str]] | None,
    lenses: list[str] | None,
    levers_design: str = "factorial",
) -> list[Configuration]:
    """The chosen lever options (all of them when not given) under each chosen lens: every
    combination (``factorial``), or each option of one lever at a time with the other levers
    at their defaults (``one_at_a_time``)."""
    known = {lv.id: lv for lv in s.levers}
    for name, options in (levers or {}).items():
        if name not in known:
            raise UserError(suggest(name, known, "lever"))
        ids = [o.id for o in known[name].options]
        for option in options:
            if option not in ids:
                raise UserError(f"lever '{name}': " + suggest(option, ids, "option"))
    axes = [(levers or {}).get(lv.id) or [o.id for o in lv.options] for lv in s.levers]
    lens_ids = [x.id for x in s.lenses]
    for given in lenses or []:
        if given not in lens_ids:
            raise UserError(suggest(given, lens_ids, "lens"))
    chosen: list[str | None] = list(lenses) if lenses else (list(lens_ids) or [None])
    ids = [lv.id for lv in s.levers]
    if levers_design == "factorial":
        combos = list(itertools.product(*axes))
    else:
        # each lever starts at its default, or at the first option the user chose for it
        default = [
            lv.default if lv.default in options else options[0]
            for lv, options in zip(s.levers, axes, strict=True)
        ]
        combos = [tuple(default)]
        for i, options in enumerate(axes):
            for option in options:
                combo = (*default[:i], option, *default[i + 1 :])
                if combo not in combos:
                    combos.append(combo)
    out: list[Configuration] = []
    for combo in combos:
        for lens in chosen:
            out.append(resolve(s, dict(zip(ids, combo, strict=True)), lens))
    return out


def _uncertainties(s: Scenario, lens: str | None) -> list[tuple[str, Distribution]]:
    """The distributions a configuration draws: the scenario's, as its lens may replace them."""
    lens_set = next((x.set for x in s.lenses if x.id == lens), {}) if lens else {}
    out = []
    for u in s.uncertainties:
        value = lens_set.get(u.id, u.distribution)
        if not isinstance(value, float | int):
            out.append((u.id, value))
    return out


def design(s: Scenario, spec: ExperimentSpec) -> list[DesignPoint]:
    """The design points of an experiment, in a fixed order."""
    points: list[DesignPoint] = []
    for config in configurations(s, spec.levers, spec.lenses, spec.levers_design):
        dists = _uncertainties(s, config.lens)
        kind, _, k = spec.sample.partition(":")
        if kind == "per_run" or not dists:
            plans: list[tuple[tuple[str, float], ...]] = [()]
        elif kind == "grid":
            axes = []
            for _, d in dists:
                if isinstance(d, Choice):
                    axes.append(np.asarray(d.values, dtype=np.float64))
                else:
                    axes.append(transform(draw_of(d), np.array(GRID_QUANTILES)))
            plans = [
                tuple(zip([n for n, _ in dists], map(float, combo), strict=True))
                for combo in itertools.product(*axes)
            ]
        else:
            from scipy.stats import qmc  # slow to import: on use

            n = int(k)
            engine = (
                qmc.LatinHypercube(d=len(dists), seed=spec.seed)
                if kind == "lhs"
                else qmc.Sobol(d=len(dists), scramble=True, seed=spec.seed)
            )
            with warnings.catch_warnings():  # said once in our words: sobol_note
                warnings.filterwarnings("ignore", "The balance properties of Sobol", UserWarning)
                unit_cube = engine.random(n)
            columns = [transform(draw_of(d), unit_cube[:, j]) for j, (_, d) in enumerate(dists)]
            plans = [
                tuple((name, float(columns[j][i])) for j, (name, _) in enumerate(dists))
                for i in range(n)
            ]
        for fixed in plans:
            points.append(DesignPoint(len(points), config, fixed))
    return points


def sobol_note(sample: str) -> str | None:
    """What to tell about a ``sobol:K`` sample whose K is not a power of 2 (scipy warns about
    it, in its own words, once per design; the sweep says this instead)."""
    kind, _, k = sample.partition(":")
    if kind != "sobol" or not k.isdigit() or int(k) < 1:
        return None
    n = int(k)
    if n & (n - 1) == 0:
        return None
    below, above = 1 << (n.bit_length() - 1), 1 << n.bit_length()
    return (
        f"sample sobol:{n}: Sobol' points are evenly balanced only when their number is a "
        f"power of 2; {n} points are used as asked, but sobol:{below} or sobol:{above} would "
        "spread them more evenly"
    )


def units(points: list[DesignPoint], runs: int, chunk_size: int) -> list[Unit]:
    """Units of work: each design point's runs cut into chunks."""
    bounds = chunk_bounds(runs, chunk_size)
    if len(points) * len(bounds) > MAX_UNITS:
        raise UserError(
            f"{len(points)} design points × {len(bounds)} chunks is more than "
            f"{MAX_UNITS:,} units; use a larger --chunk-size or fewer points"
        )
    out: list[Unit] = []
    for point in points:
        for start, stop in bounds:
            out.append(Unit(len(out), point.index, start, stop))
    return out
