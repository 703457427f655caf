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
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np
import plotly.io as pio
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from plotly.colors import make_colorscale, qualitative, sequential
from plotly.offline import get_plotlyjs

from redline.report.data import ConfigurationReport, ReportData
from redline.report.drivers import drivers_figure, drivers_view
from redline.report.narrative import beats
from redline.report.plotly_spec import Subplots, merge, template, to_json
from redline.report.record import record_figure, record_view
from redline.report.summary import (
    disagreement,
    lens_color,
    lens_groups,
    pct,
    setting_of,
    summary_figure,
    summary_view,
)
from redline.results import OutcomeSummary
from redline.scenario.calendar import STEP_UNITS, date_of
from redline.scenario.model import TimeSpec
from redline.scenario.register import Citation, RegisterRow
from redline.scenario.sources import is_reference, shown_date

__all__ = ["figure_specs", "plotly_js", "render_report", "write_report"]

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
        tables=_outcome_tables(data),
        summary=summary_view(data),
        disagreement=disagreement(data),
        story=beats(data.story),
        register=_register_view(data.register),
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


def figure_specs(data: ReportData) -> dict[str, str]:
    """The report's figures by name (``summary``, ``outcomes``, ``incidence``, ``occupancy``,
    ...: those it has), each as plotly JSON made safe inside a ``<script>`` element: what a page
    that draws the report's figures itself (the web page) needs."""
    return {name: str(fig.spec) for name, fig in _figures(data).items() if fig is not None}


def plotly_js() -> str:
    """The plotly.js bundle the report embeds (that of the installed plotly package)."""
    return _plotly_js()


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
        env.filters["wbr"] = _breakable
        env.filters["wbr_narrow"] = lambda text: _breakable(text, "=,._")
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


#: a probability as a percentage (the template's ``pct`` filter)
_pct = pct


def _basename(source: str) -> str:
    name = PureWindowsPath(PurePosixPath(source).name).name
    return name or source


def _breakable(text: str, marks: str = "=,.") -> Markup:
    """Text escaped, with line-break opportunities after each of ``marks`` (a lever setting
    such as ``ukraine_membership=vilnius_invitation`` or an element such as
    ``red_lines.rl_convoys`` wraps there, not inside a word; a narrow column adds ``_``)."""
    escaped = html.escape(text, quote=True)
    for mark in marks:
        escaped = escaped.replace(mark, mark + "<wbr>")
    return Markup(escaped)


def _panel_title(text: str, width: int = 30) -> str:
    """A small multiple's title, escaped for plotly and wrapped onto lines of about ``width``
    characters so that neighbouring panels' titles never run into each other."""
    lines = textwrap.wrap(text, width) or [text]
    return "<br>".join(_plot_text(line) for line in lines)


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


@dataclass(frozen=True)
class _Table:
    """The outcome table of one lens: a row per lever setting, or — with more outcomes than
    fit side by side and fewer settings than outcomes — a row per outcome and a column per
    setting (``transposed``)."""

    lens: str  # the lens's name; empty without lenses
    color: str
    rows: list[_Row]
    transposed: bool = False


#: more outcomes than this and a table turns to a row per outcome (when settings are fewer)
_OUTCOME_COLUMNS = 7


def _outcome_tables(data: ReportData) -> list[_Table]:
    """One table per lens (a single one without lenses), a row per lever setting; turned, a
    row per outcome, where the outcomes would not fit the page as columns."""
    columns = _outcome_columns(data)
    tables = []
    for k, g in enumerate(lens_groups(data)):
        rows = []
        for c in g.configurations:
            by_id = {s.id: s for s in c.outcomes}
            rows.append(_Row(c, lens_color(k), [by_id.get(o.id) for o in columns]))
        turned = len(columns) > _OUTCOME_COLUMNS and len(rows) < len(columns)
        tables.append(_Table(g.name, lens_color(k), rows, turned))
    return tables


@dataclass(frozen=True)
class _Quote:
    """One quoted piece of evidence, shown once in the register however many values cite it."""

    number: int
    source: str  # the source's title where the scenario records one, else its file name
    detail: str  # author or publisher and date, and the file name, where known
    quote: str
    supports: tuple[str, ...]  # what each citation says the quote supports
    elements: tuple[str, ...]  # the elements that cite it


