"""``redline analyze robust``: which lever option holds up across lenses and uncertainties."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from redline.cli import llm_opts
from redline.cli.analyze_group import analyze_app
from redline.cli.app import guarded, out
from redline.cli.run_cmds import SeedOpt, parse_levers, progress_bar
from redline.engine.simulate import BACKEND_HELP
from redline.errors import UserError
from redline.experiment.outputs import DEFAULT_STORE

if TYPE_CHECKING:
    from rich.progress import TaskID  # rich.progress loads on use (run_cmds.progress_bar)

    from redline.analysis.robust import Robustness

__all__ = ["print_robustness", "robust_cmd"]


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def print_robustness(r: Robustness) -> None:
    """Per group of alternatives: each option's probability of the outcome over all worlds,
    its maximum regret and its satisficing share; then every outcome per option."""
    out.print(
        Text.assemble(
            (f"{r.scenario} — robust levers for '{r.outcome_name}' ({r.outcome})", "bold"),
            f": {len(r.worlds)} worlds ({r.samples} samples × "
            f"{len({w.lens for w in r.worlds})} lens(es)), {r.runs:,} runs each, seed {r.seed} "
            f"({r.seconds:.1f} s)",
        ),
        soft_wrap=True,
    )
    worst = r.max_regret
    sat = r.satisficing
    p, lo, hi = r.pooled()
    chosen = r.minimax
    for g in r.groups:
        table = Table(title=f"{g}", title_justify="left")
        table.add_column("option")
        table.add_column(f"P({r.outcome}) all worlds", justify="right")
        table.add_column("max regret, pp (95%)", justify="right")
        table.add_column(f"worlds P < {_pct(r.threshold)}", justify="right")
        table.add_column("surely–possibly", justify="right")
        for a in r.members(g):
            table.add_row(
                Text(r.policies[a].label + (" ★" if chosen[g] == a else "")),
                f"{_pct(p[a])} ({_pct(lo[a])}–{_pct(hi[a])})",
                f"{100 * worst[a, 0]:.1f} ({100 * worst[a, 1]:.1f} to {100 * worst[a, 2]:.1f})",
                _pct(sat[a, 0]),
                f"{_pct(sat[a, 1])}–{_pct(sat[a, 2])}",
            )
        out.print(table)
    out.print(
        "★ minimax regret in its group. Regret: P under the option minus under the group's best "
        "option in the same world (paired 95% interval); satisficing: share of worlds with P "
        "below the threshold (surely: the interval's top below it; possibly: its bottom).",
        style="dim",
        soft_wrap=True,
    )
    for g in r.groups:
        members = r.members(g)
        table = Table(
            title=f"{g}: every outcome, all worlds pooled (95% Wilson)", title_justify="left"
        )
        table.add_column("outcome")
        for a in members:
            table.add_column(r.policies[a].label.removeprefix(f"{g}="), justify="right")
        for k, (_, name) in enumerate(r.outcomes):
            q, ql, qh = r.pooled(k)
            table.add_row(
                Text(name), *(f"{_pct(q[a])} ({_pct(ql[a])}–{_pct(qh[a])})" for a in members)
            )
        out.print(table)


@analyze_app.command("robust")
@guarded
def robust_cmd(
    scenario: Annotated[str, typer.Argument(help="Scenario file or built-in name.")],
    outcome: Annotated[
        str | None,
        typer.Option("--outcome", help="The outcome to keep low (default: the first absorbing)."),
    ] = None,
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold", help="Satisficing: the probability the outcome should stay under."
        ),
    ] = 0.05,
    samples: Annotated[
        int,
        typer.Option("--samples", help="Points of the uncertainties per lens (Latin hypercube)."),
    ] = 8,
    runs: Annotated[int, typer.Option("--runs", "-n", help="Runs per option and world.")] = 1000,
    seed: SeedOpt = 0,
    examine: Annotated[
        list[str] | None,
        typer.Option("--levers", help="A lever to examine (repeatable; default: every lever)."),
    ] = None,
    lever: Annotated[
        list[str] | None,
        typer.Option("--lever", help="NAME=OPTION: fix a lever that is not examined (repeatable)."),
    ] = None,
    lens: Annotated[
        list[str] | None, typer.Option("--lens", help="Lens (repeatable; default: every lens).")
    ] = None,
    factorial: Annotated[
        bool,
        typer.Option(
            "--factorial", help="Compare every combination of the examined levers' options."
        ),
    ] = False,
    backend: Annotated[str, typer.Option(help=BACKEND_HELP)] = "numpy",
    threads: Annotated[
        int | None, typer.Option(help="Simulations at once (default: one per core).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write a self-contained HTML page here.")
    ] = None,
    store_path: llm_opts.StoreOpt = DEFAULT_STORE,
    llm_endpoint: llm_opts.EndpointOpt = None,
    llm_key_env: llm_opts.KeyEnvOpt = None,
    llm_concurrency: llm_opts.ConcurrencyOpt = 64,
    llm_timeout: llm_opts.TimeoutOpt = 60.0,
    llm_retries: llm_opts.RetriesOpt = 5,
    llm_price: llm_opts.PriceOpt = None,
    llm_model: llm_opts.ModelOpt = None,
    llm_template: llm_opts.TemplateOpt = None,
) -> None:
    """Every lever option across lenses × sampled uncertainties: outcome probabilities with
    intervals, regret against the best option in each state of the world, minimax regret, and
    the share of worlds in which the option keeps P(OUTCOME) below --threshold. Language-model
    actors ask the --llm-endpoint, their answers kept in --store (docs/llm.md)."""
    from redline.analysis.robust import robust_levers
    from redline.scenario.loader import load_scenario

    if threads is not None and not 1 <= threads <= 256:
        raise UserError(f"--threads must be between 1 and 256, got {threads}")
    loaded = load_scenario(scenario)
    kwargs: dict[str, object] = {
        "outcome": outcome,
        "threshold": threshold,
        "samples": samples,
        "runs": runs,
        "seed": seed,
        "levers": examine,
        "fixed": parse_levers(lever),
        "lenses": lens,
        "factorial": factorial,
        "backend": backend,
        "threads": threads,
    }
    options = llm_opts.LLMOptions(
        llm_endpoint,
        llm_key_env,
        llm_concurrency,
        llm_timeout,
        llm_retries,
        llm_price,
        llm_model,
        llm_template,
    )
    with llm_opts.asking(loaded.scenario, options, store_path, quiet=as_json) as models:
        kwargs["makers"] = models or None
        if as_json:
            r = robust_levers(loaded, **kwargs)  # type: ignore[arg-type]
        else:
            with progress_bar() as bar:
                task = bar.add_task(f"robust levers: {loaded.scenario.id}", total=None)

                def advance(done: int, total: int, label: str, task: TaskID = task) -> None:
                    bar.update(task, completed=done, total=total)

                r = robust_levers(loaded, progress=advance, **kwargs)  # type: ignore[arg-type]
    if report is not None:
        from redline.report.analysis_page import write_page
        from redline.report.robust_page import robust_page

        write_page(robust_page(r), report)
    if as_json:
        print(json.dumps(r.to_json(), indent=2))
        return
    print_robustness(r)
    if report is not None:
        out.print(f"report: {report}")
