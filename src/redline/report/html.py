"""The report as one self-contained HTML file: tables, plotly figures and the assumptions register.

Everything the page needs is inside it — plotly.js is embedded once, figures are JSON specs drawn
by a few lines of script — so it opens with no network. The template escapes every piece of text
that comes from the scenario; text that goes into figures is escaped for plotly's own markup too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import itertools
import json
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from plotly.colors import qualitative
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from redline.report.data import ConfigurationReport, ReportData
from redline.report.drivers import drivers_figure, drivers_view
from redline.report.record import record_figure, record_view
from redline.report.story import StoryLine
from redline.results import OutcomeSummary
from redline.scenario.calendar import STEP_UNITS, date_of
from redline.scenario.model import TimeSpec
from redline.scenario.register import Citation, RegisterRow

__all__ = ["render_report", "write_report"]

_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
_PALETTE = [*qualitative.Plotly, *qualitative.Dark24]
_UNIT_ALIASES = {
    "daily": "day",
    "days": "day",
    "weekly": "week",
    "weeks": "week",
    "monthly": "month",
    "months": "month",
    "quarterly": "quarter",
    "quarters": "quarter",
    "yearly": "year",
    "annual": "year",
    "years": "year",
}
_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


# ---------------------------------------------------------------------------- public API


def render_report(data: ReportData) -> str:
    """The whole report as one HTML document (a string), with plotly.js inline."""
    template = _environment().get_template("report.html.j2")
    return template.render(
        d=data,
        header=_header(data),
        outcomes=_outcome_columns(data),
        rows=_outcome_rows(data),
        story=_story_groups(data.story),
        register=_register_groups(data.register),
        counts=_register_counts(data.register),
        figures=_figures(data),
        drivers=drivers_view(data.ablation) if data.ablation is not None else None,
        record=record_view(data.score) if data.score is not None else None,
        plotly_js=Markup(_plotly_js()),
        plotly_config=Markup(_script_json(json.dumps(_PLOTLY_CONFIG))),
    )


def write_report(data: ReportData, path: Path) -> Path:
    """Render the report and write it to ``path`` atomically: the file is written next to its
    destination under a temporary name and moved into place, so a crash never leaves a
    half-written report. Returns the path written."""
    path = Path(path)
    text = render_report(data)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


# ---------------------------------------------------------------------------- template set-up

_ENV: Environment | None = None
_JS: str | None = None


def _environment() -> Environment:
    global _ENV
    if _ENV is None:
        env = Environment(
            loader=PackageLoader("redline.report", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["pct"] = _pct
        env.filters["basename"] = _basename
        _ENV = env
    return _ENV


def _plotly_js() -> str:
    global _JS
    if _JS is None:
        # The bundle contains no closing script tag; guard anyway, it would end the element.
        _JS = get_plotlyjs().replace("</script", "<\\/script")
    return _JS


def _script_json(text: str) -> str:
    """JSON made safe inside a <script> element: <, > and & appear only within JSON strings,
    where their \\u escapes mean the same."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _pct(x: float | None) -> str:
    """A probability as a percentage with sensible precision."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    v = 100.0 * x
    if abs(v) < 1e-9:  # interval bounds carry floating-point dust around 0
        return "0%"
    if v >= 1.0 or v <= -1.0:
        return f"{v:.1f}%"
    return f"{v:.2g}%"


def _basename(source: str) -> str:
    name = PureWindowsPath(PurePosixPath(source).name).name
    return name or source


def _plot_text(text: str) -> str:
    """Text for a plotly label: plotly reads a small HTML-like markup, so escape it."""
    return html.escape(text, quote=False)


# ---------------------------------------------------------------------------- dates and header


def _unit(step_unit: str) -> str:
    u = step_unit.strip().lower()
    return _UNIT_ALIASES.get(u, u)


def _calendar(data: ReportData) -> TimeSpec | None:
    """The scenario's calendar; None without a start date or with a step unit it does not
    know."""
    unit = _unit(data.step_unit)
    if data.start is None or unit not in STEP_UNITS:
        return None
    return TimeSpec.model_validate({"step": unit, "start": data.start, "horizon": data.horizon})


def _step_dates(data: ReportData, count: int | None = None) -> list[dt.date] | None:
    """The first day of steps 0 … count-1 (``horizon`` by default), as the scenario calendar
    counts them; None without a calendar."""
    time = _calendar(data)
    if time is None:
        return None
    n = data.horizon if count is None else count
    return [d for d in (date_of(i, time) for i in range(n)) if d is not None]


@dataclass(frozen=True)
class _Header:
    horizon: str
    start: str | None
    end: str | None
    runs: str
    runs_vary: bool  # a Runs column in the outcome table only when configurations differ
    generated: str


def _header(data: ReportData) -> _Header:
    unit = _unit(data.step_unit)
    if unit in STEP_UNITS:
        horizon = f"{data.horizon} {unit}{'' if data.horizon == 1 else 's'}"
    else:
        horizon = f"{data.horizon} steps ({data.step_unit})"
    dates = _step_dates(data)
    start = data.start.isoformat() if data.start else None
    end = dates[-1].isoformat() if dates else None
    runs = sorted({c.runs for c in data.configurations})
    if not runs:
        shown = "—"
    elif len(runs) == 1:
        shown = f"{runs[0]:,}"
    else:
        shown = f"{runs[0]:,}–{runs[-1]:,} (varies)"
    generated = data.generated.isoformat(sep=" ", timespec="seconds")
    return _Header(horizon, start, end, shown, len(runs) > 1, generated)


# ---------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class _Outcome:
    id: str
    name: str


@dataclass(frozen=True)
class _Row:
    config: ConfigurationReport
    color: str
    cells: list[OutcomeSummary | None]


def _outcome_columns(data: ReportData) -> list[_Outcome]:
    """Outcomes in the order of ``outcome_names``, then any others a configuration reports."""
    seen = dict(data.outcome_names)
    for c in data.configurations:
        for s in c.outcomes:
            seen.setdefault(s.id, s.name)
    return [_Outcome(i, n) for i, n in seen.items()]


def _outcome_rows(data: ReportData) -> list[_Row]:
    columns = _outcome_columns(data)
    rows = []
    for k, c in enumerate(data.configurations):
        by_id = {s.id: s for s in c.outcomes}
        rows.append(_Row(c, _color(k), [by_id.get(o.id) for o in columns]))
    return rows


@dataclass(frozen=True)
class _StoryStep:
    step: int
    when: str
    lines: list[StoryLine]


def _story_groups(lines: Sequence[StoryLine]) -> list[_StoryStep]:
    groups = []
    for step, group in itertools.groupby(lines, key=lambda line: line.step):
        items = list(group)
        when = max((line.when for line in items), key=len) or f"step {step}"
        groups.append(_StoryStep(step, when, items))
    return groups


@dataclass(frozen=True)
class _RegisterGroup:
    element: str
    status: str
    citations: tuple[Citation, ...]
    assumption: str | None
    values: list[tuple[str, str]]


def _register_groups(rows: Sequence[RegisterRow]) -> list[_RegisterGroup]:
    """Consecutive rows of one element with the same support, shown once with all values."""
    groups: list[_RegisterGroup] = []
    for (element, cites, assumption), group in itertools.groupby(
        rows, key=lambda r: (r.element, r.citations, r.assumption)
    ):
        items = list(group)
        groups.append(
            _RegisterGroup(
                element, items[0].status, cites, assumption, [(r.name, r.value) for r in items]
            )
        )
    return groups


def _register_counts(rows: Sequence[RegisterRow]) -> dict[str, int]:
    counts = {"cited": 0, "assumption": 0, "unsupported": 0}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    return counts


# ---------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class _Figure:
    id: str
    spec: Markup  # JSON, safe inside a <script type="application/json"> element


def _color(k: int) -> str:
    return str(_PALETTE[k % len(_PALETTE)])


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _base_layout(**extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "template": "plotly_white",
        "font": {"family": _FONT, "size": 13},
        "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
        "hoverlabel": {"font": {"family": _FONT}},
    }
    layout.update(extra)
    return layout


def _figures(data: ReportData) -> dict[str, _Figure | None]:
    figs = {
        "outcomes": _outcome_figure(data),
        "incidence": _incidence_figure(data),
        "occupancy": _occupancy_figure(data),
        "drivers": drivers_figure(data.ablation) if data.ablation is not None else None,
        "record": record_figure(data.score) if data.score is not None else None,
    }
    return {
        name: None
        if fig is None
        else _Figure(
            f"fig-{name}", Markup(_script_json(pio.to_json(fig, validate=True, pretty=False)))
        )
        for name, fig in figs.items()
    }


def _grid(n: int) -> tuple[int, int]:
    """Rows and columns of small multiples for ``n`` panels."""
    ncols = 1 if n == 1 else 2 if n in (2, 4) else 3
    return math.ceil(n / ncols), ncols


def _percent_axes(fig: go.Figure, tops: list[float], ncols: int) -> None:
    """Each panel's y axis from 0 to a little above its highest value, in percent."""
    for j, top in enumerate(tops):
        upper = min(1.0, top * 1.12) if top > 0 else 0.01
        digits = max(0, 1 - math.floor(math.log10(upper * 100)))
        fig.update_yaxes(
            range=[0, upper],
            tickformat=f".{digits}~%",
            rangemode="tozero",
            row=j // ncols + 1,
            col=j % ncols + 1,
        )