@dataclass(frozen=True)
class _RegisterGroup:
    element: str
    status: str
    quotes: tuple[int, ...]  # numbers of its quotes in the register's list
    assumption: str | None
    #: name, value and its kind where the group's values differ in kind
    values: list[tuple[str, str, str | None]]
    kind: str | None  # the kind every value of the group shares, when the data has kinds


@dataclass(frozen=True)
class _Register:
    groups: list[_RegisterGroup]
    quotes: list[_Quote]
    kinds: dict[str, int]  # the numbers' kinds and their counts; empty when rows carry none


#: the kinds of number a register row may carry, in the order the report counts them
_KINDS = ("stated", "qualitative", "assumption", "unsupported")


def _field(obj: object, name: str) -> str | None:
    """A text attribute when the object has it and it is set (register data may carry more
    fields than this module needs: a source's title, author, date)."""
    value = getattr(obj, name, None)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _source_names(c: Citation) -> tuple[str, str]:
    """A citation's source as the reader sees it: the title from its record, with author,
    publisher, date and web address as the detail; a public record named in words as written;
    a bare file name (no record) by its base name."""
    record = c.record
    if record is not None:
        parts = (record.author, record.publisher, shown_date(record.date), record.url)
        return record.title, ", ".join(p for p in parts if p)
    return (_basename(c.source) if is_reference(c.source) else c.source), ""


def _register_view(rows: Sequence[RegisterRow]) -> _Register:
    """Consecutive rows of one element with the same support, shown once with all values; each
    distinct quote numbered once, in order of first citation."""
    numbers: dict[tuple[str, str], int] = {}
    quotes: dict[int, dict[str, Any]] = {}
    groups: list[_RegisterGroup] = []
    kinds: dict[str, int] = {}
    for (element, cites, assumption), group in itertools.groupby(
        rows, key=lambda r: (r.element, r.citations, r.assumption)
    ):
        items = list(group)
        refs = []
        for c in cites:
            key = (c.source, c.quote)
            if key not in numbers:
                numbers[key] = len(numbers) + 1
                title, detail = _source_names(c)
                quotes[numbers[key]] = {
                    "source": title,
                    "detail": detail,
                    "quote": c.quote,
                    "supports": [],
                    "elements": [],
                }
            q = quotes[numbers[key]]
            if c.supports and c.supports not in q["supports"]:
                q["supports"].append(c.supports)
            if element not in q["elements"]:
                q["elements"].append(element)
            refs.append(numbers[key])
        values = []
        for r in items:
            kind = _field(r, "kind")
            if kind is not None:
                kinds[kind] = kinds.get(kind, 0) + 1
            values.append((r.name, r.value, kind))
        shared = {kind for _, _, kind in values}
        common = next(iter(shared)) if len(shared) == 1 else None
        if common is not None:  # said once for the group, not on every value
            values = [(name, value, None) for name, value, _ in values]
        quotes_of = tuple(dict.fromkeys(refs))
        groups.append(
            _RegisterGroup(element, items[0].status, quotes_of, assumption, values, common)
        )
    ordered = {k: kinds[k] for k in _KINDS if k in kinds} | kinds
    return _Register(
        groups,
        [
            _Quote(
                n,
                q["source"],
                q["detail"],
                q["quote"],
                tuple(q["supports"]),
                tuple(q["elements"]),
            )
            for n, q in quotes.items()
        ],
        ordered,
    )


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
        "template": template("plotly_white"),
        "font": {"family": _FONT, "size": 13},
        "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
        "hoverlabel": {"font": {"family": _FONT}},
    }
    layout.update(extra)
    return layout


def _figures(data: ReportData) -> dict[str, _Figure | None]:
    """The report's figures as JSON: its own made as plain specs (:mod:`.plotly_spec`), those
    of an ablation or a score as plotly's figures."""
    figs = {
        "summary": summary_figure(data, {"family": _FONT, "size": 13}),
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
            f"fig-{name}",
            Markup(
                _script_json(
                    to_json(fig) if isinstance(fig, dict) else pio.to_json(fig, pretty=False)
                )
            ),
        )
        for name, fig in figs.items()
    }


