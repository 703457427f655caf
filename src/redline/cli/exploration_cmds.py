"""``redline analyze sensitivity`` (which assumptions drive each outcome: Sobol indices or Morris
screening) and ``redline analyze discover`` (where in the uncertainties an outcome concentrates:
PRIM and CART)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from redline.cli import llm_opts
from redline.cli.analyze_group import analyze_app
from redline.cli.app import counted, guarded, out
from redline.cli.run_cmds import DEFAULT_SCENARIO, SeedOpt, parse_levers, progress_bar
from redline.engine.simulate import BACKEND_HELP, BACKENDS
from redline.errors import ArgumentError, UserError, check_index
from redline.experiment.outputs import DEFAULT_STORE

if TYPE_CHECKING:
    from redline.analysis.discovery import Discovery
    from redline.analysis.sensitivity import Screening, Sensitivity
    from redline.scenario.model import Scenario

#: the flag that sets each parameter the analyses' errors name
_FLAGS = {
    "n": "--n",
    "runs_per_point": "--runs-per-point",
    "trajectories": "--trajectories",
    "params": "--param",
    "uncertainties": "--uncertainty",
    "outcomes": "--outcome",
    "outcome": "--outcome",
    "levers": "--lever/--lens",
    "min_density": "--min-density",
    "peel_alpha": "--peel-alpha",
    "mass_min": "--mass-min",
    "cart_depth": "--cart-depth",
    "runs": "--runs",
    "chunk_size": "--chunk-size",
    "backend": "--backend",
    "seed": "--seed",
}


class Method(StrEnum):
    sobol = "sobol"
    morris = "morris"


OutcomesOpt = Annotated[
    list[str] | None,
    typer.Option("--outcome", help="Analyse this outcome (repeatable; default: every one)."),
]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        help="Also vary this parameter, uniformly over LOW:HIGH: NAME=LOW:HIGH, or NAME for "
        "its value ±50% (repeatable).",
    ),
]
UncertaintyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--uncertainty",
        help="Vary only these uncertainties (repeatable; default: every one the configuration "
        "draws).",
    ),
]
LeverOpt = Annotated[
    list[str] | None,
    typer.Option("--lever", help="Fix a lever option: NAME=OPTION (repeatable)."),
]
LensOpt = Annotated[str | None, typer.Option("--lens", help="Under this lens.")]
BackendOpt = Annotated[str, typer.Option(help=BACKEND_HELP)]
ThreadsOpt = Annotated[int, typer.Option(help="Design points or chunks computed at once.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
ReportOpt = Annotated[
    Path | None, typer.Option("--report", help="Write a self-contained HTML report here.")
]


@contextmanager
def _flags() -> Iterator[None]:
    """A library error naming a parameter, said with the flag that sets it."""
    try:
        yield
    except ArgumentError as exc:
        message = str(exc)
        flag = _FLAGS.get(exc.parameter)
        rest = message.removeprefix(exc.parameter)
        if flag is not None and rest != message and rest[:1] in (" ", ":"):
            message = flag + rest
        raise UserError(message) from None


def parse_params(s: Scenario, items: list[str] | None) -> dict[str, tuple[float, float]]:
    """``--param NAME=LOW:HIGH`` (or ``NAME``: its value ±50%) as ranges by name."""
    from redline.analysis.factors import default_range

    ranges: dict[str, tuple[float, float]] = {}
    for item in items or []:
        name, sep, spec = item.partition("=")
        name = name.strip()
        if not name:
            raise UserError(f"--param expects NAME=LOW:HIGH or NAME, got '{item}'")
        if not sep:
            with _flags():
                ranges[name] = default_range(s, name)
            continue
        low, colon, high = spec.partition(":")
        try:
            bounds = (float(low), float(high))
        except ValueError:
            bounds = (math.nan, math.nan)
        if not colon or not all(math.isfinite(b) for b in bounds) or bounds[0] >= bounds[1]:
            raise UserError(
                f"--param expects NAME=LOW:HIGH with two numbers, LOW < HIGH, got '{item}'"
            )
        ranges[name] = bounds
    return ranges


def _check(backend: str, threads: int, seed: int) -> None:
    if backend not in BACKENDS:
        raise UserError(f"--backend must be one of {', '.join(BACKENDS)}, got '{backend}'")
    if not 1 <= threads <= 256:
        raise UserError(f"--threads must be between 1 and 256, got {threads}")
    with _flags():
        check_index("seed", seed)


def _index(value: float | None, conf: float | None) -> Text:
    if value is None or not math.isfinite(value):
        return Text("—", style="dim")
    text = f"{value:.3f}" + ("" if conf is None or not math.isfinite(conf) else f" ±{conf:.3f}")
    return Text(text.replace("-", "−"))


def print_sensitivity(result: Sensitivity | Screening) -> None:
    """The indices as a table per outcome, the noise's share and the findings."""
    names = dict(result.outcomes)
    noise = {r["outcome"]: r for r in result.noise.to_pylist()}
    setting = ", ".join(f"{k}={v}" for k, v in result.levers.items()) or "no levers"
    lens = f", lens {result.lens}" if result.lens else ""
    size = result.size()
    out.print(
        Text(
            f"{result.scenario} — {result.method} sensitivity ({size}: "
            f"{counted(result.points, 'design point')} × {counted(result.runs_per_point, 'run')}"
            f", seed {result.seed}; {setting}{lens}; {result.seconds:.1f} s)",
            style="bold",
        ),
        soft_wrap=True,
    )
    rows = result.indices.to_pylist()
    for o, _ in result.outcomes:
        n = noise[o]
        share = n["noise_share"]
        share_text = "—" if share is None or not math.isfinite(share) else f"{share:.1%}"
        table = Table(
            title=Text(
                f"{names[o]} ({o}): mean probability {n['mean']:.3f}, Monte Carlo noise "
                f"{share_text} of the variance"
            ),
            title_justify="left",
        )
        table.add_column("factor", no_wrap=True)
        table.add_column("kind")
        mine = [r for r in rows if r["outcome"] == o]
        if result.method == "sobol":
            for col in ("first order S1", "total ST", "S1 raw", "ST raw"):
                table.add_column(col, justify="right")
            for r in sorted(mine, key=lambda r: -_key(r["ST"])):
                table.add_row(
                    Text(r["factor"]),
                    r["kind"],
                    _index(r["S1"], r["S1_conf"]),
                    _index(r["ST"], r["ST_conf"]),
                    _index(r["S1_raw"], None),
                    _index(r["ST_raw"], None),
                )
        else:
            for col in ("μ*", "μ", "σ", "noise floor"):
                table.add_column(col, justify="right")
            for r in sorted(mine, key=lambda r: -_key(r["mu_star"])):
                table.add_row(
                    Text(r["factor"]),
                    r["kind"],
                    _index(r["mu_star"], r["mu_star_conf"]),
                    _index(r["mu"], None),
                    _index(r["sigma"], None),
                    _index(r["noise_floor"], None),
                )
        out.print(table)
    for line in result.findings():
        out.print(Text(line, style="yellow"), soft_wrap=True)


