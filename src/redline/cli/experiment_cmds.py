"""Commands for experiments: sweep, results (list, show, export, delete), compare."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.table import Table
from rich.text import Text

from redline.cli import llm_opts
from redline.cli.app import app, counted, err, guarded, out
from redline.cli.run_cmds import (
    StoreOpt,
    StrictOpt,
    ThreadsOpt,
    YesOpt,
    execute,
    parse_levers,
    print_outcomes,
    print_trouble,
    refuse_stored_trouble,
)
from redline.engine.simulate import AUTO, SWEEP_BACKEND_HELP, SWEEP_BACKENDS
from redline.errors import UserError
from redline.experiment.outputs import DEFAULT_STORE, check_output

if TYPE_CHECKING:
    from redline.engine.simulate import SweepBackend
    from redline.experiment.store import Store
    from redline.llm.actor import LanguageModelActor
    from redline.scenario.model import Scenario

results_app = typer.Typer(
    help="Stored experiments: list, show, export, delete.", no_args_is_help=True
)
app.add_typer(results_app, name="results")


def _lever_lists(items: list[str] | None) -> dict[str, list[str]] | None:
    """``--lever a=x --lever a=y`` → ``{"a": ["x", "y"]}``."""
    out_: dict[str, list[str]] = {}
    for item in items or []:
        name, option = next(iter(parse_levers([item]).items()))
        out_.setdefault(name, []).append(option)
    return out_ or None


@app.command()
@guarded
def sweep(
    file: Annotated[
        str,
        typer.Argument(
            help="A scenario, or an experiment file (YAML with 'scenario:' and 'name:')."
        ),
    ],
    name: Annotated[
        str | None, typer.Option(help="Experiment name (required for a scenario).")
    ] = None,
    runs: Annotated[int | None, typer.Option("--runs", "-n", help="Runs per design point.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    lever: Annotated[
        list[str] | None,
        typer.Option("--lever", help="NAME=OPTION to include (repeatable; default: every option)."),
    ] = None,
    lens: Annotated[
        list[str] | None,
        typer.Option("--lens", help="A lens to include (repeatable; default: every lens)."),
    ] = None,
    sample: Annotated[
        str | None, typer.Option(help="Uncertainties: per_run (default), lhs:K, sobol:K or grid.")
    ] = None,
    chunk_size: Annotated[int | None, typer.Option(help="Runs per unit of work.")] = None,
    one_at_a_time: Annotated[
        bool,
        typer.Option(
            "--one-at-a-time",
            help="Vary one lever at a time (others at their defaults) instead "
            "of every combination.",
        ),
    ] = False,
    final_state: Annotated[
        bool,
        typer.Option(
            "--final-state",
            help="Store each run's final state too (every state variable; most of a stored "
            "run's size).",
        ),
    ] = False,
    store_path: StoreOpt = DEFAULT_STORE,
    workers: Annotated[int, typer.Option(help="Local worker processes.")] = 1,
    threads: ThreadsOpt = None,
    dask_local: Annotated[
        int | None, typer.Option(help="Start a Dask LocalCluster with this many workers.")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Address of a running Dask scheduler (tcp://host:port).")
    ] = None,
    backend: Annotated[str, typer.Option(help=SWEEP_BACKEND_HELP)] = AUTO,
    yes: YesOpt = False,
    report: Annotated[
        Path | None,
        typer.Option(
            help="Where to write the HTML report (default: redline-report-NAME.html, NAME the "
            "experiment's)."
        ),
    ] = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Write no HTML report.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Write the report over a file that is not a report.")
    ] = False,
    strict: StrictOpt = False,
    llm_endpoint: llm_opts.EndpointOpt = None,
    llm_key_env: llm_opts.KeyEnvOpt = None,
    llm_concurrency: llm_opts.ConcurrencyOpt = 64,
    llm_timeout: llm_opts.TimeoutOpt = 60.0,
    llm_retries: llm_opts.RetriesOpt = 5,
    llm_price: llm_opts.PriceOpt = None,
    llm_model: llm_opts.ModelOpt = None,
    llm_template: llm_opts.TemplateOpt = None,
) -> None:
    """Run an experiment: every lever option × lens × uncertainty design point, stored unit by
    unit. Killed and started again with the same command, it does only what is missing. A
    warning table follows of any NaN or out-of-range probability and NaN state met.
    Language-model actors ask the --llm-endpoint, from this process (docs/llm.md); their
    answers are kept in the store, so a resumed sweep asks only what it had not asked."""
    from redline.experiment.design import sobol_note
    from redline.experiment.spec import sweep_spec
    from redline.experiment.store import Store

    if backend not in SWEEP_BACKENDS:
        raise UserError(f"unknown backend '{backend}'; known: {', '.join(SWEEP_BACKENDS)}")
    spec = sweep_spec(
        file,
        name=name,
        runs=runs,
        seed=seed,
        levers=_lever_lists(lever),
        lenses=lens or None,
        sample=sample,
        chunk_size=chunk_size,
        levers_design="one_at_a_time" if one_at_a_time else None,
        final_state=final_state or None,
    )
    note = sobol_note(spec.sample)
    if note:
        err.print(f"note: {note}", markup=False, soft_wrap=True)
    store = Store(store_path)
    report_path = None if no_report else report or Path(f"redline-report-{spec.name}.html")
    if report_path is not None:  # before sweeping: never over the store, nor a file not a report
        check_output(report_path, "report", store.path, force)
    before = store.get(spec.name) if store.path.exists() else None
    if before is not None and before.status == "done":
        p = execute(spec, store, {}, cast("SweepBackend", backend))  # checks the spec matches
        out.print(
            f"experiment '{spec.name}' is already complete in {store.path}: "
            f"{p.record.units} units, {p.record.runs:,} runs; nothing to do"
        )
        _sweep_report(store, spec.name, report_path)
        return
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
    models: dict[str, LanguageModelActor] = {}

    def language_models(s: Scenario) -> dict[str, LanguageModelActor]:
        models.update(llm_opts.language_makers_for(s, options, store))
        return models

    try:
        p = execute(
            spec,
            store,
            {
                "workers": workers,
                "dask_local": dask_local,
                "scheduler": scheduler,
                "threads": threads,
            },
            cast("SweepBackend", backend),
            strict,
            yes=yes,
            makers=language_models,
        )
    finally:
        llm_opts.close_all(models)
    record = p.record
    if models:
        llm_opts.record(store, record.key, models, options)
        llm_opts.print_usage(models, options.prices())
    shared = (  # another sweep of the same experiment computed the rest meanwhile
        f" ({p.computed} of {len(p.todo)} units computed here, the others by another sweep "
        "of the same experiment at the same time)"
        if p.computed < len(p.todo)
        else ""
    )
    resumed = (
        f" (resumed: {counted(len(p.units) - len(p.todo), 'unit')} "
        f"{'was' if len(p.units) - len(p.todo) == 1 else 'were'} already stored)"
        if len(p.todo) < len(p.units)
        else ""
    )
    out.print(
        f"experiment '{spec.name}': {counted(record.points, 'design point')}, "
        f"{counted(record.runs, 'run')}, "
        f"{record.seconds:.1f} s of simulation{resumed}{shared}; stored in {store.path}"
    )
    trouble = store.trouble(spec.name)
    refuse_stored_trouble(trouble, strict, spec.name)
    if trouble:
        print_trouble([(point["label"], point, []) for point in store.points(spec.name)], trouble)
    _sweep_report(store, spec.name, report_path)


def _sweep_report(store: Store, name: str, path: Path | None) -> None:
    """Write a swept experiment's HTML report (none when ``path`` is None): the scenario as the
    store keeps it, so the report describes what was swept whatever became of its file."""
    if path is None:
        return
    from redline.report.publish import write_experiment_report

    written = write_experiment_report(store, name, path, source="sweep")
    out.print(f"report: {written}")


@results_app.command("list")
@guarded
def results_list(store_path: StoreOpt = DEFAULT_STORE) -> None:
    """List the experiments in a store."""
    from redline.experiment.store import Store

    store = Store(store_path)
    store.require_file()
    table = Table(
        "name",
        "scenario",
        "status",
        "points",
        "runs",
        "units done",
        "seconds",
        "created",
        title=Text(f"Experiments in {store_path}"),
    )
    for r in store.experiments():
        table.add_row(
            r.name,
            r.scenario_id,
            r.status,
            str(r.points),
            f"{r.runs:,}",
            f"{r.done_units}/{r.units}" + ("" if r.complete else " (incomplete)"),
            f"{r.seconds:.1f}",
            r.created.strftime("%Y-%m-%d %H:%M"),
        )
    out.print(table)


@results_app.command("show")
@guarded
def results_show(name: str, store_path: StoreOpt = DEFAULT_STORE) -> None:
    """Show an experiment's specification and outcome probabilities."""
    from redline.experiment.runner import stored_summaries
    from redline.experiment.store import Store

    store = Store(store_path)
    record = store.record(name)
    s = store.scenario(name)  # as it was swept, whatever became of its file
    outcomes = [(o.id, o.label) for o in s.outcomes]
    rows = stored_summaries(store, name, outcomes)  # refuses an experiment without results
    out.print(
        f"[bold]{name}[/]: {record.scenario_id} (digest {record.scenario_digest}), "
        f"redline {record.version}, seed {record.spec.seed}, sample {record.spec.sample}, "
        + (f"{record.units}/{record.units} units, done" if record.complete else record.progress())
    )
    print_outcomes(s, rows, f"{name}: outcome probabilities")
    if any(a.decision.kind == "llm" for a in s.actors):
        from redline.cli.llm_opts import print_experiment_usage

        print_experiment_usage(store, record.key)


