"""Report sections for sensitivity analysis and scenario discovery, and the page that holds them.

``redline analyze sensitivity --report PATH`` and ``redline analyze discover --report PATH`` each
write one self-contained HTML file: plotly.js embedded once, the figures as plotly figures, the
tables as HTML. Text that comes from the scenario (names, ids) is escaped for HTML and for
plotly's own markup.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
import plotly.io as pio
from plotly.colors import qualitative
from plotly.subplots import make_subplots

if TYPE_CHECKING:
    from redline.analysis.discovery import Discovery
    from redline.analysis.sensitivity import Screening, Sensitivity

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}
th,td{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:right}
th:first-child,td:first-child,th.l,td.l{text-align:left}
.note{color:#555;font-size:.9em;max-width:60em}.warn{color:#a35a00}
"""


def _text(value: object) -> str:
    """Scenario text for a plotly label (plotly reads an HTML-like markup) or the page."""
    return html.escape(str(value), quote=True)


def _color(k: int) -> str:
    palette = qualitative.Plotly
    return str(palette[k % len(palette)])


def _number(value: object, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != 0 and abs(value) < 10**-digits:
            return f"{value:.2g}"  # a small variance or quasi-p value, not 0.000
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return _text(value)


def table_html(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Rows as an HTML table of the given columns."""
    head = "".join(f"<th>{_text(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='l'>{_number(row.get(c))}</td>"
            if isinstance(row.get(c), str)
            else f"<td>{_number(row.get(c))}</td>"
            for c in columns
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _layout(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(
        template="plotly_white", height=height, margin={"l": 60, "r": 20, "t": 50, "b": 50}
    )
    return fig


def sobol_figure(result: Sensitivity) -> go.Figure:
    """First-order and total indices with their 95% intervals: a panel per outcome."""
    names = dict(result.outcomes)
    rows = result.indices.to_pylist()
    outcomes = [o for o, _ in result.outcomes]
    fig = make_subplots(
        rows=len(outcomes), cols=1, subplot_titles=[_text(names[o]) for o in outcomes]
    )
    for i, o in enumerate(outcomes, start=1):
        mine = [r for r in rows if r["outcome"] == o]
        for k, (key, label) in enumerate((("S1", "first order"), ("ST", "total"))):
            fig.add_trace(
                go.Bar(
                    x=[_text(r["factor"]) for r in mine],
                    y=[_finite(r[key]) for r in mine],
                    error_y={"type": "data", "array": [_finite(r[key + "_conf"]) for r in mine]},
                    name=label,
                    marker_color=_color(k),
                    showlegend=i == 1,
                    legendgroup=key,
                ),
                row=i,
                col=1,
            )
        fig.update_yaxes(title_text="Sobol index", range=[-0.05, 1.05], row=i, col=1)
    fig.update_layout(barmode="group", title="Sobol indices (noise-corrected, 95% intervals)")
    return _layout(fig, 260 * len(outcomes) + 80)


def convergence_figure(result: Sensitivity) -> go.Figure:
    """Each index against the base sample size, with its interval as a band: a panel per
    outcome and kind of index."""
    names = dict(result.outcomes)
    rows = result.convergence.to_pylist()
    outcomes = [o for o, _ in result.outcomes]
    titles = [f"{_text(names[o])}: {k}" for o in outcomes for k in ("first order", "total")]
    fig = make_subplots(rows=len(outcomes), cols=2, subplot_titles=titles)
    for i, o in enumerate(outcomes, start=1):
        for c, key in enumerate(("S1", "ST"), start=1):
            for k, f in enumerate(result.factors):
                mine = [r for r in rows if r["outcome"] == o and r["factor"] == f.name]
                xs = [r["n"] for r in mine]
                ys = [_finite(r[key]) for r in mine]
                conf = [_finite(r[key + "_conf"]) or 0.0 for r in mine]
                upper = [None if y is None else y + h for y, h in zip(ys, conf, strict=True)]
                lower = [None if y is None else y - h for y, h in zip(ys, conf, strict=True)]
                color = _color(k)
                fig.add_trace(
                    go.Scatter(
                        x=xs + xs[::-1],
                        y=upper + lower[::-1],
                        fill="toself",
                        line={"width": 0},
                        fillcolor=color,
                        opacity=0.15,
                        hoverinfo="skip",
                        showlegend=False,
                    ),
                    row=i,
                    col=c,
                )
                fig.add_trace(
                    go.Scatter(
                        x=xs,
                        y=ys,
                        mode="lines+markers",
                        name=_text(f.name),
                        line={"color": color},
                        legendgroup=f.name,
                        showlegend=i == 1 and c == 1,
                    ),
                    row=i,
                    col=c,
                )
            fig.update_xaxes(type="log", title_text="base sample N", row=i, col=c)
    fig.update_layout(title="Convergence: indices against sample size")
    return _layout(fig, 300 * len(outcomes) + 80)


def morris_figure(result: Screening) -> go.Figure:
    """μ* against σ for each factor, a panel per outcome, with the outcome's noise floor."""
    names = dict(result.outcomes)
    rows = result.indices.to_pylist()
    outcomes = [o for o, _ in result.outcomes]
    fig = make_subplots(
        rows=len(outcomes), cols=1, subplot_titles=[_text(names[o]) for o in outcomes]
    )
    for i, o in enumerate(outcomes, start=1):
        mine = [r for r in rows if r["outcome"] == o]
        fig.add_trace(
            go.Scatter(
                x=[r["mu_star"] for r in mine],
                y=[r["sigma"] for r in mine],
                error_x={"type": "data", "array": [r["mu_star_conf"] for r in mine]},
                mode="markers+text",
                text=[_text(r["factor"]) for r in mine],
                textposition="top center",
                showlegend=False,
            ),
            row=i,
            col=1,
        )
        if mine:
            fig.add_vline(x=mine[0]["noise_floor"], line_dash="dot", row=i, col=1)
        fig.update_xaxes(title_text="μ* (mean |elementary effect|)", row=i, col=1)
        fig.update_yaxes(title_text="σ", row=i, col=1)
    fig.update_layout(title="Morris screening (dotted: the noise floor)")
    return _layout(fig, 320 * len(outcomes) + 80)


def trajectory_figure(d: Discovery) -> go.Figure:
    """PRIM's peeling trajectory: density against coverage, coloured by the number of
    restricted factors, the chosen box circled."""
    rows = d.trajectory.to_pylist()
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[r["coverage"] for r in rows],
            y=[r["density"] for r in rows],
            mode="markers+lines",
            marker={
                "color": [r["restricted"] for r in rows],
                "colorscale": "Viridis",
                "showscale": True,
                "colorbar": {"title": "restricted"},
            },
            text=[f"box {r['id']}: mass {r['mass']:.3f}" for r in rows],
            name="trajectory",
        )
    )
    chosen = rows[d.chosen]
    fig.add_trace(
        go.Scatter(
            x=[chosen["coverage"]],
            y=[chosen["density"]],
            mode="markers",
            marker={"size": 16, "symbol": "circle-open", "color": "red", "line": {"width": 2}},
            name=f"chosen box {d.chosen}",
        )
    )
    top = max(r["density"] for r in rows)
    fig.add_hline(
        y=d.base_rate, line_dash="dot", annotation_text="base rate", annotation_position="top left"
    )
    fig.update_xaxes(title_text="coverage", range=[0, 1.02])
    # rare outcomes: the axis fits the densities reached, not [0, 1]
    fig.update_yaxes(title_text="density", range=[0, min(1.02, 1.15 * top)])
    fig.update_layout(
        title="PRIM peeling trajectory",
        legend={"orientation": "h", "y": -0.2, "x": 0},
    )
    return _layout(fig, 460)


