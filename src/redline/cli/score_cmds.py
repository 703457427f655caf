"""``redline score``: how well each lens explains the record, and against published forecasts."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from redline.cli.app import app, counted, guarded, out
from redline.cli.run_cmds import SeedOpt, parse_levers, progress_bar
from redline.engine.simulate import BACKEND_HELP

if TYPE_CHECKING:
    from redline.analysis.score import LensScore, Score

#: the scenario ``redline score`` scores when none is named: the one with a record
DEFAULT_RECORD = "nato-russia-history"


def _log(x: float) -> str:
    return "−∞" if x == -math.inf else f"{x:.2f}".replace("-", "−")


def _pct(p: float | None) -> str:
    if p is None or math.isnan(p):
        return "–"
    if p == 0:
        return "0"
    return f"{100 * p:.2g}%" if p < 0.01 else f"{100 * p:.1f}%"


def _interval(x: LensScore) -> str:
    if math.isnan(x.lo):
        return _log(x.loglik)
    return f"{_log(x.loglik)} ({_log(x.lo)} to {_log(x.hi)})"


def print_score(sc: Score) -> None:
    """The score as tables: the log-likelihood of each configuration with its interval and
    Bayes factor, each observation's probability, the forecasts, the fit."""
    best = sc.best()
    out.print(
        f"[bold]{sc.scenario} — how well each lens explains the record[/]: "
        f"{counted(len(sc.observations), 'observation')}, {counted(sc.particles, 'particle')} "
        f"× {counted(sc.replicates, 'filter')}, seed {sc.seed} ({sc.seconds:.1f} s)",
        soft_wrap=True,
    )
    table = Table(title_justify="left")
    table.add_column("configuration", no_wrap=True)
    table.add_column(f"log-likelihood ({sc.confidence:.0%} interval)", no_wrap=True)
    table.add_column("log₁₀ BF of best", justify="right")
    table.add_column("counted", justify="right")
    table.add_column("min ESS", justify="right")
    table.add_column("most wrong (p given the record before)")
    factors = {label: (bf, lo, hi) for label, _, bf, lo, hi in sc.bayes_factors()}
    for x in sc.lenses:
        bf, lo, hi = factors[x.label]
        shown = "best" if x is best else "∞" if math.isinf(bf) else f"{bf:.2f}"
        if x is not best and not math.isnan(lo):
            shown += f" ({lo:.2f}–{hi:.2f})"
        worst = ", ".join(f"{f.id} {_pct(f.p_given)}" for f in x.worst)
        table.add_row(
            x.label,
            _interval(x),
            shown,
            _pct(x.rejection_hits / x.rejection_runs),
            f"{x.min_ess:.2f}",
            Text(worst),
        )
    out.print(table)
    out.print(
        "log-likelihood: natural log of the record's probability, the mean of the filters' "
        "estimates ± t·sd/√R; counted: the share of unconditioned runs consistent with every "
        "observation (rejection); min ESS: the smallest effective sample size left at an "
        "observation's date, as a share of the particles",
        style="dim",
        soft_wrap=True,
    )
    for x in sc.lenses:
        for ident, k in x.lost:
            out.print(
                f"[yellow]{x.label}: every particle was inconsistent with '{ident}' in {k} of "
                f"{sc.replicates} filters[/]",
                soft_wrap=True,
            )
    _observations(sc)
    _forecasts(sc)
    _fits(sc)
    for note in sc.notes:
        out.print(f"note: {note}", style="dim", soft_wrap=True)


def _observations(sc: Score) -> None:
    table = Table(title="each observation: probability alone / given the record before it")
    table.add_column("observation")
    table.add_column("date", no_wrap=True)
    for x in sc.lenses:
        table.add_column(x.label, justify="right")
    for k, (ident, text, date) in enumerate(sc.observations):
        cells = [f"{_pct(x.facts[k].p_alone)} / {_pct(x.facts[k].p_given)}" for x in sc.lenses]
        table.add_row(Text(f"{ident}: {text}"), date, *cells)
    out.print(table)