#: file suffixes an export's format is told from
EXPORT_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def export_format(fmt: str | None, output: Path) -> str:
    """The format to write: ``--format`` if given, else the file's suffix (.csv, .parquet,
    .pq); a format that contradicts the suffix, or neither, is refused."""
    if fmt is not None and fmt not in ("csv", "parquet"):
        raise UserError(f"unknown format '{fmt}'; known: csv, parquet")
    implied = EXPORT_SUFFIXES.get(output.suffix.lower())
    if fmt is None:
        if implied is None:
            raise UserError(
                f"cannot tell the format of {output} from its name: give it a .csv, .parquet "
                "or .pq suffix, or name the format with --format csv or --format parquet"
            )
        return implied
    if implied is not None and implied != fmt:
        raise UserError(
            f"--format {fmt} contradicts the file name {output} (a {implied} file); change "
            "one of them, or leave out --format to write what the name says"
        )
    return fmt


@results_app.command("export")
@guarded
def results_export(
    name: str,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", help="csv or parquet (default: from the file's suffix, .csv or .parquet)."
        ),
    ] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")] = Path(
        "results.parquet"
    ),
    store_path: StoreOpt = DEFAULT_STORE,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Write over an existing file that is not an export of redline's."
        ),
    ] = False,
) -> None:
    """Export an experiment's per-run rows to CSV or Parquet (told from the file's suffix
    unless --format is given). Never over the store; over an existing file only if it is an
    export of redline's, or with --force."""
    from redline.experiment.store import Store

    chosen = export_format(fmt, output)
    count = Store(store_path).export(name, chosen, output, force=force)
    out.print(f"wrote {count:,} rows to {output} ({chosen})", markup=False)


