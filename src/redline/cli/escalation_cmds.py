"""``redline score-escalation`` and ``redline escalation-power``: EscalAItion's escalation score
from their published run logs, beside their published scores, with intervals; and how often
their 10-run design tells two models apart."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, get_args

import typer
from rich.table import Table

from redline.cli.app import EXIT_INVALID, app, err, fail, guarded, out

if TYPE_CHECKING:
    from redline.analysis.escalaition.study import Cell

MODE_HELP = (
    "compat (their scorer exactly), names (loosely written action names read as the action "
    "they name), corrected (names, and the two actions their list calls peaceful as "
    "de-escalation), or all."
)


def _num(x: float) -> str:
    return "—" if math.isnan(x) else f"{x:.2f}"


@app.command("score-escalation")
@guarded
def score_escalation_cmd(
    source: Annotated[
        str,
        typer.Argument(
            help="Their run logs (a folder of '<Model> <Situation> A<k>.csv' files), or a "
            "scenario (the built-in escalaition, or a file extending it) to run and score."
        ),
    ],
    evals: Annotated[
        Path | None,
        typer.Option(
            "--evals",
            help="Their published scores ('<Model> <Situation> A<k>_raw.json'): compare every "
            "day of every file with the compat scores (exit 1 on any difference).",
        ),
    ] = None,
    runs: Annotated[
        int, typer.Option("--runs", "-n", help="Runs per lens and situation (a scenario).")
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (a scenario).")] = 0,
    lever: Annotated[
        list[str] | None,
        typer.Option("--lever", help="Fix a lever: NAME=OPTION (default: every situation)."),
    ] = None,
    lens: Annotated[
        list[str] | None,
        typer.Option("--lens", help="Score this lens (repeatable; default: every lens)."),
    ] = None,
    backend: Annotated[
        str, typer.Option("--backend", help="numpy, numba or reference (a scenario).")
    ] = "numpy",
    llm_endpoint: Annotated[
        str | None,
        typer.Option(
            "--llm-endpoint",
            help="OpenAI-compatible API base URL for a scenario's language-model nations "
            "(examples/escalaition-llm.yaml; default: the OPENAI_BASE_URL setting).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """EscalAItion's escalation score per model × situation: the mean over runs of each run's
    mean daily score per nation, in three modes (compat: their scorer exactly; names; corrected),
    with 95% intervals over runs (Student t and percentile bootstrap). From their logs: with
    their published score where --evals is given, and per model how the corrections move the
    score. From a scenario: its runs under every lens (model) and situation."""
    if not Path(source).is_dir():
        _score_scenario(source, runs, seed, lever, lens, backend, llm_endpoint, as_json)
        return
    from redline.analysis.escalaition.logs import action_log_files, read_runs
    from redline.analysis.escalaition.study import mode_difference_by_model, study_cells

    read = read_runs(action_log_files(Path(source)))
    if evals is not None and not evals.is_dir():
        fail(f"--evals {evals}: not a folder of published scores")
    cells = study_cells(read, evals)
    mismatches = [m for c in cells for m in c.mismatched_days]
    if as_json:
        print(json.dumps(_json(cells, evals is not None, mismatches), indent=2))
    else:
        _print(cells, evals is not None)
        for mode in ("names", "corrected"):
            diffs = mode_difference_by_model(cells, mode)
            out.print(
                f"{mode} − compat, per model (mean over its runs): "
                + ", ".join(f"{m} {d:+.2f}" for m, d in diffs.items())
            )
        if evals is not None:
            if mismatches:
                for m in mismatches[:20]:
                    err.print(m, markup=False)
                err.print(f"{len(mismatches)} day(s) differ from the published scores")
            else:
                out.print(
                    f"compat equals the published scores: {len(read)} of {len(read)} files, "
                    "every day, every field"
                )
    if mismatches:
        raise typer.Exit(1)


def _score_scenario(
    source: str,
    runs: int,
    seed: int,
    lever: list[str] | None,
    lens: list[str] | None,
    backend: str,
    llm_endpoint: str | None,
    as_json: bool,
) -> None:
    """Run a scenario under each lens and situation and print its runs' escalation scores."""
    from redline.analysis.escalaition.runs import run_scores, total_variable
    from redline.analysis.escalaition.scoring import MODES
    from redline.analysis.escalaition.study import t_interval
    from redline.api import simulate
    from redline.cli.run_cmds import parse_levers
    from redline.llm import Endpoint
    from redline.scenario.errors import suggest
    from redline.scenario.loader import load_scenario

    loaded = load_scenario(source)
    s = loaded.scenario
    fixed = parse_levers(lever)
    known = [x.id for x in s.lenses]
    for name in lens or ():
        if name not in known:
            fail(f"--lens: {suggest(name, known, 'lens')}")
    variables = {v.id for v in s.variables}
    missing = [total_variable(m) for m in MODES if total_variable(m) not in variables]
    if missing:
        fail(
            f"{source}: not the escalaition scenario (nor one extending it): it has no "
            f"variable {missing[0]}, so its runs have no escalation score"
        )
    situation = next((lv for lv in s.levers if lv.id == "situation"), None)
    options: list[str | None]
    if "situation" in fixed:
        options = [fixed["situation"]]
    elif situation is not None:
        options = [o.id for o in situation.options]
    else:
        options = [None]
    endpoint = Endpoint(llm_endpoint) if llm_endpoint else None
    rows = []
    lenses: list[str | None] = [*(lens or known)] or [None]
    for lens_id in lenses:
        for option in options:
            levers = {**fixed, **({"situation": option} if option is not None else {})}
            results = simulate(
                loaded,
                runs,
                seed=seed,
                levers=levers,
                lens=lens_id,
                backend=backend,  # type: ignore[arg-type]
                llm=endpoint,
            )
            row: dict[str, object] = {"lens": lens_id, "situation": option, "runs": runs}
            for mode in MODES:
                values = run_scores(results.table, mode)
                t = t_interval(values.tolist())
                row[mode] = {"mean": float(values.mean()), "t_interval": [t.lo, t.hi]}
            rows.append(row)
    if as_json:
        print(json.dumps({"scenario": s.id, "seed": seed, "rows": rows}, indent=2))
        return
    table = Table(
        title=f"{s.id}: escalation score per lens and situation ({runs:,} runs each, seed "
        f"{seed}; mean and 95% t interval over runs)"
    )
    for column in ("lens", "situation", *MODES):
        table.add_column(column, justify="left" if column in ("lens", "situation") else "right")
    for row in rows:
        cells = []
        for mode in MODES:
            m = row[mode]
            assert isinstance(m, dict)
            lo, hi = m["t_interval"]
            cells.append(f"{_num(m['mean'])} ({_num(lo)}–{_num(hi)})")
        table.add_row(str(row["lens"]), str(row["situation"]), *cells)
    out.print(table)


