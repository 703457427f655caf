"""``redline analyze game``: a decision point of a scenario as a game, solved with OpenSpiel."""

from __future__ import annotations

import datetime as dt
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
from redline.errors import UserError
from redline.experiment.outputs import DEFAULT_STORE

if TYPE_CHECKING:
    from rich.progress import TaskID  # rich.progress loads on use (run_cmds.progress_bar)

    from redline.analysis.equilibria import GameSolution
    from redline.analysis.game import ExtractedGame
    from redline.scenario.model import Scenario

__all__ = ["game_cmd", "parse_step"]


def parse_step(text: str, s: Scenario) -> int:
    """A step number, or a date (``2024-07`` or ``2024-07-15``) on the scenario's calendar."""
    t = text.strip()
    if t.isdigit():
        return int(t)
    from redline.scenario.calendar import step_of

    try:
        day = dt.date.fromisoformat(t + "-01" if len(t) == 7 else t)
    except ValueError:
        raise UserError(
            f"--step expects a step number or a date (YYYY-MM or YYYY-MM-DD), got '{text}'"
        ) from None
    if s.time.start is None:
        raise UserError(f"--step {t}: the scenario has no start date; give a step number")
    at = step_of(day, s.time)
    if not 0 <= at < s.time.horizon:
        raise UserError(
            f"--step {t} is step {at}, outside the scenario's steps 0–{s.time.horizon - 1} "
            f"(from {s.time.start})"
        )
    return at


def _pairs(items: list[str] | None, flag: str, what: str) -> list[tuple[str, str]]:
    out = []
    for item in items or []:
        name, sep, rest = item.partition("=")
        if not sep or not name.strip() or not rest.strip():
            raise UserError(f"{flag} expects {what}, got '{item}'")
        out.append((name.strip(), rest.strip()))
    return out


