"""Commands that ask why: ablate (what each mechanism does, under common random numbers)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from redline.cli import llm_opts
from redline.cli.app import app, counted, err, guarded, out
from redline.cli.run_cmds import DEFAULT_SCENARIO, SeedOpt, ablate_with_progress, parse_levers
from redline.engine.simulate import BACKEND_HELP
from redline.errors import UserError
from redline.experiment.outputs import DEFAULT_STORE
from redline.scenario.errors import suggest

if TYPE_CHECKING:
    from redline.analysis.ablation import Ablation
    from redline.engine.deciders import DecisionMaker
    from redline.scenario.loader import LoadedScenario

FixLeverOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--lever",
        help="Ablate under this lever option: NAME=OPTION (repeatable); the others take their "
        "defaults.",
    ),
]
AblateLensOpt = Annotated[
    str | None, typer.Option("--lens", help="Ablate under this lens (default: no lens).")
]


def run_ablation(
    loaded: LoadedScenario,
    runs: int,
    seed: int,
    lever: list[str] | None,
    lens: str | None,
    backend: str,
    threads: int | None,
    lever_options: bool = True,
    makers: Mapping[str, DecisionMaker] | None = None,
) -> Ablation:
    """Ablate the scenario with a progress bar over its configurations."""
    return ablate_with_progress(
        loaded, runs, seed, parse_levers(lever), lens, backend, threads, lever_options, makers
    )


def _cell(diff: float, lo: float, hi: float, changed: int) -> Text:
    """A change in percentage points with its interval's half-width; dim where it does not move
    beyond the interval, a dot where no run changed."""
    if changed == 0:
        return Text("·", style="dim")
    text = f"{100 * diff:+.1f} ±{100 * (hi - lo) / 2:.1f}".replace("-", "−")
    return Text(text, style="" if lo > 0 or hi < 0 else "dim")


def print_ablation(a: Ablation, title: str, outcomes: list[str] | None = None) -> None:
    """The ablation as a table (a row per mechanism, a column per outcome) and its flags."""
    names = dict(a.outcomes)
    shown = outcomes or [o for o, _ in a.outcomes]
    base = dict(zip(names, a.baseline, strict=True))
    out.print(Text(title, style="bold"))
    out.print(
        "change in each outcome's probability, in percentage points, when the mechanism is "
        f"switched off (± the paired {a.confidence:.0%} interval's half-width; · no run changed)",
        markup=False,
        soft_wrap=True,
    )
    table = Table(title_justify="left")
    table.add_column("mechanism", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    for o in shown:
        table.add_column(Text(names[o]), justify="right", min_width=11)
    table.add_column("", no_wrap=True)
    table.add_row(
        Text("baseline (%)", style="bold"),
        "",
        *(Text(f"{100 * base[o]:.1f}", style="bold") for o in shown),
        "",
    )
    for e in a.effects:
        cells = [_cell(c.diff, c.lo, c.hi, c.changed_runs) for c in (e.change(o) for o in shown)]
        mark = "" if not e.inert else "inert" if e.changed_runs else "inert (no run changed)"
        table.add_row(Text(e.mechanism.name), e.mechanism.kind, *cells, Text(mark, style="yellow"))
    out.print(table)
    print_flags(a)


def print_flags(a: Ablation) -> None:
    names = dict(a.outcomes)
    inert = a.inert
    # each flag's name in bold, then scenario text as written (never read as markup)
    out.print(
        Text.assemble(
            ("inert", "bold"),
            f" ({len(inert)} of {len(a.effects)}): " + (", ".join(m.id for m in inert) or "none"),
        ),
        soft_wrap=True,
    )
    out.print(
        Text.assemble(
            ("aliased outcomes", "bold"),
            ": "
            + ("; ".join(f"{names[x]} = {names[y]} ({x}, {y})" for x, y in a.aliased) or "none"),
        ),
        soft_wrap=True,
    )
    out.print(
        Text.assemble(
            ("identical lever options", "bold"),
            ": "
            + (
                "; ".join(f"{lever}: {' = '.join(group)}" for lever, group in a.identical_options)
                or ("none" if a.levers_examined else "no lever examined")
            ),
        ),
        soft_wrap=True,
    )
    if a.unreached:
        out.print(
            Text.assemble(
                ("unreached outcomes", "bold"), ": " + ", ".join(names[o] for o in a.unreached)
            ),
            soft_wrap=True,
        )
    if a.dominant_chains is None:
        out.print(Text.assemble(("dominant chains", "bold"), ": not examined"))
    else:
        out.print(
            Text.assemble(
                ("dominant chains", "bold"), " (one path explains > 80% of an outcome's runs): "
            )
            + Text(
                "; ".join(
                    f"{names[o]}: {path} ({share:.0%})" for o, path, share in a.dominant_chains
                )
                or "none"
            ),
            soft_wrap=True,
        )


@app.command("ablate")
@guarded
def ablate_cmd(
    file: Annotated[str, typer.Argument(help="Scenario file or built-in name.")] = DEFAULT_SCENARIO,
    runs: Annotated[int, typer.Option("--runs", "-n", help="Runs per configuration.")] = 20_000,
    seed: SeedOpt = 0,
    lever: FixLeverOpt = None,
    lens: AblateLensOpt = None,
    backend: Annotated[str, typer.Option(help=BACKEND_HELP)] = "numpy",
    threads: Annotated[
        int | None, typer.Option(help="Chunks computed at once (default: one per core).")
    ] = None,
    outcome: Annotated[
        list[str] | None,
        typer.Option("--outcome", help="Show this outcome (repeatable; default: every one)."),
    ] = None,
    lever_options: Annotated[
        bool,
        typer.Option(
            "--lever-options/--no-lever-options",
            help="Also run each other option of each lever, to flag options with identical runs.",
        ),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
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
    """Switch off each mechanism (rule, treaty clause, red line, doctrine, scheduled event,
    dynamic; each decision-maker made to hold) one at a time on the same runs (common random
    numbers): print the change in each outcome's probability with a paired 95% interval, and
    flag inert mechanisms, aliased outcomes, lever options with identical results and dominant
    chains (an outcome more than 80% explained by one path: redline why). Language-model
    actors ask the --llm-endpoint, their answers kept in --store (docs/llm.md); one whose
    decision is switched off holds without asking."""
    from redline.scenario.loader import load_scenario

    loaded = load_scenario(file)
    known = [o.id for o in loaded.scenario.outcomes]
    for o in outcome or []:
        if o not in known:
            raise UserError("--outcome: " + suggest(o, known, "outcome"))
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
        a = run_ablation(
            loaded, runs, seed, lever, lens, backend, threads, lever_options, models or None
        )
    if as_json:
        print(json.dumps(a.to_json(), indent=2))
        return
    setting = ", ".join(f"{k}={v}" for k, v in a.levers.items()) or "no levers"
    lens_text = f", lens {a.lens}" if a.lens else ""
    print_ablation(
        a,
        f"{a.scenario} — ablation of {counted(len(a.effects), 'mechanism')}, "
        f"{counted(runs, 'run')} each, seed "
        f"{seed} ({setting}{lens_text}; {a.seconds:.1f} s)",
        outcome,
    )


def deep_warnings(loaded: LoadedScenario, runs: int, backend: str) -> list[str]:
    """``validate --deep``: the ablation's findings (at ``runs`` runs, seed 0, the levers'
    defaults, no lens) as ``FILE:LINE: element: warning: …``."""
    from redline.analysis.ablation import document_path
    from redline.scenario.errors import Issue

    a = run_ablation(loaded, runs, 0, None, None, backend, None)
    lines = []
    for f in a.findings():
        where, line = loaded.source.where(document_path(loaded.scenario, f.element))
        lines.append(str(Issue(where, line, f.element, f"warning: {f.message}")))
    return lines


__all__ = ["ablate_cmd", "deep_warnings", "err", "print_ablation", "run_ablation"]
