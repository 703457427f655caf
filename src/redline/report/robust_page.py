"""The report page of ``redline analyze robust``: per group of alternatives, the regret heat-map
(policies × states of the world), the table of maximum regret and satisficing shares, and every
outcome's probability per policy, all with their intervals."""

from __future__ import annotations

import plotly.graph_objects as go

from redline.analysis.robust import Robustness
from redline.report.analysis_page import Block, Section, render_page

__all__ = ["regret_figure", "robust_page", "robust_sections"]


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def regret_figure(r: Robustness, group: str) -> go.Figure:
    """Regret (percentage points) of each policy of ``group`` in each world; hover gives the
    world's uncertainties, the probability and the regret's interval."""
    members = r.members(group)
    lo, hi = r.p_interval
    z, text = [], []
    for a in members:
        z.append([100 * r.regret[a, w, 0] for w in range(len(r.worlds))])
        text.append(
            [
                f"{_pct(r.p[a, w])} ({_pct(lo[a, w])}–{_pct(hi[a, w])}); regret "
                f"{100 * r.regret[a, w, 0]:.1f} pp ({100 * r.regret[a, w, 1]:.1f} to "
                f"{100 * r.regret[a, w, 2]:.1f}); "
                + ", ".join(f"{k}={v:.3g}" for k, v in r.worlds[w].values)
                for w in range(len(r.worlds))
            ]
        )
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[w.label for w in r.worlds],
            y=[r.policies[a].label for a in members],
            text=text,
            hovertemplate="%{y} in %{x}: %{text}<extra></extra>",
            colorscale="Reds",
            colorbar={"title": "regret (pp)"},
            zmin=0,
        )
    )
    fig.update_layout(
        title=f"Regret in P({r.outcome_name}) against the best option in each world",
        height=220 + 40 * len(members),
        xaxis={"title": "state of the world (lens #sample)"},
        yaxis={"autorange": "reversed"},
        margin={"l": 200},
    )
    return fig


def robust_sections(r: Robustness) -> list[Section]:
    sections = []
    worst = r.max_regret
    sat = r.satisficing
    p, plo, phi = r.pooled()
    chosen = r.minimax
    for g in r.groups:
        rows = []
        for a in r.members(g):
            rows.append(
                [
                    r.policies[a].label + (" (minimax regret)" if chosen[g] == a else ""),
                    f"{_pct(p[a])} ({_pct(plo[a])}–{_pct(phi[a])})",
                    f"{100 * worst[a, 0]:.1f} ({100 * worst[a, 1]:.1f} to {100 * worst[a, 2]:.1f})",
                    f"{_pct(sat[a, 0])} (surely {_pct(sat[a, 1])}, possibly {_pct(sat[a, 2])})",
                ]
            )
        outcome_rows = []
        for k, (_, name) in enumerate(r.outcomes):
            q, ql, qh = r.pooled(k)
            outcome_rows.append(
                [name, *(f"{_pct(q[a])} ({_pct(ql[a])}–{_pct(qh[a])})" for a in r.members(g))]
            )
        sections.append(
            Section(
                f"Robust levers: {g}",
                [
                    Block(
                        text=f"Minimax regret: {r.policies[chosen[g]].label}. Regret is "
                        f"P({r.outcome_name}) under the option minus under the best option of "
                        "this group in the same world (percentage points, paired 95% interval); "
                        f"satisficing: the share of worlds where P stays below "
                        f"{_pct(r.threshold)}."
                    ),
                    Block(figure=regret_figure(r, g)),
                    Block(
                        header=[
                            "policy",
                            f"P({r.outcome_name}), all worlds",
                            "max regret (pp)",
                            f"worlds with P < {_pct(r.threshold)}",
                        ],
                        rows=rows,
                    ),
                    Block(text="Every outcome, pooled over all worlds (95% Wilson interval):"),
                    Block(
                        header=["outcome", *(r.policies[a].label for a in r.members(g))],
                        rows=outcome_rows,
                    ),
                ],
            )
        )
    return sections


def robust_page(r: Robustness) -> str:
    intro = (
        f"{r.scenario}: each lever option in {len(r.worlds)} states of the world (each lens × "
        f"{r.samples} Latin-hypercube points of the uncertainties), {r.runs:,} runs each on "
        f"common random numbers, seed {r.seed}; the outcome kept low: {r.outcome_name}."
    )
    return render_page(f"{r.scenario}: robust levers", intro, robust_sections(r))
