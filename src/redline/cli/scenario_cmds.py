"""Commands that read scenarios: validate, schema, scenarios, explain, ladder."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from redline.cli.app import EXIT_INVALID, app, counted, err, guarded, out, user_errors
from redline.scenario.errors import ScenarioError

if TYPE_CHECKING:
    from redline.scenario.loader import LoadedScenario


@app.command()
def validate(
    files: Annotated[list[str], typer.Argument(help="Scenario files (or built-in names).")],
    deep: Annotated[
        bool,
        typer.Option(
            "--deep",
            help="Also simulate each valid scenario and warn of inert mechanisms, aliased "
            "outcomes, lever options with identical results, unreached outcomes (ablation) and "
            "outcomes one path of events explains (dominant chains).",
        ),
    ] = False,
    runs: Annotated[int, typer.Option("--runs", "-n", help="Runs per check with --deep.")] = 2_000,
    backend: Annotated[str, typer.Option(help="The backend --deep simulates on.")] = "numpy",
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="Print only the problems: no summary of valid files, no warnings."
        ),
    ] = False,
) -> None:
    """Check scenario files; list every problem (structure, names, ranges, expressions) with its
    file, line and element path, all in one pass, sorted by line. Warn of numbers without
    support in the assumptions register. With --deep, also list the model's artefacts as
    warnings. Warnings never change the exit status: 0 when every file is valid, 2 otherwise."""
    from redline.scenario.loader import load_scenario
    from redline.scenario.register import (
        counts_line,
        register,
        unreasoned_warning,
        unsupported_warning,
    )

    failed = 0
    for name in files:
        try:
            loaded = load_scenario(name)
        except ScenarioError as exc:
            failed += 1
            for issue in exc.issues:
                # one line per issue, however long: editors and scripts parse FILE:LINE: …
                err.print(str(issue), markup=False, soft_wrap=True)
            continue
        if quiet:
            continue
        s = loaded.scenario
        rows = register(s)
        out.print(
            f"{name}: valid — {s.title} ({counted(len(s.actors), 'actor')}, "
            f"{counted(len(s.actions), 'action')}, {counted(len(s.red_lines), 'red line')}, "
            f"{counted(len(s.outcomes), 'outcome')}, horizon "
            f"{counted(s.time.horizon, s.time.step)}); register of {counts_line(rows)}",
            markup=False,
            soft_wrap=True,
        )
        for warning in (unsupported_warning(name, rows), unreasoned_warning(name, rows)):
            if warning:
                err.print(warning, markup=False, soft_wrap=True)
        if deep:
            _deep(loaded, runs, backend)
    if failed:
        err.print(
            f"[bold red]{failed} of {len(files)} file{'s' if len(files) > 1 else ''} invalid[/]"
        )
        raise typer.Exit(EXIT_INVALID)


def _deep(loaded: LoadedScenario, runs: int, backend: str) -> None:
    """The ablation's findings for one valid scenario, as warnings on the error stream."""
    from redline.cli.analysis_cmds import deep_warnings

    with user_errors():
        warnings = deep_warnings(loaded, runs, backend)
    for line in warnings:
        err.print(line, markup=False, soft_wrap=True)
    n = len(warnings)
    out.print(
        f"{loaded.scenario.id}: {n} warning{'s' if n != 1 else ''} from the deep check "
        f"({runs:,} runs per configuration, seed 0, levers at their defaults, no lens)",
        markup=False,
        soft_wrap=True,
    )


