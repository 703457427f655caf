"""The report's summary: the headline outcomes under each lens, and what each lever setting
changes, in words and one figure.

Configurations are grouped by lens, and within a lens by lever setting: a sweep's design points
that differ only in the uncertainties they fix are pooled (their runs together, so the estimate
averages over the sampled uncertainties), with the range across the points beside it. Within a
lens, the reference is the setting with every lever at its default (the first one when the
experiment has none). A lever setting's change is named only where the two 95% intervals do not
overlap, so the words never call noise an effect.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

from plotly.colors import qualitative

from redline.experiment.design import setting_label
from redline.report.data import ConfigurationReport, ReportData
from redline.report.plotly_spec import template
from redline.results import OutcomeSummary
from redline.stats import wilson_interval

__all__ = [
    "LensGroup",
    "LensSummary",
    "lens_color",
    "lens_groups",
    "pct",
    "setting_of",
    "summary_figure",
    "summary_view",
]

#: one colour per lens (figures colour by lens, never by configuration)
_LENS_PALETTE = list(qualitative.Safe)
#: how many lever settings' changes the words name per lens, and outcomes per setting
_MAX_SETTINGS = 8
_MAX_CHANGES = 3
_DEFAULTS = "defaults"


def pct(x: float | None) -> str:
    """A probability as a percentage with sensible precision (``12.3%``, ``0.012%``, ``0%``)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    v = 100.0 * x
    if abs(v) < 1e-9:  # interval bounds carry floating-point dust around 0
        return "0%"
    if v >= 1.0 or v <= -1.0:
        return f"{v:.1f}%"
    return f"{v:.2g}%"


def setting_of(c: ConfigurationReport) -> str:
    """What a configuration changes from the defaults, without its lens."""
    return c.setting or c.label


def _lens_key(c: ConfigurationReport) -> str:
    return c.lens or ""


def _lens_name(c: ConfigurationReport) -> str:
    return c.lens_name or c.lens or ""


def lens_color(k: int) -> str:
    """The colour of the ``k``-th lens in every figure."""
    return str(_LENS_PALETTE[k % len(_LENS_PALETTE)])


@dataclass(frozen=True)
class Pooled:
    """One lever setting under one lens: its design points' runs pooled per outcome, and the
    range of the points' own estimates."""

    setting: str
    points: int
    runs: int
    outcomes: list[OutcomeSummary]
    #: per outcome id: the lowest and highest estimate over the design points
    spread: dict[str, tuple[float, float]]


def _pool(setting: str, configs: list[ConfigurationReport]) -> Pooled:
    if len(configs) == 1:
        c = configs[0]
        return Pooled(setting, 1, c.runs, list(c.outcomes), {s.id: (s.p, s.p) for s in c.outcomes})
    ids: dict[str, str] = {}
    for c in configs:
        for s in c.outcomes:
            ids.setdefault(s.id, s.name)
    pooled, spread = [], {}
    for ident, name in ids.items():
        cells = [s for c in configs for s in c.outcomes if s.id == ident]
        hits, runs = sum(s.hits for s in cells), sum(s.runs for s in cells)
        lo, hi = wilson_interval(hits, runs)
        p = hits / runs if runs else math.nan
        firsts = [
            (s.mean_first_step, s.hits) for s in cells if s.mean_first_step is not None and s.hits
        ]
        weight = sum(w for _, w in firsts)
        mean = sum(m * w for m, w in firsts) / weight if weight else None
        pooled.append(OutcomeSummary(ident, name, hits, runs, p, lo, hi, mean))
        finite = [s.p for s in cells if math.isfinite(s.p)]
        spread[ident] = (min(finite), max(finite)) if finite else (math.nan, math.nan)
    return Pooled(setting, len(configs), sum(c.runs for c in configs), pooled, spread)


@dataclass(frozen=True)
class LensGroup:
    """The configurations of one lens, in the experiment's order, and their lever settings
    with design points pooled."""

    lens: str  # id; empty without lenses
    name: str  # what the report calls it
    configurations: list[ConfigurationReport]
    settings: list[Pooled]

    @property
    def reference(self) -> Pooled:
        """The setting with every lever at its default, else the first."""
        for s in self.settings:
            if s.setting == _DEFAULTS:
                return s
        return self.settings[0]