def _spec(traces: list[dict[str, Any]], grid: Subplots | None, **layout: Any) -> dict[str, Any]:
    """A figure as plotly JSON: its traces, and as its layout the template, the grid's axes
    and panel titles, and ``layout`` merged into them (as plotly's ``update_layout`` merges)."""
    head = {"template": layout.pop("template")} | (grid.layout if grid is not None else {})
    return {"data": traces, "layout": merge(head, layout)}


def _grid(n: int) -> tuple[int, int]:
    """Rows and columns of small multiples for ``n`` panels."""
    ncols = 1 if n == 1 else 2 if n in (2, 4) else 3
    return math.ceil(n / ncols), ncols


def _percent_scale(top: float) -> dict[str, Any]:
    """A probability axis from 0 to a little above ``top``, its ticks in percent with the
    digits its range needs."""
    upper = min(1.0, top * 1.12) if top > 0 else 0.01
    digits = max(0, 1 - math.floor(math.log10(upper * 100)))
    return {"range": [0, upper], "tickformat": f".{digits}~%"}


def _percent_axes(grid: Subplots, tops: list[float], ncols: int) -> None:
    """Each panel's y axis from 0 to a little above its highest value, in percent."""
    for j, top in enumerate(tops):
        grid.update_yaxes(
            **_percent_scale(top),
            rangemode="tozero",
            row=j // ncols + 1,
            col=j % ncols + 1,
        )


def _settings(data: ReportData) -> list[str]:
    """The lever settings of the experiment, in order of first appearance."""
    return list(dict.fromkeys(setting_of(c) for c in data.configurations))