@app.command()
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) that every valid scenario satisfies."""
    from redline.scenario.schema import json_schema

    print(json.dumps(json_schema(), indent=2))


@app.command()
@guarded
def scenarios() -> None:
    """List the built-in scenarios with their titles and paths."""
    from redline.scenario.loader import builtin_scenarios
    from redline.scenario.yamlsource import read_yaml

    table = Table("name", "title", "path", title="Built-in scenarios")
    for name, path in builtin_scenarios().items():
        data = read_yaml(path).data
        title = data.get("title", "") if isinstance(data, dict) else ""
        table.add_row(name, Text(str(title)), str(path))  # a title is text, never markup
    out.print(table)


@app.command("explain")
@guarded
def explain_cmd(
    file: Annotated[str, typer.Argument(help="A scenario file or built-in name.")],
    lowered: Annotated[
        bool, typer.Option("--lowered", help="Print the core program the scenario compiles to.")
    ] = False,
    fused: Annotated[
        bool,
        typer.Option("--fused", help="Print the module the fused engine (--backend numba) runs."),
    ] = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Print the whole assumptions register: every value with its kind of support, "
            "each element's quotes and reasoning once.",
        ),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the explanation as JSON: sections, sources with their records, and the "
            "register with each value's kind of support and citations.",
        ),
    ] = False,
) -> None:
    """Summarise a scenario: actors, alliances, red lines, doctrines, levers, lenses, sources,
    each quote of its evidence once (with its source's title and what cites it) and the counts
    of the assumptions register (each value stated by a source, supported by a quote with the
    reasoning from quote to number, an assumption, or unsupported); --full prints the register
    itself, value by value."""
    from redline.cli.explain_view import show_explanation
    from redline.scenario.explain import explain, explanation_json
    from redline.scenario.loader import load_scenario

    loaded = load_scenario(file)
    if as_json:
        print(json.dumps(explanation_json(explain(loaded.scenario)), indent=2, ensure_ascii=False))
        return
    if lowered:
        from redline.compile import compile_scenario
        from redline.compile.describe import describe_program

        out.print(describe_program(compile_scenario(loaded.scenario)), markup=False)
        return
    if fused:
        from redline.compile import compile_scenario
        from redline.engine.fused import source

        out.print(source(compile_scenario(loaded.scenario)), markup=False, highlight=False)
        return
    show_explanation(explain(loaded.scenario), out, full)


@app.command("ladder")
@guarded
def ladder_cmd(
    name: Annotated[
        str,
        typer.Argument(
            help="A built-in ladder (kahn, condensed), or a scenario file or built-in name: its "
            "ladder, with the actions on each rung."
        ),
    ] = "condensed",
    as_json: Annotated[bool, typer.Option("--json", help="Print the rungs as JSON.")] = False,
) -> None:
    """List an escalation ladder's rungs, bottom to top: number, id, name, category, group, the
    thresholds between groups, the Kahn rungs each stands for and, for a scenario, its actions
    on each rung."""
    import dataclasses
    from pathlib import Path

    from redline.errors import UserError
    from redline.scenario.errors import suggest
    from redline.scenario.ladders import BUILTIN_LADDERS
    from redline.scenario.loader import builtin_scenarios, load_scenario
    from redline.scenario.rungs import builtin_view, scenario_view

    if name in BUILTIN_LADDERS and not Path(name).exists():
        view = builtin_view(name)
        scenario = False
    elif not Path(name).exists() and Path(name).stem not in builtin_scenarios():
        known = [*BUILTIN_LADDERS, *builtin_scenarios()]
        raise UserError(
            suggest(name, known, "ladder or scenario")
            + " (a built-in ladder, a built-in scenario or a scenario file)"
        )
    else:
        view = scenario_view(load_scenario(name).scenario)
        scenario = True
    if as_json:
        rows = [dataclasses.asdict(r) for r in view.rungs]
        data = {"name": view.name, "title": view.title, "source": view.source, "rungs": rows}
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    columns = ["rung", "id", "name", "category", "group", "Kahn rungs"]
    table = Table(*columns, *(["actions"] if scenario else []), title=view.title)
    for r in view.rungs:
        if r.threshold:
            table.add_row("", Text(f"— threshold: {r.threshold} —", style="italic yellow"))
        kahn = (
            ""
            if r.kahn is None
            else f"{r.kahn[0]}–{r.kahn[1]}"
            if r.kahn[0] != r.kahn[1]
            else str(r.kahn[0])
        )
        cells = [str(r.number), r.id, r.name, r.category, r.group or "", kahn]
        if scenario:
            cells.append(", ".join(r.actions))
        table.add_row(*(Text(c) for c in cells))  # scenario text, never markup
    out.print(table)
    if view.source:
        out.print(Text(f"Source: {' '.join(view.source.split())}", style="dim"))