def _outcome_figure(data: ReportData) -> go.Figure | None:
    """One panel per outcome (each on its own scale, so rare outcomes stay readable); in each,
    one bar per configuration with its 95% interval as asymmetric whiskers."""
    columns = _outcome_columns(data)
    if not data.configurations or not columns:
        return None
    nrows, ncols = _grid(len(columns))
    fig = make_subplots(
        rows=nrows,
        cols=ncols,
        subplot_titles=[_plot_text(o.name) for o in columns],
        horizontal_spacing=0.07,
        vertical_spacing=min(0.16, 0.5 / nrows),
    )
    rows = _outcome_rows(data)
    tops = [0.0] * len(columns)
    for j, o in enumerate(columns):
        for k, row in enumerate(rows):
            s = row.cells[j]
            if s is None:
                continue
            p, lo, hi = _finite(s.p), _finite(s.lo), _finite(s.hi)
            tops[j] = max(tops[j], *(v for v in (p, hi) if v is not None))
            label = _plot_text(row.config.label)
            fig.add_trace(
                go.Bar(
                    name=label,
                    x=[label],
                    y=[p],
                    marker={"color": row.color},
                    legendgroup=f"c{k}",
                    showlegend=j == 0,
                    error_y={
                        "type": "data",
                        "symmetric": False,
                        "array": [None if p is None or hi is None else max(hi - p, 0.0)],
                        "arrayminus": [None if p is None or lo is None else max(p - lo, 0.0)],
                        "color": "#333",
                        "thickness": 1.2,
                        "width": 4,
                    },
                    customdata=[[_pct(s.p), f"{_pct(s.lo)}–{_pct(s.hi)}", s.hits, s.runs]],
                    hovertemplate=(
                        "%{x}<br>p = %{customdata[0]} (95% CI %{customdata[1]})"
                        "<br>%{customdata[2]:,} of %{customdata[3]:,} runs"
                        "<extra>" + _plot_text(o.name) + "</extra>"
                    ),
                ),
                row=j // ncols + 1,
                col=j % ncols + 1,
            )
    _percent_axes(fig, tops, ncols)
    fig.update_yaxes(title_text="probability", col=1)
    fig.update_xaxes(showticklabels=False)
    height = 90 + 280 * nrows
    fig.update_layout(
        **_base_layout(
            height=height,
            bargap=0.15,
            legend={"orientation": "h", "yanchor": "bottom", "y": 1.0 + 55 / height, "x": 0},
            margin={"l": 70, "r": 20, "t": 80, "b": 20},
        )
    )
    return fig


