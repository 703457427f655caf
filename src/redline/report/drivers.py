"""The report's "What drives each outcome" section: an ablation as bars with interval whiskers.

For each outcome that some mechanism moves beyond its interval, the mechanisms whose switching
off changes it most, largest first: a bar for the change in probability (percentage points) and
whiskers for its paired 95% interval. The flags (inert mechanisms, aliased outcomes, identical
lever options, unreached outcomes, dominant chains) are listed under the figure, and then each
reached outcome's most frequent paths in the baseline (the events on route to it, in order, and
the share of its runs each explains: :mod:`redline.analysis.why`).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from redline.analysis.ablation import KIND_NAMES, Ablation

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["TOP", "DriversView", "OutcomePaths", "drivers_figure", "drivers_view"]

#: mechanisms shown per outcome
TOP = 10
_DOWN = "#1f5f99"  # switching it off lowers the outcome: the mechanism drives it
_UP = "#c0504d"  # switching it off raises the outcome: the mechanism holds it back


@dataclass(frozen=True)
class OutcomePaths:
    """An outcome's most frequent paths, as the template shows them: (path, share, interval)."""

    name: str
    routes: list[tuple[str, str, str]]


@dataclass(frozen=True)
class DriversView:
    """What the template shows around the figure."""

    runs: str
    seed: int
    setting: str
    mechanisms: int
    headline: list[str]
    inert: list[str]
    aliased: list[str]
    identical_options: list[str]
    unreached: list[str]
    paths_examined: bool
    dominant: list[str]
    paths: list[OutcomePaths]


def _headline(a: Ablation) -> list[str]:
    """Outcomes some mechanism moves beyond its interval, in scenario order."""
    return [o for o, _ in a.outcomes if any(e.change(o).moved for e in a.effects)]


def drivers_view(a: Ablation) -> DriversView:
    names = dict(a.outcomes)
    setting = ", ".join(f"{k}={v}" for k, v in a.levers.items()) or "no levers"
    if a.lens:
        setting += f", lens {a.lens}"
    return DriversView(
        runs=f"{a.runs:,}",
        seed=a.seed,
        setting=setting,
        mechanisms=len(a.effects),
        headline=[names[o] for o in _headline(a)],
        inert=[f"{m.path} ({KIND_NAMES[m.kind]})" for m in a.inert],
        aliased=[f"{names[x]} = {names[y]}" for x, y in a.aliased],
        identical_options=[f"{lever}: {' = '.join(g)}" for lever, g in a.identical_options],
        unreached=[names[o] for o in a.unreached],
        paths_examined=a.dominant_chains is not None,
        dominant=[
            f"{names[o]}: {path} ({share:.0%})" for o, path, share in a.dominant_chains or ()
        ],
        paths=[
            OutcomePaths(
                names[o],
                [
                    (r.text, f"{100 * r.share:.1f}%", f"{100 * r.lo:.1f}–{100 * r.hi:.1f}%")
                    for r in routes
                ],
            )
            for o, routes in a.top_paths
            if routes
        ],
    )


def drivers_figure(a: Ablation, top: int = TOP) -> go.Figure | None:
    """One panel per headline outcome: the ``top`` mechanisms by the size of their change,
    as horizontal bars (percentage points) with the paired interval as whiskers."""
    outcomes = _headline(a)
    if not outcomes:
        return None
    # on use: plotly's figure objects take a while to import (a report without an ablation
    # makes its figures without them)
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    names = dict(a.outcomes)
    ncols = 1 if len(outcomes) == 1 else 2
    nrows = math.ceil(len(outcomes) / ncols)
    fig = make_subplots(
        rows=nrows,
        cols=ncols,
        subplot_titles=[html.escape(names[o], quote=False) for o in outcomes],
        horizontal_spacing=0.28,
        vertical_spacing=min(0.12, 0.4 / nrows),
    )
    for j, o in enumerate(outcomes):
        moved = [e for e in a.effects if e.change(o).moved]
        shown = sorted(moved, key=lambda e: -abs(e.change(o).diff))[:top][::-1]
        changes = [e.change(o) for e in shown]
        labels = [html.escape(f"{e.mechanism.name} ({e.mechanism.kind})") for e in shown]
        fig.add_trace(
            go.Bar(
                x=[100 * c.diff for c in changes],
                y=labels,
                orientation="h",
                marker={"color": [_DOWN if c.diff < 0 else _UP for c in changes]},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [100 * (c.hi - c.diff) for c in changes],
                    "arrayminus": [100 * (c.diff - c.lo) for c in changes],
                    "color": "#333",
                    "thickness": 1.2,
                    "width": 3,
                },
                customdata=[
                    [100 * c.base_p, 100 * c.ablated_p, 100 * c.lo, 100 * c.hi, c.changed_runs]
                    for c in changes
                ],
                hovertemplate=(
                    "%{y}: %{x:+.1f} pp (95% CI %{customdata[2]:+.1f} to %{customdata[3]:+.1f})"
                    "<br>%{customdata[0]:.1f}% → %{customdata[1]:.1f}% switched off"
                    "<br>%{customdata[4]:,} runs changed<extra></extra>"
                ),
                showlegend=False,
            ),
            row=j // ncols + 1,
            col=j % ncols + 1,
        )
    fig.update_xaxes(title_text="change when switched off (percentage points)", zeroline=True)
    fig.update_yaxes(automargin=True, tickfont={"size": 11})
    height = 80 + nrows * (60 + 24 * top)
    fig.update_layout(
        template="plotly_white",
        height=height,
        bargap=0.25,
        margin={"l": 20, "r": 20, "t": 60, "b": 40},
        font={"size": 13},
    )
    return fig