@results_app.command("delete")
@guarded
def results_delete(name: str, store_path: StoreOpt = DEFAULT_STORE) -> None:
    """Delete an experiment and its results from a store."""
    from redline.experiment.store import Store

    Store(store_path).delete(name)
    out.print(f"deleted '{name}' from {store_path}", markup=False)


CompareLensOpt = Annotated[
    str | None,
    typer.Option(
        "--lens",
        help="With --by lever: compare under this lens only. With --by lens: compare every "
        "other lens with this one (default: the first lens).",
    ),
]


@app.command()
@guarded
def compare(
    name: str,
    by: Annotated[str, typer.Option(help="lever or lens")] = "lever",
    lens: CompareLensOpt = None,
    store_path: StoreOpt = DEFAULT_STORE,
) -> None:
    """Differences in outcome probabilities between lever options (or lenses), with 95%
    intervals, each against the first option (or --lens), everything else held equal, beside
    both probabilities."""
    from redline.analysis.compare import percent
    from redline.experiment.store import Store
    from redline.report.comparison import compare_experiment

    compared = compare_experiment(Store(store_path), name, by, lens)
    under = f" under lens {lens}" if lens is not None and by == "lever" else ""
    for axis in compared.axes:
        table = Table(
            "outcome",
            "compared",
            "baseline",
            "p compared",
            "p baseline",
            "difference [95% interval]",
            title=f"{name}: by {axis}{under}",
        )
        for d in compared.along(axis):
            held = "; ".join(
                x for x in (d.held, f"pooled over {d.pooled} sampled points" * (d.pooled > 1)) if x
            )
            table.add_row(  # scenario names as written, never read as markup
                Text(d.outcome),
                Text(f"{d.option} ({held})" if held else d.option),
                Text(d.baseline),
                f"{d.p_option:.1%}",
                f"{d.p_baseline:.1%}",
                f"{percent(d.difference)} [{percent(d.lo)}, {percent(d.hi)}]",
            )
        if table.row_count:
            out.print(table)
        else:
            out.print(f"{axis}: only one option in '{name}'{under}; nothing to compare")