def _number(text: str, flag: str, item: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise UserError(f"{flag}: '{text}' in '{item}' is not a number") from None


def parse_weights(items: list[str] | None) -> dict[str, str | dict[str, float]]:
    """``PLAYER=ACTOR`` (that actor's weights) or ``PLAYER:VAR=W,VAR=W`` (weights given)."""
    weights: dict[str, str | dict[str, float]] = {}
    for item in items or []:
        head, colon, tail = item.partition(":")
        if colon and "=" in tail and "=" not in head:
            given: dict[str, float] = {}
            for part in tail.split(","):
                name, sep, value = part.partition("=")
                if not sep or not name.strip():
                    raise UserError(f"--weights expects PLAYER:VARIABLE=NUMBER,…, got '{item}'")
                given[name.strip()] = _number(value.strip(), "--weights", item)
            weights[head.strip()] = given
            continue
        for player, actor in _pairs([item], "--weights", "PLAYER=ACTOR or PLAYER:VAR=W,…"):
            weights[player] = actor
    return weights


def parse_values(items: list[str] | None) -> dict[str, dict[str, float]]:
    """``PLAYER:OUTCOME=VALUE`` (repeatable)."""
    values: dict[str, dict[str, float]] = {}
    for item in items or []:
        player, colon, rest = item.partition(":")
        outcome, sep, value = rest.partition("=")
        if not colon or not sep or not player.strip() or not outcome.strip():
            raise UserError(f"--value expects PLAYER:OUTCOME=NUMBER, got '{item}'")
        values.setdefault(player.strip(), {})[outcome.strip()] = _number(
            value.strip(), "--value", item
        )
    return values


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def print_game(game: ExtractedGame, solution: GameSolution) -> None:
    """The payoff table (each player's payoff with its 95% interval), then the dominance
    verdicts, the Nash equilibria, the logit QRE and the subgame-perfect path."""
    from redline.analysis.equilibria import plan_words, verdicts
    from redline.report.game_page import payoff_words, strategy_words

    out.print(
        Text.assemble(
            (f"{game.scenario}, step {game.step}, lens {game.lens or 'none'}", "bold"),
            f": {game.runs:,} runs per profile, seed {game.seed} ({game.seconds:.1f} s)",
        ),
        soft_wrap=True,
    )
    out.print(Text(payoff_words(game)), soft_wrap=True, style="dim")
    table = Table(title="payoffs (mean, 95% interval)", title_justify="left")
    for p in game.players:
        table.add_column(p.id)
    for p in game.players:
        table.add_column(f"payoff {p.id}", justify="right")
    for x in game.payoffs:
        table.add_row(
            *(
                Text(
                    p.options[x.profile[j]]
                    + (
                        f" ({x.available[j]:.0%} possible)"
                        if x.available[j] not in (None, 1.0)
                        else ""
                    )
                )
                for j, p in enumerate(game.players)
            ),
            *(
                f"{_fmt(x.mean[j])} ({_fmt(x.lo[j])} to {_fmt(x.hi[j])})"
                for j in range(len(game.players))
            ),
        )
    out.print(table)
    for line in verdicts(game, solution):
        out.print(Text(line), soft_wrap=True)
    for e in solution.nash:
        out.print(
            Text(
                f"Nash ({e.kind}): {strategy_words(game, e.strategies)}; payoffs "
                + ", ".join(_fmt(v) for v in e.payoffs)
            ),
            soft_wrap=True,
        )
    if not solution.nash:
        out.print("no Nash equilibrium found among the pure and enumerated mixed profiles")
    q = solution.qre
    out.print(
        Text(f"logit QRE (λ = {q.rationality:g}): {strategy_words(game, q.strategies)}"),
        soft_wrap=True,
    )
    if solution.sequential is not None and len(game.players) > 1:
        out.print(
            Text(
                "subgame-perfect, moving in the order "
                + " → ".join(p.id for p in game.players)
                + ": "
                + " → ".join(solution.sequential.path)
            ),
            soft_wrap=True,
        )
        for line in plan_words(solution):
            out.print(Text("  " + line), soft_wrap=True)
    for note in solution.notes:
        out.print(Text(note), style="dim", soft_wrap=True)


@analyze_app.command("game")
@guarded
def game_cmd(
    scenario: Annotated[str, typer.Argument(help="Scenario file or built-in name.")],
    step: Annotated[
        str, typer.Option("--step", help="The decision step: a number or a date (YYYY-MM).")
    ],
    decision: Annotated[
        list[str] | None,
        typer.Option(
            "--decision",
            help="ACTOR=OPTION,OPTION,…: an actor deciding at the step; an option is an "
            "action id, hold, ~ACTION (its own choice without it) or own (repeatable).",
        ),
    ] = None,
    lever_player: Annotated[
        list[str] | None,
        typer.Option(
            "--lever-player",
            help="PLAYER=LEVER: a player whose options are a lever's options (repeatable).",
        ),
    ] = None,
    weights: Annotated[
        list[str] | None,
        typer.Option(
            "--weights",
            help="PLAYER=ACTOR (that actor's weights) or PLAYER:VARIABLE=NUMBER,… (repeatable).",
        ),
    ] = None,
    value: Annotated[
        list[str] | None,
        typer.Option("--value", help="PLAYER:OUTCOME=NUMBER: the value of reaching an outcome."),
    ] = None,
    order: Annotated[
        str | None,
        typer.Option(
            "--order",
            help="The players in the order they move (comma-separated; default: deciding "
            "actors, then lever players).",
        ),
    ] = None,
    lever: Annotated[
        list[str] | None,
        typer.Option("--lever", help="NAME=OPTION for a lever that is not a player (repeatable)."),
    ] = None,
    lens: Annotated[
        list[str] | None,
        typer.Option("--lens", help="Lens (repeatable; default: every lens, one game each)."),
    ] = None,
    runs: Annotated[int, typer.Option("--runs", "-n", help="Runs per strategy profile.")] = 2000,
    seed: SeedOpt = 0,
    repeatable: Annotated[
        bool,
        typer.Option(
            "--repeatable",
            help="Let the options' actions be taken at other steps too (default: only at "
            "this one).",
        ),
    ] = False,
    qre_lambda: Annotated[
        float, typer.Option("--qre-lambda", help="Rationality λ of the logit QRE.")
    ] = 10.0,
    threads: Annotated[
        int | None, typer.Option(help="Profiles simulated at once (default: one per core).")
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
    """Extract the decision point at --step into a game — the players, their options, payoffs
    estimated by simulating every strategy profile (each player's utility by its weights over
    the final state and outcomes, with 95% intervals) — and solve it with OpenSpiel: Nash
    equilibria, dominance, the logit QRE, and the subgame-perfect equilibrium when the players
    move in turn. Language-model actors (players too: their own choices at other steps) ask
    the --llm-endpoint, their answers kept in --store (docs/llm.md)."""
    import os

    from redline.analysis.equilibria import solve
    from redline.analysis.game import extract_game
    from redline.scenario.loader import load_scenario

    loaded = load_scenario(scenario)
    s = loaded.scenario
    at = parse_step(step, s)
    decisions = {
        actor: [o for o in opts.split(",") if o.strip()]
        for actor, opts in _pairs(decision, "--decision", "ACTOR=OPTION,OPTION,…")
    }
    players = dict(_pairs(lever_player, "--lever-player", "PLAYER=LEVER"))
    if qre_lambda < 0 or qre_lambda != qre_lambda:
        raise UserError(f"--qre-lambda must be a non-negative number, got {qre_lambda}")
    if threads is not None and not 1 <= threads <= 256:
        raise UserError(f"--threads must be between 1 and 256, got {threads}")
    lenses: list[str | None] = list(lens) if lens else ([x.id for x in s.lenses] or [None])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
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
    with llm_opts.asking(s, options, store_path, quiet=as_json) as models:
        results = []
        for ls in lenses:
            kwargs = {
                "step": at,
                "decisions": decisions,
                "lever_players": players,
                "weights": parse_weights(weights),
                "values": parse_values(value),
                "order": [x.strip() for x in order.split(",")] if order else None,
                "runs": runs,
                "seed": seed,
                "levers": parse_levers(lever),
                "lens": ls,
                "once": not repeatable,
                "threads": threads or cores,
                "makers": models or None,
            }
            if as_json:
                game = extract_game(loaded, **kwargs)  # type: ignore[arg-type]
            else:
                with progress_bar() as bar:
                    task = bar.add_task(f"game at step {at}, lens {ls or 'none'}", total=None)

                    def advance(done: int, total: int, label: str, task: TaskID = task) -> None:
                        bar.update(task, completed=done, total=total)

                    game = extract_game(loaded, progress=advance, **kwargs)  # type: ignore[arg-type]
            results.append((game, solve(game, rationality=qre_lambda, sequential=True)))
    if report is not None:
        from redline.report.analysis_page import write_page
        from redline.report.game_page import game_page

        write_page(game_page(results), report)
    if as_json:
        print(
            json.dumps(
                {"games": [{**g.to_json(), "solution": sol.to_json(g)} for g, sol in results]},
                indent=2,
            )
        )
        return
    for g, sol in results:
        print_game(g, sol)
        out.print()
    if report is not None:
        out.print(f"report: {report}")