def box_figure(d: Discovery) -> go.Figure:
    """The chosen box's limits on each factor, as a share of the factor's range."""
    rows = d.box.to_pylist()
    fig = go.Figure()
    for r in rows:
        span = r["high"] - r["low"] or 1.0
        lo, hi = (r["lower"] - r["low"]) / span, (r["upper"] - r["low"]) / span
        fig.add_trace(
            go.Bar(
                y=[_text(r["factor"])],
                x=[hi - lo],
                base=[lo],
                orientation="h",
                marker_color=_color(0) if r["restricted"] else "#ccc",
                text=[f"{r['lower']:.3g} – {r['upper']:.3g}"],
                textposition="inside",
                showlegend=False,
            )
        )
    fig.update_xaxes(title_text="share of the factor's range of draws", range=[0, 1])
    fig.update_layout(title="The chosen box (grey: not restricted)")
    return _layout(fig, 120 + 40 * len(rows))


def _finite(x: object) -> float | None:
    return float(x) if isinstance(x, int | float) and math.isfinite(x) else None


def sensitivity_section(result: Sensitivity | Screening) -> list[str | go.Figure]:
    """The parts of a sensitivity section: headings, notes, tables and figures."""
    parts: list[str | go.Figure] = []
    setting = ", ".join(f"{k}={v}" for k, v in result.levers.items()) or "no levers"
    lens = f", lens {result.lens}" if result.lens else ""
    factors = ", ".join(f"{f.name} ({f.kind}, {f.describe()})" for f in result.factors)
    parts.append(
        f"<p class='note'>{_text(setting + lens)}; factors: {_text(factors)}; "
        f"{result.points:,} design points × {result.runs_per_point:,} runs, seed "
        f"{result.seed}.</p>"
    )
    for line in result.findings():
        parts.append(f"<p class='warn'>{_text(line)}</p>")
    parts.append("<h2>Monte Carlo noise</h2>")
    parts.append(
        "<p class='note'>Each point's probability is estimated from its runs; the noise's share "
        "of the variance of those estimates is what the indices are corrected for.</p>"
    )
    parts.append(
        table_html(
            result.noise.to_pylist(),
            ["outcome", "mean", "variance", "noise_variance", "noise_share"],
        )
    )
    if result.method == "sobol":
        from redline.analysis.sensitivity import Sensitivity

        assert isinstance(result, Sensitivity)
        parts.append("<h2>Sobol indices</h2>")
        parts.append(
            table_html(
                result.indices.to_pylist(),
                ["outcome", "factor", "S1", "S1_conf", "ST", "ST_conf", "S1_raw", "ST_raw"],
            )
        )
        parts.append(sobol_figure(result))
        parts.append("<h2>Convergence</h2>")
        parts.append(
            table_html(
                result.convergence.to_pylist(),
                ["outcome", "factor", "n", "S1", "S1_conf", "ST", "ST_conf"],
            )
        )
        parts.append(convergence_figure(result))
    else:
        from redline.analysis.sensitivity import Screening

        assert isinstance(result, Screening)
        parts.append("<h2>Morris screening</h2>")
        parts.append(
            table_html(
                result.indices.to_pylist(),
                ["outcome", "factor", "mu", "mu_star", "mu_star_conf", "sigma", "noise_floor"],
            )
        )
        parts.append(morris_figure(result))
    return parts