def lens_groups(data: ReportData) -> list[LensGroup]:
    """Configurations grouped by lens, lenses in their first appearance's order; within a lens,
    by lever setting (what the levers change from their defaults, the uncertainties a design
    point fixes left out)."""
    by_lens: dict[str, list[ConfigurationReport]] = {}
    for c in data.configurations:
        by_lens.setdefault(_lens_key(c), []).append(c)
    groups = []
    for key, configs in by_lens.items():
        by_setting: dict[str, list[ConfigurationReport]] = {}
        for c in configs:
            label = setting_label(c.levers, data.lever_defaults, {}) if c.setting else c.label
            by_setting.setdefault(label, []).append(c)
        settings = [_pool(label, cs) for label, cs in by_setting.items()]
        groups.append(LensGroup(key, _lens_name(configs[0]), configs, settings))
    return groups


@dataclass(frozen=True)
class LensSummary:
    """What the summary says about one lens."""

    name: str  # the lens's name; empty without lenses
    color: str
    reference: str  # the lever setting its headline describes
    runs: int
    points: int  # design points pooled in the reference (1 unless a sweep sampled uncertainties)
    #: outcomes by probability, highest first: (name, "78.8%", "77.0–80.5%", and the range over
    #: the design points, "2.3%–9.0%", or empty)
    headline: list[tuple[str, str, str, str]]
    #: per other lever setting: (setting, its clear changes as "war 78.8% → 1.9%", ...)
    settings: list[tuple[str, list[str]]]
    #: lever settings beyond those listed
    more: int


def _by_id(c: ConfigurationReport | Pooled) -> dict[str, OutcomeSummary]:
    return {s.id: s for s in c.outcomes}


def _clear_change(a: OutcomeSummary, b: OutcomeSummary) -> bool:
    """Whether two estimates differ beyond their 95% intervals (the intervals do not overlap)."""
    values = (a.p, a.lo, a.hi, b.p, b.lo, b.hi)
    if not all(math.isfinite(v) for v in values):
        return False
    return b.lo > a.hi or b.hi < a.lo


def _changes(ref: Pooled, other: Pooled) -> list[str]:
    base = _by_id(ref)
    moved = []
    for s in other.outcomes:
        r = base.get(s.id)
        if r is not None and _clear_change(r, s):
            moved.append((abs(s.p - r.p), f"{s.name} {pct(r.p)} → {pct(s.p)}"))
    moved.sort(key=lambda m: -m[0])
    return [text for _, text in moved[:_MAX_CHANGES]]


def summary_view(data: ReportData) -> list[LensSummary]:
    """Per lens: its reference configuration's outcomes, highest first, and each other lever
    setting's clear changes from it."""
    out = []
    for k, group in enumerate(lens_groups(data)):
        ref = group.reference
        ranked = sorted(ref.outcomes, key=lambda s: -s.p if math.isfinite(s.p) else 1.0)
        headline = [
            (s.name, pct(s.p), f"{pct(s.lo)}–{pct(s.hi)}", _spread(ref, s.id)) for s in ranked
        ]
        others = [c for c in group.settings if c is not ref]
        settings = [(c.setting, _changes(ref, c)) for c in others[:_MAX_SETTINGS]]
        out.append(
            LensSummary(
                group.name,
                lens_color(k),
                ref.setting,
                ref.runs,
                ref.points,
                headline,
                settings,
                max(0, len(others) - _MAX_SETTINGS),
            )
        )
    return out


def _spread(pooled: Pooled, ident: str) -> str:
    """The range of an outcome's estimate over a setting's design points, when there are
    several and they differ."""
    low, high = pooled.spread.get(ident, (math.nan, math.nan))
    if pooled.points < 2 or not (math.isfinite(low) and math.isfinite(high)) or low == high:
        return ""
    return f"{pct(low)}–{pct(high)}"