@app.command("escalation-fit")
@guarded
def escalation_fit_cmd(
    logs: Annotated[
        Path,
        typer.Argument(help="Run logs: a folder of '<Model> <Situation> A<k>.csv' files."),
    ],
) -> None:
    """Fit each model's action distribution per situation from run logs and print the
    escalaition scenario's lenses section (one lens per model) that plays them."""
    from redline.analysis.escalaition.fit import fit_cells, lenses_yaml
    from redline.analysis.escalaition.logs import action_log_files, read_runs

    fits = fit_cells(read_runs(action_log_files(logs)))
    try:
        text = lenses_yaml(fits)
    except ValueError as exc:
        fail(str(exc))
    print(text, end="")


def _print(cells: Sequence[Cell], with_published: bool) -> None:
    table = Table(title="Escalation score per model and situation (mean over runs; 95% intervals)")
    for column in (
        "situation",
        "model",
        "runs",
        *(("published",) if with_published else ()),
        "compat",
        "t interval",
        "bootstrap",
        "names",
        "corrected",
        "corrected t interval",
        "unrecognised",
    ):
        table.add_column(column, justify="left" if column in ("situation", "model") else "right")
    for c in cells:
        t, b = c.intervals("compat")
        ct, _ = c.intervals("corrected")
        row = [c.situation, c.model, str(len(c.runs))]
        if with_published:
            row.append(_num(sum(c.published or ()) / max(1, len(c.published or ()))))
        row += [
            _num(c.mean("compat")),
            f"{_num(t.lo)}–{_num(t.hi)}",
            f"{_num(b.lo)}–{_num(b.hi)}",
            _num(c.mean("names")),
            _num(c.mean("corrected")),
            f"{_num(ct.lo)}–{_num(ct.hi)}",
            f"{c.unrecognised}/{c.actions}",
        ]
        table.add_row(*row)
    out.print(table)


