"""Commands that simulate: run (outcome probabilities) and story (one run narrated)."""

from __future__ import annotations

import itertools
import json
from typing import Annotated, cast

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from redline.api import simulate
from redline.cli.app import app, guarded, out
from redline.compile import Configuration
from redline.engine.simulate import DEFAULT_CHUNK, Backend
from redline.errors import UserError
from redline.results import Results
from redline.scenario.loader import load_scenario
from redline.scenario.model import Scenario

DEFAULT_SCENARIO = "convoy-strike"

LeverOpt = Annotated[
    list[str] | None,
    typer.Option("--lever", help="Fix a lever: NAME=OPTION (repeatable). Unfixed levers: all options."),
]
LensOpt = Annotated[str | None, typer.Option("--lens", help="Use one lens (default: every lens).")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed.")]


def parse_levers(items: list[str] | None) -> dict[str, str]:
    levers: dict[str, str] = {}
    for item in items or []:
        name, sep, option = item.partition("=")
        if not sep or not name or not option:
            raise UserError(f"--lever expects NAME=OPTION, got '{item}'")
        levers[name.strip()] = option.strip()
    return levers


def grid(s: Scenario, levers: dict[str, str], lens: str | None) -> list[Configuration]:
    """Every option of each unfixed lever × every lens (or the given one)."""
    from redline.compile import resolve

    resolve(s, levers, lens)  # checks names
    axes = [[levers[lv.id]] if lv.id in levers else [o.id for o in lv.options]
            for lv in s.levers]
    lenses: list[str | None] = [lens] if lens else ([x.id for x in s.lenses] or [None])
    return [Configuration(dict(zip([lv.id for lv in s.levers], combo, strict=True)), lz)
            for combo in itertools.product(*axes) for lz in lenses]


def outcome_table(results: list[Results], title: str) -> Table:
    """Outcome probabilities (95% Wilson intervals) for each configuration."""
    first = results[0]
    table = Table("configuration", *[name for _, name in first.outcomes], title=title)
    for r in results:
        cells = [f"{s.p:6.1%} [{s.lo:.1%}, {s.hi:.1%}]" for s in r.summary()]
        table.add_row(r.config.label(), *cells)
    return table


def progress_bar(total: int) -> Progress:
    return Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                    MofNCompleteColumn(), TimeRemainingColumn(), console=out,
                    transient=True, disable=not out.is_terminal)


@app.command()
@guarded
def run(
    file: Annotated[str, typer.Argument(help="Scenario file or built-in name.")] = DEFAULT_SCENARIO,
    runs: Annotated[int, typer.Option("--runs", "-n", help="Runs per configuration.")] = 20_000,
    seed: SeedOpt = 0,
    lever: LeverOpt = None,
    lens: LensOpt = None,
    backend: Annotated[str, typer.Option(help="numpy (compiled) or reference.")] = "numpy",
    chunk_size: Annotated[int, typer.Option(help="Runs per chunk.")] = DEFAULT_CHUNK,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Simulate a scenario and print outcome probabilities with 95% intervals, for every lever
    option × lens unless fixed with --lever/--lens."""
    loaded = load_scenario(file)
    s = loaded.scenario
    configs = grid(s, parse_levers(lever), lens)
    results: list[Results] = []
    with progress_bar(runs * len(configs)) as bar:
        task = bar.add_task(f"{s.id}: {len(configs)} configuration(s)", total=runs * len(configs))
        for config in configs:
            results.append(simulate(
                s, runs, seed, levers=config.levers, lens=config.lens,
                backend=cast(Backend, backend),
                chunk_size=chunk_size, workers=workers,
                progress=lambda k: bar.advance(task, k),
            ))
    if as_json:
        if len(results) == 1:
            payload = results[0].to_json()
        else:
            payload = {"scenario": s.id, "horizon": s.time.horizon, "runs": runs, "seed": seed,
                       "configurations": [r.to_json() for r in results]}
        print(json.dumps(payload, indent=2))
        return
    out.print(outcome_table(results, f"{s.title} — {runs:,} runs each, seed {seed}, "
                                     f"horizon {s.time.horizon} {s.time.step}s"))


@app.command("story")
@guarded
def story_cmd(
    file: Annotated[str, typer.Argument(help="Scenario file or built-in name.")] = DEFAULT_SCENARIO,
    seed: SeedOpt = 0,
    run_index: Annotated[int, typer.Option("--run", help="Which run of the seed to tell.")] = 0,
    lever: LeverOpt = None,
    lens: LensOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show quiet steps too.")] = False,
) -> None:
    """Tell one run as a story: per step, what each actor did, which rules fired and why, with
    the evidence behind each rule."""
    from redline.api import trace
    from redline.report.story import story

    if run_index < 0:
        raise UserError("--run must be 0 or more")
    loaded = load_scenario(file)
    s = loaded.scenario
    result, config = trace(s, seed, run_index, parse_levers(lever), lens)
    from redline.compile import compile_scenario

    program = compile_scenario(s, config)
    out.print(f"[bold]{s.title}[/] — run {run_index}, seed {seed}, {config.label()}")
    for line in story(s, program, result, verbose):
        out.print(f"[cyan]{line.when:>22}[/]  {line.text}")
        if line.why:
            out.print(f"{'':>24}[dim]{line.why}[/]", markup=True)
        for quote in line.evidence:
            out.print(f"{'':>24}[green]{quote}[/]")
    ended = "ended" if result.steps < s.time.horizon else "reached the horizon"
    out.print(f"The run {ended} after {result.steps} steps; peak ladder level: "
              f"{program.rungs[result.peak_level]}.")