def disagreement(data: ReportData) -> str | None:
    """The outcome on which the lenses' reference configurations differ most, in words; None
    with fewer than two lenses or no difference beyond the intervals."""
    groups = lens_groups(data)
    if len(groups) < 2:
        return None
    best: tuple[float, str] | None = None
    names = {s.id: s.name for g in groups for s in g.reference.outcomes}
    for ident, name in names.items():
        cells = [(g.name, _by_id(g.reference).get(ident)) for g in groups]
        known = [(n, s) for n, s in cells if s is not None and math.isfinite(s.p)]
        if len(known) < 2:
            continue
        low = min(known, key=lambda x: x[1].p)
        high = max(known, key=lambda x: x[1].p)
        if not _clear_change(low[1], high[1]):
            continue
        gap = high[1].p - low[1].p
        if best is None or gap > best[0]:
            text = (
                f"The lenses disagree most on {name}: {pct(low[1].p)} under {low[0]}, "
                f"{pct(high[1].p)} under {high[0]}."
            )
            best = (gap, text)
    return None if best is None else best[1]


def _plot_text(text: str) -> str:
    return html.escape(text, quote=False)


def summary_figure(data: ReportData, font: dict[str, Any]) -> dict[str, Any] | None:
    """One panel: each outcome (a row) under each lens (a colour), with every lever at its
    default — a dot with its 95% interval — and a thin bar over the range the lens's lever
    settings span. The legend has one entry per lens. A plotly spec (:mod:`.plotly_spec`)."""
    groups = lens_groups(data)
    names: dict[str, str] = dict(data.outcome_names)
    for g in groups:
        for o in g.reference.outcomes:
            names.setdefault(o.id, o.name)
    if not groups or not names:
        return None
    ids = list(names)
    n, k_count = len(ids), len(groups)
    width = 0.7 / k_count  # each lens's band within an outcome's row
    traces: list[dict[str, Any]] = []
    for k, g in enumerate(groups):
        offset = (k - (k_count - 1) / 2) * width
        ref = _by_id(g.reference)
        xs: list[float | None] = []
        ys: list[float] = []
        lo: list[float | None] = []
        hi: list[float | None] = []
        hover = []
        span_x: list[float | None] = []
        span_y: list[float | None] = []
        for j, ident in enumerate(ids):
            y = n - 1 - j + offset
            s = ref.get(ident)
            if s is not None and math.isfinite(s.p):
                xs.append(s.p)
                ys.append(y)
                lo.append(max(s.p - s.lo, 0.0) if math.isfinite(s.lo) else None)
                hi.append(max(s.hi - s.p, 0.0) if math.isfinite(s.hi) else None)
                hover.append(f"{pct(s.p)} (95% CI {pct(s.lo)}–{pct(s.hi)})")
            values = [
                v.p
                for c in g.configurations
                if (v := _by_id(c).get(ident)) is not None and math.isfinite(v.p)
            ]
            if len(values) > 1 and max(values) > min(values):
                span_x += [min(values), max(values), None]
                span_y += [y, y, None]
        color = lens_color(k)
        label = _plot_text(g.name or "base values")
        if span_x:
            traces.append(
                {
                    "type": "scatter",
                    "x": span_x,
                    "y": span_y,
                    "mode": "lines",
                    "line": {"color": color, "width": 7},
                    "opacity": 0.28,
                    "legendgroup": f"lens{k}",
                    "showlegend": False,
                    "hoverinfo": "skip",
                }
            )
        traces.append(
            {
                "type": "scatter",
                "x": xs,
                "y": ys,
                "mode": "markers",
                "marker": {"color": color, "size": 9, "line": {"color": "#fff", "width": 1}},
                "error_x": {
                    "type": "data",
                    "symmetric": False,
                    "array": hi,
                    "arrayminus": lo,
                    "color": color,
                    "thickness": 1.2,
                    "width": 3,
                },
                "name": label,
                "legendgroup": f"lens{k}",
                "customdata": hover,
                "hovertemplate": "%{customdata}<extra>" + label + "</extra>",
            }
        )
    height = 110 + n * max(34, 14 * k_count)
    layout = {
        "template": template("plotly_white"),
        "yaxis": {
            "tickmode": "array",
            "tickvals": [n - 1 - j for j in range(n)],
            "ticktext": [_plot_text(names[i]) for i in ids],
            "range": [-0.6, n - 0.4],
            "showgrid": False,
            "zeroline": False,
            "automargin": True,
        },
        "xaxis": {
            "title": {"text": "probability within the horizon"},
            "tickformat": ".0%",
            "rangemode": "tozero",
        },
        "font": font,
        "margin": {"l": 20, "r": 20, "t": 40, "b": 50},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        "height": height,
        "showlegend": True,
        "hovermode": "closest",
    }
    return {"data": traces, "layout": layout}