def _json(cells: Sequence[Cell], with_published: bool, mismatches: list[str]) -> dict[str, object]:
    from redline.analysis.escalaition.study import mode_difference_by_model

    rows = []
    for c in cells:
        row: dict[str, object] = {
            "model": c.model,
            "situation": c.situation,
            "runs": list(c.runs),
            "unrecognised": c.unrecognised,
            "actions": c.actions,
        }
        if with_published:
            row["published"] = sum(c.published or ()) / max(1, len(c.published or ()))
        for mode in c.scores:
            t, b = c.intervals(mode)
            row[mode] = {
                "mean": c.mean(mode),
                "runs": list(c.scores[mode]),
                "t_interval": [t.lo, t.hi],
                "bootstrap_interval": [b.lo, b.hi],
            }
        rows.append(row)
    return {
        "cells": rows,
        "difference_by_model": {
            mode: mode_difference_by_model(cells, mode) for mode in ("names", "corrected")
        },
        "mismatched_days": mismatches if with_published else None,
    }


@app.command("escalation-power")
@guarded
def escalation_power_cmd(
    logs: Annotated[
        Path,
        typer.Argument(help="Their run logs: a folder of '<Model> <Situation> A<k>.csv' files."),
    ],
    mode: Annotated[str, typer.Option("--mode", help=MODE_HELP)] = "compat",
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="fitted (runs drawn from each cell's fitted action distribution: an upper "
            "bound), resample (their runs drawn with replacement), or both.",
        ),
    ] = "both",
    runs: Annotated[int, typer.Option("--runs", help="Runs per model × situation.")] = 10,
    studies: Annotated[int, typer.Option("--studies", help="Simulated studies.")] = 10_000,
    alpha: Annotated[float, typer.Option("--alpha", help="Level of Welch's t-test.")] = 0.05,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", help="Compare only these models (repeatable; default: all)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """With what probability would a study of RUNS runs per cell tell each pair of models apart
    in each situation (Welch's two-sided t-test on the run scores, right sign)? Studies are
    simulated from each cell's fitted action distribution and by resampling their runs."""
    from redline.analysis.escalaition.logs import action_log_files, read_runs
    from redline.analysis.escalaition.power import Method, power_table
    from redline.analysis.escalaition.scoring import MODES

    if mode not in MODES:
        fail(f"--mode must be one of {', '.join(MODES)}, got '{mode}'")
    methods = get_args(Method)
    if method not in (*methods, "both"):
        fail(f"--method must be fitted, resample or both, got '{method}'")
    chosen = methods if method == "both" else (method,)
    read = read_runs(action_log_files(logs))
    known = sorted({r.name.model for r in read})
    for m in model or ():
        if m not in known:
            fail(f"--model: no runs of '{m}' in {logs}; known: {', '.join(known)}")
    tables = {
        m: power_table(
            read,
            mode=mode,
            method=m,
            runs=runs,
            studies=studies,
            alpha=alpha,
            seed=seed,
            models=model,
        )
        for m in chosen
    }
    if as_json:
        print(
            json.dumps(
                {
                    m: [
                        {
                            "situation": r.situation,
                            "a": r.a,
                            "b": r.b,
                            "difference": r.difference,
                            "power": r.power,
                            "wrong_sign": r.wrong_sign,
                        }
                        for r in rows
                    ]
                    for m, rows in tables.items()
                },
                indent=2,
            )
        )
        return
    first = tables[chosen[0]]
    table = Table(
        title=f"Power of {runs} runs per cell ({mode} score; Welch t-test, α = {alpha}; "
        f"{studies:,} simulated studies)"
    )
    for column in ("situation", "models", "difference", *(f"power ({m})" for m in chosen)):
        table.add_column(column, justify="left" if column in ("situation", "models") else "right")
    for i, r in enumerate(first):
        table.add_row(
            r.situation,
            f"{r.a} vs {r.b}",
            f"{r.difference:+.2f}",
            *(f"{100 * tables[m][i].power:.0f}%" for m in chosen),
        )
    out.print(table)
    if "fitted" in chosen:
        from redline.analysis.escalaition.power import overdispersion_by_cell

        ratios = [
            v
            for (m, _), v in overdispersion_by_cell(read, mode).items()
            if model is None or m in model
        ]
        if ratios:
            out.print(
                f"Their runs' scores vary {min(ratios):.1f}–{max(ratios):.1f} times as much as "
                "runs of the fitted model (variance ratio per cell): where above 1, the fitted "
                "power overstates what their design tells apart; the resampled power keeps "
                "their run-to-run variation."
            )


__all__ = [
    "EXIT_INVALID",
    "escalation_fit_cmd",
    "escalation_power_cmd",
    "score_escalation_cmd",
]