def _incidence_figure(data: ReportData) -> go.Figure | None:
    """One panel per outcome (each on its own scale); in each, one cumulative-incidence line per
    configuration."""
    columns = [
        o for o in _outcome_columns(data) if any(o.id in c.incidence for c in data.configurations)
    ]
    if not data.configurations or not columns:
        return None
    nrows, ncols = _grid(len(columns))
    fig = make_subplots(
        rows=nrows,
        cols=ncols,
        subplot_titles=[_plot_text(o.name) for o in columns],
        horizontal_spacing=0.07,
        vertical_spacing=min(0.16, 0.5 / nrows),
    )
    longest = max((len(v) for c in data.configurations for v in c.incidence.values()), default=0)
    dates = _step_dates(data, longest + 1)
    tops = [0.0] * len(columns)
    for k, c in enumerate(data.configurations):
        for j, o in enumerate(columns):
            curve = c.incidence.get(o.id)
            if curve is None:
                continue
            # a step function: 0 at the start, then the incidence reached by the end of each
            # step, drawn at the boundary where that step ends
            ys = [0.0, *(_finite(float(v)) for v in curve)]
            tops[j] = max([tops[j], *(v for v in ys if v is not None)])
            xs: list[Any] = list(range(len(ys)))
            when = ["start", *(f"end of step {i}" for i in range(len(curve)))]
            if dates is not None:
                xs = [d.isoformat() for d in dates[: len(ys)]]
                when = [f"{w} ({d:%d %b %Y})" for w, d in zip(when, dates, strict=False)]
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    customdata=when,
                    mode="lines",
                    line={"color": _color(k), "width": 2, "shape": "hv"},
                    name=_plot_text(c.label),
                    legendgroup=f"c{k}",
                    showlegend=j == 0,
                    hovertemplate=(
                        _plot_text(c.label) + "<br>%{customdata}: %{y:.1%}"
                        "<extra>" + _plot_text(o.name) + "</extra>"
                    ),
                ),
                row=j // ncols + 1,
                col=j % ncols + 1,
            )
    _percent_axes(fig, tops, ncols)
    fig.update_yaxes(title_text="cumulative incidence", col=1)
    fig.update_xaxes(
        title_text="date" if dates is not None else f"steps completed ({data.step_unit})", row=nrows
    )
    if dates is not None:
        fig.update_xaxes(type="date")
    height = 140 + 260 * nrows
    fig.update_layout(
        **_base_layout(
            height=height,
            legend={"orientation": "h", "yanchor": "bottom", "y": 1.0 + 60 / height, "x": 0},
            margin={"l": 70, "r": 20, "t": 90, "b": 50},
            hovermode="closest",
        )
    )
    return fig