def discovery_section(d: Discovery) -> list[str | go.Figure]:
    """The parts of a scenario-discovery section."""
    stats = d.chosen_stats
    setting = ", ".join(f"{k}={v}" for k, v in d.levers.items()) or "no levers"
    lens = f", lens {d.lens}" if d.lens else ""
    return [
        f"<p class='note'>{_text(setting + lens)}; {d.runs:,} runs, seed {d.seed}; "
        f"{_text(d.outcome_name)} in {d.hits:,} ({d.base_rate:.2%}).</p>",
        *(f"<p class='warn'>{_text(line)}</p>" for line in d.findings()),
        "<h2>PRIM box</h2>",
        f"<p><b>{_text(d.rule())}</b>: coverage {stats['coverage']:.1%}, density "
        f"{stats['density']:.1%}, mass {stats['mass']:.1%} (box {d.chosen} of the "
        "trajectory).</p>",
        table_html(
            d.box.to_pylist(),
            ["factor", "lower", "upper", "low", "high", "restricted", "qp_lower", "qp_upper"],
        ),
        box_figure(d),
        trajectory_figure(d),
        "<h2>Peeling trajectory</h2>",
        table_html(
            d.trajectory.to_pylist(),
            ["id", "coverage", "density", "mass", "restricted", "runs", "hits"],
        ),
        "<h2>CART leaves, for comparison</h2>",
        table_html(d.leaves.to_pylist(), ["rule", "coverage", "density", "mass", "runs", "hits"]),
        f"<pre>{_text(d.cart_text)}</pre>",
    ]


def write_page(title: str, parts: Sequence[str | go.Figure], path: Path) -> Path:
    """One self-contained HTML page: the title, then each part (HTML, or a figure drawn by
    the plotly.js embedded once)."""
    body: list[str] = []
    first = True
    for part in parts:
        if isinstance(part, go.Figure):
            body.append(
                pio.to_html(
                    part,
                    include_plotlyjs=first,
                    full_html=False,
                    config={"displaylogo": False, "responsive": True},
                )
            )
            first = False
        else:
            body.append(part)
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_text(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_text(title)}</h1>{''.join(body)}</body></html>"
    )
    path.write_text(page, encoding="utf-8")
    return path
