"""``redline why``: the paths to an outcome, from the engine's event record."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from redline.cli import llm_opts
from redline.cli.app import app, guarded, out
from redline.cli.run_cmds import DEFAULT_SCENARIO, SeedOpt, parse_levers, progress_bar
from redline.engine.simulate import BACKEND_HELP, BACKENDS
from redline.errors import UserError
from redline.experiment.outputs import DEFAULT_STORE
from redline.scenario.errors import suggest

if TYPE_CHECKING:
    from redline.analysis.why import Paths, Progress

#: events and paths shown by default
TOP = 10


def _percent(p: float | None) -> str:
    return "—" if p is None else f"{100 * p:.1f}%"


def _lift(lift: float | None) -> str:
    if lift is None:
        return "—"
    return "∞" if math.isinf(lift) else f"{lift:.1f}×"


def print_paths(p: Paths, top: int) -> None:
    """The events on route (share of hits, lead, rate without a hit, lift), then the most
    frequent paths with their shares."""
    unit = p.step
    out.print(
        Text.assemble(  # the outcome's name as written, never read as markup
            (f"{p.scenario} — why '{p.outcome_name}' ({p.outcome})", "bold"),
            f": reached in {p.hits:,} of {p.runs:,} runs ({_percent(p.p)}), seed {p.seed}; "
            + (", ".join(f"{k}={v}" for k, v in p.levers.items()) or "no levers")
            + (f", lens {p.lens}" if p.lens else "")
            + f" ({p.seconds:.1f} s)",
        ),
        soft_wrap=True,
    )
    if not p.hits:
        out.print("no run reached the outcome: nothing led there")
        return
    on_route = p.on_route
    table = Table(title="events on route to it", title_justify="left")
    table.add_column("event")
    table.add_column("kind", no_wrap=True)
    table.add_column("before the hit", justify="right")
    table.add_column(f"lead ({unit}s)", justify="right")
    table.add_column("without it, by then", justify="right")
    table.add_column("lift", justify="right")
    for e in on_route[:top]:
        table.add_row(
            Text(e.event.label),
            e.event.kind,
            _percent(e.share),
            "—" if e.lead is None else f"{e.lead:.1f}",
            _percent(e.p_not),
            _lift(e.lift),
        )
    if on_route:
        out.print(table)
    else:
        out.print(
            "no event is on route (none precedes a hit at least twice as often as it "
            "happens by then without one)",
            soft_wrap=True,
        )
    rest = len(on_route) - min(top, len(on_route))
    out.print(
        f"{len(on_route)} event(s) on route"
        + (f" ({rest} more not shown; --top)" if rest else "")
        + ": lift ≥ 2 beyond a one-sided 99.9% test; 'before the hit': share of the runs that "
        "reached it; 'without it, by then': the same event by the same step in runs that did "
        "not",
        soft_wrap=True,
        style="dim",
    )
    paths = Table(title="most frequent paths", title_justify="left")
    paths.add_column("#", justify="right")
    paths.add_column("path (events on route, in order)")
    paths.add_column("share of hits", justify="right", no_wrap=True)
    paths.add_column("runs", justify="right")
    for k, r in enumerate(p.routes[:top], start=1):
        paths.add_row(
            str(k),
            Text(r.text),
            f"{100 * r.share:.1f}% ({100 * r.lo:.1f}–{100 * r.hi:.1f})",
            f"{r.count:,}",
        )
    out.print(paths)
    sampled = (
        f"all {p.hits:,} runs that reached it"
        if p.sampled == p.hits
        else f"a uniform sample of {p.sampled:,} of the {p.hits:,} runs that reached it"
    )
    out.print(f"{p.distinct:,} distinct paths among {sampled}", style="dim")
    dominant = p.dominant
    if dominant is not None:
        out.print(
            f"[bold]dominant chain[/]: one path explains {dominant.share:.0%} of the runs that "
            "reach it",
            soft_wrap=True,
        )


@app.command("why")
@guarded
def why_cmd(
    file_or_outcome: Annotated[
        str, typer.Argument(metavar="[FILE] OUTCOME", help="Scenario file or built-in name.")
    ],
    outcome: Annotated[
        str | None, typer.Argument(show_default=False, help="The outcome's id.", metavar="")
    ] = None,
    runs: Annotated[int, typer.Option("--runs", "-n", help="Runs to simulate.")] = 20_000,
    seed: SeedOpt = 0,
    lever: Annotated[
        list[str] | None,
        typer.Option(
            "--lever", help="Lever option: NAME=OPTION (repeatable); the others take defaults."
        ),
    ] = None,
    lens: Annotated[str | None, typer.Option("--lens", help="Lens (default: none).")] = None,
    backend: Annotated[str, typer.Option(help=BACKEND_HELP)] = "numpy",
    threads: Annotated[
        int | None, typer.Option(help="Chunks computed at once (default: one per core).")
    ] = None,
    top: Annotated[int, typer.Option("--top", help="Events and paths shown.")] = TOP,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    store_path: Annotated[
        Path,
        typer.Option("--store", help="The DuckDB store keeping language-model actors' answers."),
    ] = DEFAULT_STORE,
    llm_endpoint: llm_opts.EndpointOpt = None,
    llm_key_env: llm_opts.KeyEnvOpt = None,
    llm_concurrency: llm_opts.ConcurrencyOpt = 64,
    llm_timeout: llm_opts.TimeoutOpt = 60.0,
    llm_retries: llm_opts.RetriesOpt = 5,
    llm_model: llm_opts.ModelOpt = None,
    llm_template: llm_opts.TemplateOpt = None,
) -> None:
    """Why the runs that reached OUTCOME got there: the rules, red lines (enforced or not),
    treaty clauses, doctrines, scheduled events and actions that happened before the first hit,
    how often, how long before, and with what lift over the runs that did not; then the most
    frequent ordered paths, with the share of those runs each explains. FILE defaults to the
    built-in nato-russia."""
    from redline.scenario.loader import load_scenario

    if outcome is None:
        file, outcome = DEFAULT_SCENARIO, file_or_outcome
    else:
        file = file_or_outcome
    if backend not in BACKENDS:
        raise UserError(f"unknown backend '{backend}'; known: {', '.join(BACKENDS)}")
    if top < 1:
        raise UserError(f"--top must be at least 1, got {top}")
    loaded = load_scenario(file)
    known = [o.id for o in loaded.scenario.outcomes]
    if outcome not in known:
        raise UserError(suggest(outcome, known, "outcome"))
    from redline.analysis.why import why

    levers = parse_levers(lever)
    options = llm_opts.LLMOptions(
        llm_endpoint,
        llm_key_env,
        llm_concurrency,
        llm_timeout,
        llm_retries,
        model=llm_model,
        template=llm_template,
    )
    from redline.experiment.store import Store

    models = llm_opts.language_makers_for(loaded.scenario, options, Store(store_path))

    def paths(progress: Progress | None = None) -> Paths:
        return why(
            loaded,
            outcome,
            runs=runs,
            seed=seed,
            levers=levers,
            lens=lens,
            backend=backend,
            threads=threads,
            progress=progress,
            makers=models or None,
        )

    try:
        if as_json:
            print(json.dumps(paths().to_json(), indent=2))
            return
        with progress_bar() as bar:
            task = bar.add_task(f"why {outcome}: {loaded.scenario.id}", total=runs)
            p = paths(lambda done, total: bar.update(task, completed=done, total=total))
    finally:
        llm_opts.close_all(models)
    print_paths(p, top)
    llm_opts.print_usage(models, None)


__all__ = ["print_paths", "why_cmd"]