def _forecasts(sc: Score) -> None:
    questions = sc.lenses[0].questions
    if not questions:
        return
    table = Table(title="against published forecasts")
    table.add_column("forecast")
    table.add_column("forecaster", justify="right")
    for x in sc.lenses:
        table.add_column(x.label, justify="right")
    table.add_column("resolved")
    for k, q in enumerate(questions):
        given = _pct(q.forecaster_p)
        if q.forecaster_range is not None:
            given = f"{_pct(q.forecaster_range[0])}–{_pct(q.forecaster_range[1])}"
        cells = [_pct(x.questions[k].model_p) for x in sc.lenses]
        resolved = {True: "yes", False: "no", None: "not known"}[q.resolved]
        table.add_row(
            Text(f"{q.forecaster}, {q.made}: {q.text}\nmodel: {q.covers}"),
            given,
            *cells,
            resolved,
        )
        scored = [x.questions[k] for x in sc.lenses]
        if q.resolved is not None or any(s.model_resolved is not None for s in scored):
            brier = [
                "–" if s.model_brier is None else f"{s.model_brier:.3f} / {_log(s.model_log or 0)}"
                for s in scored
            ]
            own = (
                "–"
                if q.forecaster_brier is None
                else f"{q.forecaster_brier:.3f} / {_log(q.forecaster_log or 0)}"
            )
            table.add_row(Text("  Brier / log score", style="dim"), own, *brier, "")
    out.print(table)


def _fits(sc: Score) -> None:
    for x in sc.lenses:
        if x.fit is None:
            continue
        if x.fit.parameters:
            table = Table(title=f"{x.label}: the uncertainties given the record")
            for column in ("uncertainty", "prior mean (5–95%)", "posterior mean (5–95%)"):
                table.add_column(column)
            table.add_column("distinct draws", justify="right")
            for p in x.fit.parameters:
                table.add_row(
                    Text(p.name),  # scenario text as written, never read as markup
                    f"{p.prior_mean:.3g} ({p.prior_q[0]:.3g}–{p.prior_q[2]:.3g})",
                    f"{p.mean:.3g} ({p.q[0]:.3g}–{p.q[2]:.3g})",
                    f"{p.distinct:,}",
                )
            out.print(table)
        table = Table(title=f"{x.label}: outcomes by the horizon, before and given the record")
        for column in ("outcome", "before", "given the record", "after the record"):
            table.add_column(column, justify="left" if column == "outcome" else "right")
        for _, name, prior, after, later in x.fit.outcomes:
            table.add_row(Text(name), _pct(prior), _pct(after), _pct(later))
        out.print(table)


@app.command("score")
@guarded
def score_cmd(
    file: Annotated[
        str, typer.Argument(help="Scenario file or built-in name (with observations).")
    ] = DEFAULT_RECORD,
    lens: Annotated[
        list[str] | None,
        typer.Option("--lens", help="Score this lens (repeatable; default: every lens)."),
    ] = None,
    lever: Annotated[
        list[str] | None,
        typer.Option("--lever", help="Fix a lever: NAME=OPTION (repeatable; default: defaults)."),
    ] = None,
    lever_options: Annotated[
        bool,
        typer.Option(
            "--lever-options",
            help="Also score each other option of each lever under each lens (which options "
            "match history).",
        ),
    ] = False,
    particles: Annotated[
        int, typer.Option("--particles", "-n", help="Particles per filter.")
    ] = 10_000,
    replicates: Annotated[
        int, typer.Option("--replicates", "-r", help="Independent filters per configuration.")
    ] = 5,
    seed: SeedOpt = 0,
    backend: Annotated[str, typer.Option(help=BACKEND_HELP)] = "numpy",
    threads: Annotated[
        int | None, typer.Option(help="Blocks of particles advanced at once (default: cores).")
    ] = None,
    workers: Annotated[int, typer.Option(help="Worker processes (filters in parallel).")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Score each lens against the scenario's record of observations: the log-likelihood of
    the whole record (sequential Monte Carlo) with an interval over replicate filters, Bayes
    factors, each observation's probability, the uncertainties fitted to the record and what
    it implies beyond it; and each published forecast beside the model's answer, with Brier and
    log scores where the question resolved."""
    from redline.analysis.score import score
    from redline.scenario.loader import load_scenario

    loaded = load_scenario(file)
    with progress_bar() as bar:
        task = bar.add_task(f"scoring {loaded.scenario.id}", total=None)

        def progress(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=f"score: {label}")

        sc = score(
            loaded,
            particles=particles,
            replicates=replicates,
            seed=seed,
            levers=parse_levers(lever),
            lenses=lens or None,
            lever_options=lever_options,
            backend=backend,
            threads=threads,
            workers=workers,
            progress=progress,
        )
    if as_json:
        print(json.dumps(sc.to_json(), indent=2))
        return
    print_score(sc)


__all__ = ["print_score", "score_cmd"]