def _occupancy_figure(data: ReportData) -> go.Figure | None:
    """Heatmap of the share of a configuration's runs on each rung after each step, and above it
    a thin grey strip with the share of runs an outcome has already ended; a menu picks the
    configuration."""
    configs = [c for c in data.configurations if np.asarray(c.occupancy).ndim == 2]
    if not configs or not data.rungs:
        return None
    nr = len(data.rungs)
    shares: list[np.ndarray] = []
    ended: list[np.ndarray] = []
    for c in configs:
        occ = np.asarray(c.occupancy, dtype=float)[:, :nr]
        if occ.shape[1] < nr:
            occ = np.pad(occ, ((0, 0), (0, nr - occ.shape[1])))
        share = occ / c.runs if c.runs > 0 else np.zeros_like(occ)
        gone = np.clip(1.0 - share.sum(axis=1), 0.0, 1.0)
        gone[gone < 1e-9] = 0.0
        shares.append(share.T)  # (rungs, steps)
        ended.append(gone)
    show_ended = any(float(e.max()) > 0 for e in ended)
    steps_n = max(s.shape[1] for s in shares)
    dates = _step_dates(data, steps_n)
    labels = [_plot_text(r) for r in data.rungs]
    zmax = max(float(s.max()) for s in shares) or 1.0
    if show_ended:
        fig = make_subplots(
            rows=2,
            cols=1,
            shared_xaxes=True,
            vertical_spacing=0.02,
            row_heights=[0.6 / (nr + 1), 1 - 0.6 / (nr + 1)],
        )
    else:
        fig = go.Figure()
    per_config = 2 if show_ended else 1
    for k, (c, s, e) in enumerate(zip(configs, shares, ended, strict=True)):
        steps = list(range(s.shape[1]))
        xs: list[Any] = steps
        if dates is not None and len(steps) <= len(dates):
            xs = [d.isoformat() for d in dates[: len(steps)]]
        name = _plot_text(c.label)
        heat = go.Heatmap(
            x=xs,
            y=list(range(nr)),
            z=_cells(s),
            zmin=0.0,
            zmax=zmax,
            colorscale="YlOrRd",
            visible=k == 0,
            name=name,
            xgap=1,
            ygap=1,
            colorbar={
                "title": {"text": "share of runs"},
                "tickformat": ".0%",
                "len": 0.9,
                "y": 0.45,
            },
            customdata=[[label] * len(steps) for label in labels],
            text=[[str(t) for t in steps] for _ in labels],
            hovertemplate=(
                "step %{text}<br>%{customdata}: %{z:.1%} of runs<extra>" + name + "</extra>"
            ),
        )
        if not show_ended:
            fig.add_trace(heat)
            continue
        fig.add_trace(
            go.Heatmap(
                x=xs,
                y=[0],
                z=_cells(e[None, :]),
                zmin=0.0,
                zmax=1.0,
                showscale=False,
                colorscale=[[0.0, "#eef0f2"], [1.0, "#3a4550"]],
                visible=k == 0,
                name=name,
                xgap=1,
                text=[[str(t) for t in steps]],
                hovertemplate=(
                    "step %{text}: an outcome has ended %{z:.1%} of runs<extra>" + name + "</extra>"
                ),
            ),
            row=1,
            col=1,
        )
        fig.add_trace(heat, row=2, col=1)
    rung_axis = {
        "tickmode": "array",
        "tickvals": list(range(nr)),
        "ticktext": labels,
        "title": {"text": "rung (low → high)"},
        "automargin": True,
        "showgrid": False,
        "zeroline": False,
    }
    x_axis = {"showgrid": False, **({"type": "date"} if dates else {})}
    x_title = "date (start of step)" if dates else f"step ({data.step_unit})"
    height = max(340, 130 + 22 * (nr + (1 if show_ended else 0)))
    layout = _base_layout(
        height=height, margin={"l": 60, "r": 20, "t": 60 if len(configs) > 1 else 30, "b": 50}
    )
    if show_ended:
        layout |= {
            "yaxis": {
                "tickmode": "array",
                "tickvals": [0],
                "ticktext": ["run ended"],
                "automargin": True,
                "showgrid": False,
                "zeroline": False,
            },
            "yaxis2": rung_axis,
            "xaxis": x_axis,
            "xaxis2": {**x_axis, "title": {"text": x_title}},
        }
    else:
        layout |= {"yaxis": rung_axis, "xaxis": {**x_axis, "title": {"text": x_title}}}
    if len(configs) > 1:
        layout["updatemenus"] = [
            {
                "type": "dropdown",
                "direction": "down",
                "x": 0,
                "xanchor": "left",
                "y": 1.0,
                "yanchor": "bottom",
                "pad": {"b": 8},
                "showactive": True,
                "active": 0,
                "buttons": [
                    {
                        "label": _plot_text(c.label),
                        "method": "update",
                        "args": [
                            {
                                "visible": [
                                    i // per_config == k for i in range(per_config * len(configs))
                                ]
                            }
                        ],
                    }
                    for k, c in enumerate(configs)
                ],
            }
        ]
    fig.update_layout(**layout)
    return fig


def _cells(z: np.ndarray) -> list[list[float | None]]:
    """Heatmap cells: shares rounded for a compact file, empty cells left blank."""
    return [[round(float(v), 6) if v > 0 else None for v in row] for row in z]
