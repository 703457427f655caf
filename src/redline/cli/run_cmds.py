"""Commands that simulate: run (outcome probabilities) and story (one run narrated)."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.markup import escape
from rich.table import Column, Table

from redline.cli import llm_opts
from redline.cli.app import EXIT_INTERRUPTED, app, counted, err, guarded, out
from redline.engine.simulate import (
    AUTO,
    BACKENDS,
    DEFAULT_CHUNK,
    SWEEP_BACKEND_HELP,
    SWEEP_BACKENDS,
)
from redline.errors import UserError
from redline.experiment.outputs import DEFAULT_STORE, check_output

# what a command needs to simulate, store and report is imported when it runs: `redline --help`
# and the commands that simulate nothing do not load NumPy, DuckDB, Arrow nor the scenario's
# models (tests/cli/test_cli_imports.py)
if TYPE_CHECKING:
    from rich.progress import Progress

    from redline.analysis.ablation import Ablation
    from redline.analysis.score import Score
    from redline.engine.deciders import DecisionMaker
    from redline.engine.simulate import SweepBackend
    from redline.engine.trouble import TroubleRow
    from redline.experiment.resources import Estimate
    from redline.experiment.runner import MakersFor
    from redline.experiment.spec import ExperimentSpec
    from redline.experiment.store import Store
    from redline.experiment.sweep import Plan
    from redline.report.story import StoryLine
    from redline.results import OutcomeSummary
    from redline.scenario.loader import LoadedScenario
    from redline.scenario.model import Scenario

DEFAULT_SCENARIO = "nato-russia"
#: the main job uses both cores of a 2-core machine
DEFAULT_WORKERS = min(2, os.cpu_count() or 1)

LeverOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--lever", help="Fix a lever: NAME=OPTION (repeatable). Unfixed levers: all options."
    ),
]
ThreadsOpt = Annotated[
    int | None,
    typer.Option(
        help="Chunks computed at once in this process (with --workers 1); default: one per core."
    ),
]
LensOpt = Annotated[str | None, typer.Option("--lens", help="Use one lens (default: every lens).")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed.")]
StoreOpt = Annotated[Path, typer.Option("--store", help="The DuckDB store file.")]
StrictOpt = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Stop at the first NaN or out-of-range probability or NaN state variable, naming "
        "the step, run, element and value (default: count them and warn after the run).",
    ),
]


YesOpt = Annotated[
    bool,
    typer.Option(
        "--yes",
        "-y",
        help="Start a large sweep without asking (one estimated to add more than 2 GB to the "
        "store, to take more than 15 minutes, or to need more than the disk's free space).",
    ),
]


def confirm_large(guess: Estimate) -> bool:
    """Ask whether to go ahead with a large sweep; without a terminal to ask on, refuse with
    the estimate."""
    if not sys.stdin.isatty():
        raise UserError(
            f"a large sweep: {guess.describe()}; nothing was started (redline asks before "
            "such a sweep, and cannot ask without a terminal): pass --yes to go ahead, or ask "
            "for fewer runs"
        )
    return typer.confirm(f"{guess.describe()}. Go ahead?", default=False, err=True)


def print_note(text: str) -> None:
    """A note on stderr (worker processes capped, ...)."""
    err.print(f"note: {text}", markup=False, soft_wrap=True)


def parse_levers(items: list[str] | None) -> dict[str, str]:
    levers: dict[str, str] = {}
    for item in items or []:
        name, sep, option = item.partition("=")
        if not sep or not name or not option:
            raise UserError(f"--lever expects NAME=OPTION, got '{item}'")
        levers[name.strip()] = option.strip()
    return levers


def print_outcomes(
    s: Scenario, rows: list[tuple[str, dict[str, Any], list[OutcomeSummary]]], title: str
) -> None:
    """Outcome probabilities in % with 95% Wilson intervals, a row per lens × lever setting
    (named by what differs from the levers' defaults), laid out to fit the terminal
    (:mod:`redline.cli.outcome_table`)."""
    from redline.cli.outcome_table import print_outcome_tables

    print_outcome_tables(out, s, rows, title)


def print_trouble(
    rows: list[tuple[str, dict[str, Any], list[OutcomeSummary]]],
    trouble: dict[int, list[TroubleRow]],
) -> None:
    """A warning table of the numerical trouble each configuration met (nothing if none): per
    element and problem, how often, in how many runs, and the first occurrence."""
    if not any(trouble.values()):
        return
    table = Table(
        "configuration",
        "element",
        "problem",
        "times",
        "runs",
        "first (run, step: value)",
        title="[bold yellow]warning: numerical trouble[/] (--strict stops at the first; see "
        "docs/engine.md)",
        title_justify="left",
    )
    for label, point, _ in rows:
        shown = label + (f" [{point['lens']}]" if point.get("lens") else "")
        for t in trouble.get(int(point["point"]), []):
            table.add_row(
                escape(shown),
                escape(f"{t.kind.replace('_', ' ')} {t.element}"),
                t.problem,
                f"{t.occurrences:,}",
                f"{t.runs:,}",
                f"run {t.first_run}, step {t.first_step}: {t.first_value!r}",
            )
    out.print(table)


def refuse_stored_trouble(trouble: dict[int, list[TroubleRow]], strict: bool, name: str) -> None:
    """``--strict`` on an experiment whose stored units already hold numerical trouble (stored
    by a run without it, or resumed): refused, naming the earliest occurrence."""
    found = [t for rows in trouble.values() for t in rows]
    if not strict or not found:
        return
    t = min(found, key=lambda t: (t.first_run, t.first_step))
    raise UserError(
        f"experiment '{name}' already holds numerical trouble stored without --strict: at step "
        f"{t.first_step} of run {t.first_run}, {t.kind.replace('_', ' ')} '{t.element}': "
        f"{t.problem} ({t.first_value!r}) (--strict); delete it (redline results delete) or "
        "leave out --strict"
    )


def progress_bar() -> Progress:
    """A progress bar on stderr that fits the terminal: the description takes what room is
    left and is shortened with an ellipsis, so that the counts and times are never cut."""
    from rich.progress import (  # on use: a command that simulates nothing does not load it
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        # a description names configurations and lenses: shown as written, not as markup
        TextColumn(
            "{task.description}",
            style="progress.description",
            markup=False,
            table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis"),
        ),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
        expand=True,
    )


def execute(
    spec: ExperimentSpec,
    store: Store,
    executor_opts: dict[str, Any],
    backend: SweepBackend = "numpy",
    strict: bool = False,
    yes: bool = False,
    makers: Mapping[str, DecisionMaker] | MakersFor | None = None,
    loaded: LoadedScenario | None = None,
) -> Plan:
    """Run an experiment's missing units (:func:`redline.experiment.runner.execute`) with a
    progress bar. Interrupted (Ctrl-C), it says how many units are stored and exits with
    status 130; ``strict``, numerical trouble stops it with a message (exit 2). A large sweep
    asks first (:func:`confirm_large`) unless ``yes``; capped worker processes are noted.
    ``makers`` decide for the actors they name (language models); ``loaded``: the spec's
    scenario, already loaded."""
    from redline.experiment import runner

    try:
        with ExitStack() as stack:

            def start(p: Plan, on: str) -> Callable[[int], None]:
                bar = stack.enter_context(progress_bar())
                task = bar.add_task(
                    f"{spec.name}: {counted(len(p.points), 'configuration')} on {on}",
                    total=p.runs_todo,
                )
                return lambda k: bar.advance(task, k)

            return runner.execute(
                spec,
                store,
                executor_opts,
                backend,
                start,
                strict,
                confirm=None if yes else confirm_large,
                notes=print_note,
                makers=makers,
                loaded=loaded,
            )
    except runner.Stopped as exc:
        err.print(str(exc), markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None


@app.command()
@guarded
def run(
    file: Annotated[str, typer.Argument(help="Scenario file or built-in name.")] = DEFAULT_SCENARIO,
    runs: Annotated[int, typer.Option("--runs", "-n", help="Runs per configuration.")] = 20_000,
    seed: SeedOpt = 0,
    lever: LeverOpt = None,
    lens: LensOpt = None,
    backend: Annotated[str, typer.Option(help=SWEEP_BACKEND_HELP)] = AUTO,
    chunk_size: Annotated[int, typer.Option(help="Runs per chunk.")] = DEFAULT_CHUNK,
    workers: Annotated[
        int | None,
        typer.Option(
            help=f"Worker processes (default: {DEFAULT_WORKERS}, or 1 when --threads is given)."
        ),
    ] = None,
    threads: ThreadsOpt = None,
    store_path: StoreOpt = DEFAULT_STORE,
    report: Annotated[Path | None, typer.Option(help="Where to write the HTML report.")] = None,
    factorial: Annotated[
        bool,
        typer.Option(
            "--factorial/--one-at-a-time",
            help="Every combination of lever options, or (default) each option of one lever at a "
            "time with the others at their defaults.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    with_ablation: Annotated[
        bool,
        typer.Option(
            "--ablate",
            help="Add 'What drives each outcome' to the report: each mechanism switched off in "
            "turn (redline ablate; --runs runs each, under the --lever and --lens given, the "
            "other levers at their defaults).",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Write the report over a file that is not a report."),
    ] = False,
    with_score: Annotated[
        bool | None,
        typer.Option(
            "--score/--no-score",
            help="Add 'How well each lens explains the record' and 'Against published "
            "forecasts' to the report (redline score: 10,000 particles × 5 filters per lens, "
            "under the --lever and --lens given); default: when the scenario has observations.",
        ),
    ] = None,
    strict: StrictOpt = False,
    yes: YesOpt = False,
    llm_endpoint: llm_opts.EndpointOpt = None,
    llm_key_env: llm_opts.KeyEnvOpt = None,
    llm_concurrency: llm_opts.ConcurrencyOpt = 64,
    llm_timeout: llm_opts.TimeoutOpt = 60.0,
    llm_retries: llm_opts.RetriesOpt = 5,
    llm_price: llm_opts.PriceOpt = None,
    llm_model: llm_opts.ModelOpt = None,
    llm_template: llm_opts.TemplateOpt = None,
) -> None:
    """Simulate a scenario for every lever option and lens (unless fixed with --lever/--lens):
    print outcome probabilities with 95% intervals (and a warning table of any NaN or
    out-of-range probability and NaN state met), store the results and write a report.
    Language-model actors ask the --llm-endpoint (docs/llm.md); their answers are kept in the
    store, so running the same again replays them."""
    from redline.experiment import runner
    from redline.experiment.store import Store
    from redline.scenario.loader import load_scenario

    if backend not in SWEEP_BACKENDS:
        raise UserError(f"unknown backend '{backend}'; known: {', '.join(SWEEP_BACKENDS)}")
    loaded = load_scenario(file)
    s = loaded.scenario
    spec = runner.run_spec(loaded, runs, seed, parse_levers(lever), lens, chunk_size, factorial)
    name = spec.name
    store = Store(store_path)
    report_path = report or Path(f"redline-report-{s.id}.html")
    if not as_json:  # before simulating: never over the store, nor over a file not a report
        check_output(report_path, "report", store.path, force)
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
    models = llm_opts.language_makers_for(s, options, store, keep_reasons=not as_json)
    if models:
        if (workers or 1) > 1 or (threads or 1) > 1:
            print_note(
                "language-model actors are asked from this process, every live run of a step "
                "at once: --workers 1 --threads 1"
            )
        workers, threads = 1, 1
    if workers is None:
        workers = DEFAULT_WORKERS if threads is None else 1
    try:
        plan = execute(
            spec,
            store,
            {"workers": workers, "threads": threads},
            cast("SweepBackend", backend),
            strict,
            yes,
            makers=models,
            loaded=loaded,
        )
    except BaseException:
        llm_opts.close_all(models)
        raise
    if models:
        llm_opts.record(store, plan.record.key, models, options)
    if backend == AUTO:  # the analyses below run on one backend: the kernel
        backend = "numpy"
    outcomes = [(o.id, o.label) for o in s.outcomes]
    rows = runner.stored_summaries(store, name, outcomes)
    trouble = store.trouble(name)
    refuse_stored_trouble(trouble, strict, name)
    if as_json:
        payloads = [
            _json(s, runs, seed, pt, summ, trouble.get(int(pt["point"]), []))
            for _, pt, summ in rows
        ]
        payload = (
            payloads[0]
            if len(payloads) == 1
            else {
                "scenario": s.id,
                "horizon": s.time.horizon,
                "runs": runs,
                "seed": seed,
                "configurations": payloads,
            }
        )
        if models:
            payload["language_models"] = llm_opts.usage_json(models, options)
            llm_opts.close_all(models)
        print(json.dumps(payload, indent=2))
        return
    print_outcomes(
        s,
        rows,
        f"{s.title} — outcome probabilities, {counted(runs, 'run')} each, seed "
        f"{seed}, horizon {counted(s.time.horizon, s.time.step)}",
    )
    print_trouble(rows, trouble)
    out.print(f"results: experiment '{name}' in {store.path}", markup=False)
    llm_opts.print_usage(models, options.prices())
    ablation = (
        ablate_with_progress(loaded, runs, seed, parse_levers(lever), lens, backend, threads)
        if with_ablation
        else None
    )
    scored = (
        score_with_progress(loaded, seed, parse_levers(lever), lens, backend, threads)
        if (with_score if with_score is not None else bool(s.observations))
        else None
    )
    try:
        path = write_experiment_report(store, name, loaded, report_path, ablation, scored, models)
    finally:
        llm_opts.close_all(models)
    out.print(f"report: {path}", markup=False)


def _json(
    s: Scenario,
    runs: int,
    seed: int,
    point: dict[str, Any],
    summ: list[OutcomeSummary],
    trouble: list[TroubleRow],
) -> dict[str, object]:
    from redline.results import summary_json

    return summary_json(
        s.id, s.time.horizon, runs, seed, point["levers"], point["lens"], summ, trouble
    )


def ablate_with_progress(
    loaded: LoadedScenario,
    runs: int,
    seed: int,
    levers: dict[str, str] | None,
    lens: str | None,
    backend: str,
    threads: int | None,
    lever_options: bool = True,
    makers: Mapping[str, DecisionMaker] | None = None,
) -> Ablation:
    """Ablate the scenario (:func:`redline.analysis.ablation.ablate`) with a progress bar over
    its configurations; ``makers`` decide its language-model actors."""
    from redline.analysis.ablation import ablate

    if backend not in BACKENDS:
        raise UserError(f"unknown backend '{backend}'; known: {', '.join(BACKENDS)}")
    with progress_bar() as bar:
        task = bar.add_task(f"ablating {loaded.scenario.id}", total=None)

        def progress(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=f"ablation: {label}")

        return ablate(
            loaded,
            runs=runs,
            seed=seed,
            levers=levers,
            lens=lens,
            backend=backend,
            threads=threads,
            lever_options=lever_options,
            progress=progress,
            makers=makers,
        )


def score_with_progress(
    loaded: LoadedScenario,
    seed: int,
    levers: dict[str, str] | None,
    lens: str | None,
    backend: str,
    threads: int | None,
    particles: int = 10_000,
    replicates: int = 5,
) -> Score:
    """Score the scenario against its record (:func:`redline.analysis.score.score`) with a
    progress bar over its passes."""
    from redline.analysis.score import score

    with progress_bar() as bar:
        task = bar.add_task(f"scoring {loaded.scenario.id}", total=None)

        def progress(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=f"score: {label}")

        return score(
            loaded,
            particles=particles,
            replicates=replicates,
            seed=seed,
            levers=levers,
            lenses=[lens] if lens else None,
            backend=backend,
            threads=threads,
            progress=progress,
        )


def write_experiment_report(
    store: Store,
    name: str,
    loaded: LoadedScenario,
    path: Path,
    ablation: Ablation | None = None,
    score: Score | None = None,
    makers: Mapping[str, DecisionMaker] | None = None,
) -> Path:
    """Write the self-contained HTML report of a stored experiment
    (:func:`redline.report.publish.write_experiment_report`; ``makers`` decide in its narrated
    run, a language model's replayed from the store)."""
    from redline.report.publish import write_experiment_report as write

    return write(store, name, path, loaded, ablation, score, makers=makers)


def _story_row(when: str, text: str, style: str, pad: int) -> None:
    """One row of a story: ``when`` right-aligned in ``pad`` columns, then ``text`` wrapped to
    the console width with its continuation lines indented under it."""
    from rich.text import Text

    indent = " " * (pad + 2)
    body = textwrap.fill(
        text,
        width=max(out.width, pad + 40),
        initial_indent=when.rjust(pad) + "  ",
        subsequent_indent=indent,
        break_on_hyphens=False,
    )
    row = Text(body)
    row.stylize("cyan", 0, pad)
    if style:
        row.stylize(style, pad + 2)
    out.print(row, soft_wrap=True)


def _paragraph(text: str, style: str = "") -> None:
    """``text`` wrapped to the console width at spaces only (no trailing blanks)."""
    wrapped = textwrap.fill(text, width=out.width, break_on_hyphens=False)
    out.print(wrapped, style=style or None, markup=False, soft_wrap=True)


StoryLeverOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--lever",
        help="Fix a lever: NAME=OPTION (repeatable). Unfixed levers take their default option.",
    ),
]
StoryLensOpt = Annotated[
    str | None,
    typer.Option(
        "--lens",
        help="Tell the run under this lens (default: the scenario's first lens, as the "
        "report's narrated run and the first rows of redline run).",
    ),
]


