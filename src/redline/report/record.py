"""The report's "How well each lens explains the record" and "Against published forecasts"
sections: a score (:mod:`redline.analysis.score`) as a figure of each lens's log-likelihood with
its interval, a table of each observation's probability under each lens, each lens fitted to the
record (its uncertainties before and given the record, and what the record implies for each
outcome by the horizon), and each published forecast beside each lens's answer with their Brier
and log scores."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from redline.analysis.score import Score

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["RecordView", "record_figure", "record_view"]

_LENS = "#1f5f99"


def _pct(p: float | None) -> str:
    if p is None or math.isnan(p):
        return "—"
    if p == 0:
        return "0%"
    return f"{100 * p:.2g}%" if p < 0.01 else f"{100 * p:.1f}%"


def _log(x: float | None) -> str:
    if x is None or math.isnan(x):
        return "—"
    return "−∞" if x == -math.inf else f"{x:.2f}".replace("-", "−")


@dataclass(frozen=True)
class _LensRow:
    label: str
    loglik: str
    interval: str
    factor: str
    counted: str
    ess: str
    worst: list[str]
    lost: list[str]


@dataclass(frozen=True)
class _FactRow:
    id: str
    name: str
    text: str
    date: str
    cells: list[tuple[str, str]]  # per lens: alone, given


@dataclass(frozen=True)
class _ForecastRow:
    forecaster: str
    made: str
    question: str
    covers: str
    given: str
    resolved: str
    forecaster_scores: str
    cells: list[tuple[str, str]]  # per lens: probability, scores


@dataclass(frozen=True)
class _FitRow:
    """One lens fitted to the record: each uncertainty's prior and posterior (mean with its 5–95%
    range, and how many distinct draws the posterior rests on), and each outcome's probability by
    the horizon before the record, given it, and first reached after its last observation."""

    label: str
    parameters: list[tuple[str, str, str, str]]  # name, prior, posterior, distinct draws
    outcomes: list[tuple[str, str, str, str]]  # name, before, given the record, after it


@dataclass(frozen=True)
class RecordView:
    """What the template shows of a score."""

    particles: str
    replicates: int
    seed: int
    observations: int
    labels: list[str]
    best: str
    lenses: list[_LensRow]
    facts: list[_FactRow]
    forecasts: list[_ForecastRow]
    notes: list[str]
    fits: list[_FitRow] = field(default_factory=list)


def _scores(brier: float | None, log: float | None) -> str:
    return "—" if brier is None else f"Brier {brier:.3f}, log {_log(log)}"


def _mean_range(mean: float, q: tuple[float, float, float]) -> str:
    return f"{mean:.3g} ({q[0]:.3g} to {q[2]:.3g})".replace("-", "−")


def _fits(sc: Score) -> list[_FitRow]:
    """Each lens fitted to the record, as ``redline score`` prints it."""
    rows = []
    for x in sc.lenses:
        if x.fit is None:
            continue
        rows.append(
            _FitRow(
                label=x.label,
                parameters=[
                    (
                        p.name,
                        _mean_range(p.prior_mean, p.prior_q),
                        _mean_range(p.mean, p.q),
                        f"{p.distinct:,}",
                    )
                    for p in x.fit.parameters
                ],
                outcomes=[
                    (name, _pct(prior), _pct(after), _pct(later))
                    for _, name, prior, after, later in x.fit.outcomes
                ],
            )
        )
    return rows


def record_view(sc: Score) -> RecordView:
    factors = {label: (bf, lo, hi) for label, _, bf, lo, hi in sc.bayes_factors()}
    best = sc.best()
    lenses = []
    for x in sc.lenses:
        bf, lo, hi = factors[x.label]
        factor = "best" if x is best else "∞" if math.isinf(bf) else f"{bf:.2f}"
        if x is not best and not math.isnan(lo):
            factor += f" ({lo:.2f} to {hi:.2f})"
        lenses.append(
            _LensRow(
                label=x.label,
                loglik=_log(x.loglik),
                interval="" if math.isnan(x.lo) else f"{_log(x.lo)} to {_log(x.hi)}",
                factor=factor,
                counted=_pct(x.rejection_hits / x.rejection_runs),
                ess=f"{x.min_ess:.3f}",
                worst=[f"{f.name} ({_pct(f.p_given)})" for f in x.worst],
                lost=[f"{ident} in {k} of {sc.replicates} filters" for ident, k in x.lost],
            )
        )
    first = sc.lenses[0]
    facts = [
        _FactRow(
            id=f.id,
            name=f.name,
            text=f.text,
            date=f.date,
            cells=[(_pct(x.facts[k].p_alone), _pct(x.facts[k].p_given)) for x in sc.lenses],
        )
        for k, f in enumerate(first.facts)
    ]
    forecasts = []
    for k, q in enumerate(first.questions):
        given = _pct(q.forecaster_p)
        if q.forecaster_range is not None:
            given = f"{_pct(q.forecaster_range[0])}–{_pct(q.forecaster_range[1])}"
        forecasts.append(
            _ForecastRow(
                forecaster=q.forecaster,
                made=q.made,
                question=q.text,
                covers=q.covers,
                given=given,
                resolved={True: "yes", False: "no", None: "not known"}[q.resolved],
                forecaster_scores=_scores(q.forecaster_brier, q.forecaster_log),
                cells=[
                    (
                        _pct(x.questions[k].model_p),
                        _scores(x.questions[k].model_brier, x.questions[k].model_log),
                    )
                    for x in sc.lenses
                ],
            )
        )
    return RecordView(
        particles=f"{sc.particles:,}",
        replicates=sc.replicates,
        seed=sc.seed,
        observations=len(sc.observations),
        labels=[x.label for x in sc.lenses],
        best=best.label,
        lenses=lenses,
        facts=facts,
        forecasts=forecasts,
        notes=list(sc.notes),
        fits=_fits(sc),
    )


def record_figure(sc: Score) -> go.Figure | None:
    """Each configuration's log-likelihood of the record (natural log) as a point with its
    interval over replicate filters as whiskers; configurations that lost every particle are
    left out (their likelihood is below what the particles could see)."""
    shown = [x for x in sc.lenses if math.isfinite(x.loglik)]
    if not shown:
        return None
    import plotly.graph_objects as go  # on use: as the drivers figure's

    fig = go.Figure(
        go.Scatter(
            x=[x.loglik for x in shown],
            y=[html.escape(x.label) for x in shown],
            mode="markers",
            marker={"color": _LENS, "size": 10},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [0.0 if math.isnan(x.hi) else x.hi - x.loglik for x in shown],
                "arrayminus": [0.0 if math.isnan(x.lo) else x.loglik - x.lo for x in shown],
                "color": "#333",
                "thickness": 1.2,
                "width": 4,
            },
            customdata=[[math.exp(x.loglik)] for x in shown],
            hovertemplate="%{y}: %{x:.2f} (probability %{customdata[0]:.2e})<extra></extra>",
            showlegend=False,
        )
    )
    fig.update_xaxes(title_text="log-likelihood of the record (natural log)")
    fig.update_yaxes(automargin=True, autorange="reversed")
    fig.update_layout(
        template="plotly_white",
        height=120 + 40 * len(shown),
        margin={"l": 20, "r": 20, "t": 30, "b": 50},
        font={"size": 13},
    )
    return fig