def _outcome_figure(data: ReportData) -> dict[str, Any] | None:
    """One panel per outcome (each on its own scale, so rare outcomes stay readable); in each,
    a row per lever setting and in it a dot per lens (its colour) with its 95% interval as
    whiskers. The legend names the lenses only, however many configurations there are."""
    columns = _outcome_columns(data)
    if not data.configurations or not columns:
        return None
    groups = lens_groups(data)
    settings = _settings(data)
    n_set, n_lens = len(settings), len(groups)
    row_of = {name: n_set - 1 - i for i, name in enumerate(settings)}
    band = 0.7 / n_lens
    nrows, ncols = _grid(len(columns))
    grid = Subplots(
        rows=nrows,
        cols=ncols,
        titles=[_panel_title(o.name) for o in columns],
        shared_yaxes=True,
        horizontal_spacing=0.045,
        vertical_spacing=min(0.14, 0.5 / nrows),
    )
    tops = [0.0] * len(columns)
    traces: list[dict[str, Any]] = []
    for j, o in enumerate(columns):
        for k, g in enumerate(groups):
            offset = (k - (n_lens - 1) / 2) * band
            xs, ys, lo, hi, hover = [], [], [], [], []
            for c in g.configurations:
                s = next((x for x in c.outcomes if x.id == o.id), None)
                p = None if s is None else _finite(s.p)
                if s is None or p is None:
                    continue
                xs.append(p)
                ys.append(row_of[setting_of(c)] + offset)
                up, down = _finite(s.hi), _finite(s.lo)
                lo.append(None if down is None else max(p - down, 0.0))
                hi.append(None if up is None else max(up - p, 0.0))
                tops[j] = max(tops[j], p, up or 0.0)
                hover.append(
                    [
                        _plot_text(setting_of(c)),
                        _pct(s.p),
                        f"{_pct(s.lo)}–{_pct(s.hi)}",
                        s.hits,
                        s.runs,
                    ]
                )
            name = _plot_text(g.name or "base values")
            traces.append(
                {
                    "type": "scatter",
                    "x": xs,
                    "y": ys,
                    "mode": "markers",
                    "name": name,
                    "legendgroup": f"lens{k}",
                    "showlegend": j == 0,
                    "marker": {"color": lens_color(k), "size": 8},
                    "error_x": {
                        "type": "data",
                        "symmetric": False,
                        "array": hi,
                        "arrayminus": lo,
                        "color": lens_color(k),
                        "thickness": 1.2,
                        "width": 3,
                    },
                    "customdata": hover,
                    "hovertemplate": (
                        "%{customdata[0]}<br>p = %{customdata[1]} (95% CI %{customdata[2]})"
                        "<br>%{customdata[3]:,} of %{customdata[4]:,} runs"
                        "<extra>" + name + " · " + _plot_text(o.name) + "</extra>"
                    ),
                    **grid.cell(j // ncols + 1, j % ncols + 1),
                }
            )
    for j, top in enumerate(tops):
        grid.update_xaxes(
            **_percent_scale(top),
            nticks=4,
            ticklabelstandoff=2,
            row=j // ncols + 1,
            col=j % ncols + 1,
        )
    grid.update_yaxes(
        tickmode="array",
        tickvals=list(range(n_set)),
        ticktext=[_plot_text(name) for name in reversed(settings)],
        range=[-0.6, n_set - 0.4],
        showgrid=True,
        zeroline=False,
        automargin=True,
    )
    panel = 40 + max(60, n_set * max(22, 8 * n_lens))
    height = 110 + panel * nrows
    return _spec(
        traces,
        grid,
        **_base_layout(
            height=height,
            showlegend=n_lens > 1,
            legend={"orientation": "h", "yanchor": "bottom", "y": 1.0 + 45 / height, "x": 0},
            margin={"l": 20, "r": 20, "t": 80, "b": 30},
            hovermode="closest",
        ),
    )


#: more lever settings than this and the incidence figure colours only the defaults
_SETTING_COLOURS = 10


def _incidence_figure(data: ReportData) -> dict[str, Any] | None:
    """One panel per outcome (each on its own scale); in each, one cumulative-incidence line per
    lever setting (its colour) for one lens at a time — a menu picks the lens. With more than
    ten settings (a sweep over sampled uncertainties), the defaults are drawn in colour and the
    others in grey under one legend entry."""
    columns = [
        o for o in _outcome_columns(data) if any(o.id in c.incidence for c in data.configurations)
    ]
    if not data.configurations or not columns:
        return None
    groups = lens_groups(data)
    settings = _settings(data)
    many = len(settings) > _SETTING_COLOURS
    nrows, ncols = _grid(len(columns))
    grid = Subplots(
        rows=nrows,
        cols=ncols,
        titles=[_panel_title(o.name) for o in columns],
        horizontal_spacing=0.07,
        vertical_spacing=min(0.16, 0.5 / nrows),
    )
    longest = max((len(v) for c in data.configurations for v in c.incidence.values()), default=0)
    dates = _step_dates(data, longest + 1)
    # each point's x and hover label, made once for the longest curve (each curve takes the
    # first of them): the start, then the end of each step, by date where there is a calendar
    steps_x: list[Any] = list(range(longest + 1))
    steps_when = ["start", *(f"end of step {i}" for i in range(longest))]
    if dates is not None:
        steps_x = [d.isoformat() for d in dates]
        steps_when = [f"{w} ({d:%d %b %Y})" for w, d in zip(steps_when, dates, strict=False)]
    tops = [0.0] * len(columns)
    owner: list[int] = []  # each trace's lens group, for the menu
    traces: list[dict[str, Any]] = []
    cells = [grid.cell(j // ncols + 1, j % ncols + 1) for j in range(len(columns))]
    for k, g in enumerate(groups):
        legend_done: set[str] = set()
        for c in g.configurations:
            setting = setting_of(c)
            grey = many and setting != "defaults"
            entry = "other settings" if grey else setting
            color = "#9aa4ae" if grey else _color(settings.index(setting))
            for j, o in enumerate(columns):
                curve = c.incidence.get(o.id)
                if curve is None:
                    continue
                # a step function: 0 at the start, then the incidence reached by the end of
                # each step, drawn at the boundary where that step ends
                ys = [0.0, *(_finite(float(v)) for v in curve)]
                tops[j] = max([tops[j], *(v for v in ys if v is not None)])
                name = _plot_text(setting)
                traces.append(
                    {
                        "type": "scatter",
                        "x": steps_x[: len(ys)],
                        "y": ys,
                        "customdata": steps_when[: len(ys)],
                        "mode": "lines",
                        "line": {"color": color, "width": 1 if grey else 2, "shape": "hv"},
                        "name": _plot_text(entry),
                        "legendgroup": entry,
                        "showlegend": entry not in legend_done,
                        "visible": k == 0,
                        "hovertemplate": (
                            name + "<br>%{customdata}: %{y:.1%}"
                            "<extra>" + _plot_text(o.name) + "</extra>"
                        ),
                        **cells[j],
                    }
                )
                owner.append(k)
                legend_done.add(entry)
    _percent_axes(grid, tops, ncols)
    grid.update_yaxes(title={"text": "cumulative incidence"}, col=1)
    grid.update_xaxes(
        title={"text": "date" if dates is not None else f"steps completed ({data.step_unit})"},
        row=nrows,
    )
    if dates is not None:
        grid.update_xaxes(type="date")
    height = 140 + 260 * nrows + (70 if len(groups) > 1 else 0)
    layout = _base_layout(
        height=height,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0 + 60 / height, "x": 0},
        margin={"l": 70, "r": 20, "t": 90 + (70 if len(groups) > 1 else 0), "b": 50},
        hovermode="closest",
    )
    if len(groups) > 1:
        layout["updatemenus"] = [
            _menu([f"lens: {g.name}" for g in groups], owner, y=1.0 + 125 / height)
        ]
    return _spec(traces, grid, **layout)


def _menu(labels: list[str], owner: list[int], y: float = 1.0) -> dict[str, Any]:
    """A dropdown that shows the traces of one group at a time (``owner``: each trace's
    group)."""
    return {
        "type": "dropdown",
        "direction": "down",
        "x": 0,
        "xanchor": "left",
        "y": y,
        "yanchor": "bottom",
        "pad": {"b": 8},
        "showactive": True,
        "active": 0,
        "buttons": [
            {
                "label": _plot_text(label),
                "method": "update",
                "args": [{"visible": [g == k for g in owner]}],
            }
            for k, label in enumerate(labels)
        ],
    }


def _occupancy_figure(data: ReportData) -> dict[str, Any] | None:
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
    grid = (
        Subplots(
            rows=2,
            cols=1,
            shared_xaxes=True,
            vertical_spacing=0.02,
            row_heights=[0.6 / (nr + 1), 1 - 0.6 / (nr + 1)],
        )
        if show_ended
        else None
    )
    per_config = 2 if show_ended else 1
    traces: list[dict[str, Any]] = []
    strip, rungs = (grid.cell(1, 1), grid.cell(2, 1)) if grid is not None else ({}, {})
    for k, (c, s, e) in enumerate(zip(configs, shares, ended, strict=True)):
        steps = list(range(s.shape[1]))
        xs: list[Any] = steps
        if dates is not None and len(steps) <= len(dates):
            xs = [d.isoformat() for d in dates[: len(steps)]]
        name = _plot_text(c.label)
        heat = {
            "type": "heatmap",
            "x": xs,
            "y": list(range(nr)),
            "z": _cells(s),
            "zmin": 0.0,
            "zmax": zmax,
            # spelt out, as plotly's figures spell a named scale (plotly.js reads names its way)
            "colorscale": make_colorscale(sequential.YlOrRd),
            "visible": k == 0,
            "name": name,
            "xgap": 1,
            "ygap": 1,
            "colorbar": {
                "title": {"text": "share of runs"},
                "tickformat": ".0%",
                "len": 0.9,
                "y": 0.45,
            },
            "customdata": [[label] * len(steps) for label in labels],
            "text": [[str(t) for t in steps] for _ in labels],
            "hovertemplate": (
                "step %{text}<br>%{customdata}: %{z:.1%} of runs<extra>" + name + "</extra>"
            ),
        }
        if not show_ended:
            traces.append(heat)
            continue
        traces.append(
            {
                "type": "heatmap",
                "x": xs,
                "y": [0],
                "z": _cells(e[None, :]),
                "zmin": 0.0,
                "zmax": 1.0,
                "showscale": False,
                "colorscale": [[0.0, "#eef0f2"], [1.0, "#3a4550"]],
                "visible": k == 0,
                "name": name,
                "xgap": 1,
                "text": [[str(t) for t in steps]],
                "hovertemplate": (
                    "step %{text}: an outcome has ended %{z:.1%} of runs<extra>" + name + "</extra>"
                ),
                **strip,
            }
        )
        traces.append({**heat, **rungs})
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
    return _spec(traces, grid, **layout)


def _cells(z: np.ndarray) -> list[list[float | None]]:
    """Heatmap cells: shares rounded for a compact file, empty cells left blank."""
    return [[round(float(v), 6) if v > 0 else None for v in row] for row in z]