@app.command("story")
@guarded
def story_cmd(
    file: Annotated[str, typer.Argument(help="Scenario file or built-in name.")] = DEFAULT_SCENARIO,
    seed: SeedOpt = 0,
    run_index: Annotated[int, typer.Option("--run", help="Which run of the seed to tell.")] = 0,
    lever: StoryLeverOpt = None,
    lens: StoryLensOpt = None,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Tell every step in full: quiet steps and repeated happenings too, unfolded.",
        ),
    ] = False,
    store_path: Annotated[
        Path,
        typer.Option("--store", help="The DuckDB store keeping language-model actors' answers."),
    ] = DEFAULT_STORE,
    llm_endpoint: llm_opts.EndpointOpt = None,
    llm_key_env: llm_opts.KeyEnvOpt = None,
    llm_timeout: llm_opts.TimeoutOpt = 60.0,
    llm_retries: llm_opts.RetriesOpt = 5,
    llm_model: llm_opts.ModelOpt = None,
    llm_template: llm_opts.TemplateOpt = None,
) -> None:
    """Tell one run (one configuration) as a story: per step, what each actor did, which rules
    fired and why, with the evidence behind each rule the first time it appears, and a
    language-model actor's reason for each of its choices (replayed from the store's answers
    when the run was asked before). As in the report, what repeats is counted, not retold, and
    steps with nothing new are folded."""
    from redline.experiment.store import Store
    from redline.report.trace import tell
    from redline.scenario.loader import load_scenario

    if run_index < 0:
        raise UserError("--run must be 0 or more")
    s = load_scenario(file).scenario
    options = llm_opts.LLMOptions(
        llm_endpoint,
        llm_key_env,
        timeout=llm_timeout,
        retries=llm_retries,
        model=llm_model,
        template=llm_template,
    )
    models = llm_opts.language_makers_for(s, options, Store(store_path), keep_reasons=True)
    try:
        told = tell(s, seed, run_index, parse_levers(lever), lens, verbose, models)
    finally:
        llm_opts.close_all(models)
    _paragraph(told.caption, "bold")
    for line in told.header:
        _paragraph(line)
    if verbose:
        pad = max((len(item.when) for item in told), default=0)
        previous = ""
        for item in told:
            _story_line(item, "" if item.when == previous else item.when, pad)
            previous = item.when
    else:
        _folded_story(list(told))
    _paragraph(told.ending)


def _story_line(item: StoryLine, when: str, pad: int) -> None:
    """A happening, its reason and its evidence."""
    _story_row(when, item.text, "", pad)
    if item.why:
        _story_row("", item.why, "dim", pad)
    for quote in item.evidence:
        _story_row("", quote, "green", pad)


def _folded_story(lines: list[StoryLine]) -> None:
    """The story as the report's narrated run tells it (:func:`redline.report.narrative.beats`):
    each step with news in full, what it repeats counted on one line, and each stretch of steps
    with nothing new folded into one entry."""
    from redline.report.narrative import beats

    told = beats(lines)
    pad = max((len(beat.when) for beat in told), default=0)
    for beat in told:
        repeated = "; ".join(f"{text} ×{n}" if n > 1 else text for text, n in beat.repeats)
        if beat.folded:
            steps = f" in {beat.steps} steps" if beat.steps > 1 else ""
            _story_row(beat.when, f"nothing new{steps}: {repeated}", "dim", pad)
            continue
        for i, item in enumerate(beat.news):
            _story_line(item, "" if i else beat.when, pad)
        if repeated:
            _story_row("", f"as before: {repeated}", "dim", pad)