def _key(x: float | None) -> float:
    return x if x is not None and math.isfinite(x) else -math.inf


@analyze_app.command("sensitivity")
@guarded
def sensitivity_cmd(
    file: Annotated[str, typer.Argument(help="Scenario file or built-in name.")] = DEFAULT_SCENARIO,
    outcome: OutcomesOpt = None,
    param: ParamOpt = None,
    uncertainty: UncertaintyOpt = None,
    method: Annotated[
        Method, typer.Option("--method", help="sobol: indices; morris: screening.")
    ] = Method.sobol,
    n: Annotated[int, typer.Option("--n", help="Sobol base sample (a power of two ≥ 16).")] = 256,
    trajectories: Annotated[int, typer.Option("--trajectories", help="Morris trajectories.")] = 20,
    runs_per_point: Annotated[
        int, typer.Option("--runs-per-point", "-r", help="Runs at each design point.")
    ] = 200,
    seed: SeedOpt = 0,
    lever: LeverOpt = None,
    lens: LensOpt = None,
    backend: BackendOpt = "numpy",
    threads: ThreadsOpt = 1,
    as_json: JsonOpt = False,
    report: ReportOpt = None,
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
    """Which uncertainties (and parameters given with --param) drive each outcome's
    probability: Sobol first-order and total indices with 95% intervals, corrected for the
    Monte Carlo noise of each design point's runs, and their convergence (--method sobol); or
    Morris screening of many factors (--method morris). Language-model actors ask the
    --llm-endpoint (a point's runs at once, the points one after another), their answers kept
    in --store (docs/llm.md)."""
    from redline.analysis import sensitivity
    from redline.scenario.loader import load_scenario

    _check(backend, threads, seed)
    loaded = load_scenario(file)
    s = loaded.scenario
    ranges = parse_params(s, param)
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
    with (
        llm_opts.asking(s, options, store_path, quiet=as_json) as models,
        _flags(),
        progress_bar() as bar,
    ):
        task = bar.add_task(f"{method.value}: design points of {s.id}", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        common = {
            "runs_per_point": runs_per_point,
            "outcomes": outcome,
            "params": ranges,
            "uncertainties": uncertainty,
            "levers": parse_levers(lever),
            "lens": lens,
            "seed": seed,
            "backend": backend,
            "threads": threads,
            "progress": progress,
            "makers": models or None,
        }
        result: Sensitivity | Screening = (
            sensitivity.sobol(s, n=n, **common)  # type: ignore[arg-type]
            if method is Method.sobol
            else sensitivity.morris(s, trajectories=trajectories, **common)  # type: ignore[arg-type]
        )
    if report is not None:
        from redline.report.exploration import sensitivity_section, write_page

        write_page(f"{s.title}: {method.value} sensitivity", sensitivity_section(result), report)
    if as_json:
        print(json.dumps(result.to_json(), indent=2))
        return
    print_sensitivity(result)
    if report is not None:
        out.print(f"report: {report}", markup=False)


def print_discovery(d: Discovery) -> None:
    """The chosen box, its statistics and CART's densest leaves."""
    stats = d.chosen_stats
    setting = ", ".join(f"{k}={v}" for k, v in d.levers.items()) or "no levers"
    lens = f", lens {d.lens}" if d.lens else ""
    out.print(
        Text(
            f"{d.scenario} — where {d.outcome_name} ({d.outcome}) concentrates: "
            f"{counted(d.runs, 'run')}, {d.hits:,} reach it ({d.base_rate:.2%}); seed {d.seed}; "
            f"{setting}{lens}; {d.seconds:.1f} s",
            style="bold",
        ),
        soft_wrap=True,
    )
    out.print(
        Text.assemble(
            ("PRIM box", "bold"),
            f" {d.chosen} of {d.trajectory.num_rows} on the peeling trajectory: ",
            (d.rule(), "bold"),
            f" — coverage {stats['coverage']:.1%}, density {stats['density']:.1%}, mass "
            f"{stats['mass']:.1%}",
        ),
        soft_wrap=True,
    )
    table = Table(title="limits", title_justify="left")
    for col in ("factor", "lower", "upper", "range of draws", "quasi-p (lower, upper)"):
        table.add_column(col, justify="left" if col == "factor" else "right")
    for r in d.box.to_pylist():
        qp = ", ".join(
            "—" if v is None or not math.isfinite(v) else f"{v:.2g}"
            for v in (r["qp_lower"], r["qp_upper"])
        )
        table.add_row(
            Text(r["factor"], style="" if r["restricted"] else "dim"),
            f"{r['lower']:.4g}",
            f"{r['upper']:.4g}",
            f"{r['low']:.4g} – {r['high']:.4g}",
            qp,
        )
    out.print(table)
    path = Table(
        title="peeling trajectory (every 5th box and the chosen one)", title_justify="left"
    )
    for col in ("box", "coverage", "density", "mass", "restricted"):
        path.add_column(col, justify="right")
    rows = d.trajectory.to_pylist()
    for r in rows:
        if r["id"] % 5 == 0 or r["id"] in (d.chosen, len(rows) - 1):
            mark = "bold" if r["id"] == d.chosen else ""
            path.add_row(
                Text(str(r["id"]), style=mark),
                f"{r['coverage']:.1%}",
                f"{r['density']:.1%}",
                f"{r['mass']:.1%}",
                str(r["restricted"]),
            )
    out.print(path)
    leaves = Table(title="CART leaves, densest first", title_justify="left")
    for col in ("leaf", "coverage", "density", "mass"):
        leaves.add_column(col, justify="left" if col == "leaf" else "right")
    for r in d.leaves.to_pylist()[:5]:
        leaves.add_row(
            Text(r["rule"]), f"{r['coverage']:.1%}", f"{r['density']:.1%}", f"{r['mass']:.1%}"
        )
    out.print(leaves)
    for line in d.findings():
        out.print(Text(line, style="yellow"), soft_wrap=True)


@analyze_app.command("discover")
@guarded
def discover_cmd(
    file: Annotated[str, typer.Argument(help="Scenario file or built-in name.")] = DEFAULT_SCENARIO,
    outcome: Annotated[
        str | None, typer.Option("--outcome", help="The outcome of interest (required).")
    ] = None,
    runs: Annotated[
        int, typer.Option("--runs", "-n", help="Runs, each drawing its own.")
    ] = 100_000,
    param: ParamOpt = None,
    uncertainty: UncertaintyOpt = None,
    min_density: Annotated[
        float | None,
        typer.Option(
            "--min-density",
            help="Choose the box of highest coverage at least this dense (default: the best "
            "balance of coverage and density).",
        ),
    ] = None,
    peel_alpha: Annotated[
        float, typer.Option("--peel-alpha", help="Share of a box's runs peeled per step.")
    ] = 0.05,
    mass_min: Annotated[
        float, typer.Option("--mass-min", help="Smallest box (and CART leaf), a share of runs.")
    ] = 0.05,
    cart_depth: Annotated[int, typer.Option("--cart-depth", help="CART tree depth.")] = 3,
    seed: SeedOpt = 0,
    lever: LeverOpt = None,
    lens: LensOpt = None,
    backend: BackendOpt = "numpy",
    threads: ThreadsOpt = 1,
    as_json: JsonOpt = False,
    report: ReportOpt = None,
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
    """Where in the space of the uncertainties (and parameters given with --param) an
    outcome concentrates: PRIM's box with its coverage, density and peeling trajectory
    (EMA Workbench), and a CART tree's leaves for comparison. Language-model actors ask the
    --llm-endpoint, their answers kept in --store (docs/llm.md)."""
    from redline.analysis.discovery import discover
    from redline.scenario.loader import load_scenario

    _check(backend, threads, seed)
    loaded = load_scenario(file)
    s = loaded.scenario
    if outcome is None:
        known = ", ".join(o.id for o in s.outcomes)
        raise UserError(f"--outcome is required: one of {known}")
    ranges = parse_params(s, param)
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
    with (
        llm_opts.asking(s, options, store_path, quiet=as_json) as models,
        _flags(),
        progress_bar() as bar,
    ):
        task = bar.add_task(f"runs of {s.id}", total=runs)
        d = discover(
            s,
            outcome,
            runs,
            params=ranges,
            uncertainties=uncertainty,
            levers=parse_levers(lever),
            lens=lens,
            seed=seed,
            min_density=min_density,
            peel_alpha=peel_alpha,
            mass_min=mass_min,
            cart_depth=cart_depth,
            backend=backend,
            threads=threads,
            progress=lambda k: bar.advance(task, k),
            makers=models or None,
        )
    if report is not None:
        from redline.report.exploration import discovery_section, write_page

        write_page(f"{s.title}: where {d.outcome_name} concentrates", discovery_section(d), report)
    if as_json:
        print(json.dumps(d.to_json(), indent=2))
        return
    print_discovery(d)
    if report is not None:
        out.print(f"report: {report}", markup=False)


__all__ = ["discover_cmd", "parse_params", "sensitivity_cmd"]
