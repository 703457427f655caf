"""The analyses the page offers, each a function of the request's options that checks them
(sizes capped, one-line messages) and returns what the analysis queue computes: the library
function the command line calls, with the report's own figures and tables.

- on a stored configuration: ``why`` and ``ablation`` (``redline why``, ``redline ablate``);
- on a scenario: ``score`` (``redline analyze score``), ``sensitivity`` (Sobol or Morris),
  ``discover`` (PRIM and CART), ``robust`` (the regret heat-map) and ``game`` (a decision
  point solved)."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from redline.errors import UserError
from redline.scenario.errors import suggest
from redline.scenario.model import Scenario
from redline.web.analyses import Finished, Part, Progress, figure_part, parts_of, parts_of_sections

Compute = Callable[[Progress], Finished]


@dataclass(frozen=True)
class Caps:
    """The largest analyses the page computes (beyond them, a 400 saying so)."""

    runs: int = 20_000  # why, ablation: runs of one configuration
    particles: int = 20_000  # score: particles per filter
    replicates: int = 10
    sobol_n: int = 512
    morris_trajectories: int = 64
    runs_per_point: int = 1_000
    discover_runs: int = 200_000
    robust_samples: int = 32
    robust_runs: int = 5_000
    game_runs: int = 5_000


CAPS = Caps()


def capped(name: str, value: int, most: int, least: int = 1) -> int:
    """``value``, or a one-line refusal naming the option and the bounds."""
    if not least <= value <= most:
        raise UserError(f"{name} must be between {least:,} and {most:,} here, got {value:,}")
    return value


def known_outcome(s: Scenario, outcome: str) -> None:
    """A one-line refusal, with the nearest name, for an outcome the scenario lacks."""
    ids = [o.id for o in s.outcomes]
    if outcome not in ids:
        raise UserError(suggest(outcome, ids, "outcome"))


def _table(table: Any, columns: list[str]) -> Part:
    from redline.report.analysis_page import table_html

    rows = [[_cell(r[c]) for c in columns] for r in table.select(columns).to_pylist()]
    return ("html", table_html(columns, rows))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def _h2(text: str) -> Part:
    return ("html", f"<h2>{html.escape(text)}</h2>")


def _p(text: str, cls: str = "note") -> Part:
    return ("html", f"<p class='{cls}'>{html.escape(text)}</p>")


WHY_COLUMNS = ["label", "kind", "share", "lead", "lift", "on_route"]
PATH_COLUMNS = ["rank", "path", "count", "share", "lo", "hi"]
ABLATION_COLUMNS = ["name", "kind", "outcome_name", "base_p", "ablated_p", "diff", "lo", "hi"]


def why(
    s: Scenario, outcome: str, runs: int, seed: int, levers: dict[str, str], lens: str | None
) -> Compute:
    """What led to ``outcome`` in one configuration (``redline why``)."""
    capped("runs", runs, CAPS.runs)
    known_outcome(s, outcome)

    def compute(progress: Progress) -> Finished:
        from redline.analysis.why import why as run

        paths = run(
            s,
            outcome,
            runs=runs,
            seed=seed,
            levers=levers,
            lens=lens,
            threads=1,
            progress=lambda done, total: progress(done, total, "runs"),
        )
        parts = [
            _h2(f"Events before {paths.outcome_name}"),
            _table(paths.table, WHY_COLUMNS),
            _h2("The most frequent paths"),
            _table(paths.paths, PATH_COLUMNS),
        ]
        return Finished(parts, paths.to_json())

    return compute


def ablation(
    s: Scenario, runs: int, seed: int, levers: dict[str, str], lens: str | None
) -> Compute:
    """Each mechanism switched off in turn (``redline ablate``), with the drivers figure."""
    capped("runs", runs, CAPS.runs)

    def compute(progress: Progress) -> Finished:
        from redline.analysis.ablation import ablate
        from redline.report.drivers import drivers_figure

        result = ablate(
            s,
            runs=runs,
            seed=seed,
            levers=levers,
            lens=lens,
            threads=1,
            lever_options=False,
            progress=progress,
        )
        figure = drivers_figure(result)
        parts: list[Part] = [] if figure is None else [figure_part(figure)]
        parts += [_h2("Each mechanism switched off"), _table(result.table, ABLATION_COLUMNS)]
        return Finished(parts, result.to_json())

    return compute


def score(s: Scenario, particles: int, replicates: int, seed: int, lens: str | None) -> Compute:
    """Each lens scored against the scenario's record of observations (``analyze score``)."""
    capped("particles", particles, CAPS.particles, least=100)
    capped("replicates", replicates, CAPS.replicates, least=2)
    if not s.observations:
        raise UserError(
            f"scenario '{s.id}' has no observations to score against (add a record of "
            "observations, or open a scenario that has one)"
        )

    def compute(progress: Progress) -> Finished:
        from redline.analysis.score import score as run

        result = run(
            s,
            particles=particles,
            replicates=replicates,
            seed=seed,
            lenses=[lens] if lens else None,
            threads=1,
            progress=progress,
        )
        best = result.best()
        parts: list[Part] = [
            _p(
                f"best-scoring: {best.label} (log-likelihood of the whole record, sequential "
                f"Monte Carlo, {particles:,} particles × {replicates} filters)",
                "meta",
            ),
            _h2("Each configuration's score"),
            ("html", _arrow_html(result.table)),
            _h2("Each observation's probability"),
            ("html", _arrow_html(result.observations_table)),
        ]
        forecasts = result.forecasts_table
        if forecasts.num_rows:
            parts += [_h2("Published forecasts beside the model"), ("html", _arrow_html(forecasts))]
        return Finished(parts, result.to_json())

    return compute


def _arrow_html(table: Any) -> str:
    from redline.report.analysis_page import table_html

    columns = list(table.column_names)
    return table_html(columns, [[_cell(r[c]) for c in columns] for r in table.to_pylist()])


def sensitivity(
    s: Scenario,
    method: str,
    n: int,
    runs_per_point: int,
    seed: int,
    levers: dict[str, str],
    lens: str | None,
) -> Compute:
    """Which uncertainties drive each outcome: Sobol indices or Morris screening."""
    if method not in ("sobol", "morris"):
        raise UserError(f"method must be sobol or morris, got '{method}'")
    if method == "sobol":
        capped("n", n, CAPS.sobol_n, least=8)
    else:
        capped("trajectories", n, CAPS.morris_trajectories, least=2)
    capped("runs per point", runs_per_point, CAPS.runs_per_point)

    def compute(progress: Progress) -> Finished:
        from redline.analysis import sensitivity as run
        from redline.report.exploration import sensitivity_section

        def told(done: int, total: int) -> None:
            progress(done, total, "design points")

        common: dict[str, Any] = {
            "runs_per_point": runs_per_point,
            "levers": levers,
            "lens": lens,
            "seed": seed,
            "threads": 1,
            "progress": told,
        }
        result = (
            run.sobol(s, n=n, **common)
            if method == "sobol"
            else run.morris(s, trajectories=n, **common)
        )
        return Finished(parts_of(sensitivity_section(result)), result.to_json())

    return compute


def discover(
    s: Scenario, outcome: str, runs: int, seed: int, levers: dict[str, str], lens: str | None
) -> Compute:
    """Where the runs reaching ``outcome`` concentrate: PRIM's box, CART's leaves."""
    capped("runs", runs, CAPS.discover_runs, least=100)
    known_outcome(s, outcome)

    def compute(progress: Progress) -> Finished:
        from redline.analysis.discovery import discover as run
        from redline.report.exploration import discovery_section

        done = [0]

        def told(n: int) -> None:
            done[0] += n
            progress(done[0], runs, "runs")

        result = run(
            s, outcome, runs, levers=levers, lens=lens, seed=seed, threads=1, progress=told
        )
        return Finished(parts_of(discovery_section(result)), result.to_json())

    return compute


def robust(
    s: Scenario, outcome: str | None, threshold: float, samples: int, runs: int, seed: int
) -> Compute:
    """Which lever option is robust: regret in every world, minimax regret, satisficing."""
    capped("samples", samples, CAPS.robust_samples)
    capped("runs", runs, CAPS.robust_runs, least=10)
    if not 0.0 < threshold < 1.0:
        raise UserError(f"threshold must be a probability between 0 and 1, got {threshold}")

    def compute(progress: Progress) -> Finished:
        from redline.analysis.robust import robust_levers
        from redline.report.robust_page import robust_sections

        result = robust_levers(
            s,
            outcome=outcome,
            threshold=threshold,
            samples=samples,
            runs=runs,
            seed=seed,
            threads=1,
            progress=progress,
        )
        return Finished(parts_of_sections(robust_sections(result)), result.to_json())

    return compute


def pairs(text: str, what: str) -> list[tuple[str, str]]:
    """Lines ``NAME=REST`` (blank lines skipped), or a one-line message naming the line."""
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, sep, rest = line.partition("=")
        if not sep or not name.strip() or not rest.strip():
            raise UserError(f"{what}, line {n}: expected {what.upper()}=…, got '{line.strip()}'")
        found.append((name.strip(), rest.strip()))
    return found


def values_of(text: str) -> dict[str, dict[str, float]]:
    """Lines ``PLAYER:OUTCOME=NUMBER``, as ``--value`` takes them."""
    values: dict[str, dict[str, float]] = {}
    for head, number in pairs(text, "value"):
        player, colon, outcome = head.partition(":")
        try:
            x = float(number)
        except ValueError:
            raise UserError(f"value: '{number}' in '{head}={number}' is not a number") from None
        if not colon or not player.strip() or not outcome.strip():
            raise UserError(f"value: expected PLAYER:OUTCOME=NUMBER, got '{head}={number}'")
        values.setdefault(player.strip(), {})[outcome.strip()] = x
    return values


def step_of(text: str, s: Scenario) -> int:
    """A step number, or a date (``2024-07``) on the scenario's calendar (as ``--step``)."""
    t = text.strip()
    if t.isdigit():
        at = int(t)
    else:
        from redline.scenario.calendar import step_of as on_calendar

        try:
            day = dt.date.fromisoformat(t + "-01" if len(t) == 7 else t)
        except ValueError:
            raise UserError(
                f"step must be a step number or a date (YYYY-MM or YYYY-MM-DD), got '{text}'"
            ) from None
        if s.time.start is None:
            raise UserError(f"step {t}: the scenario has no start date; give a step number")
        at = on_calendar(day, s.time)
    if not 0 <= at < s.time.horizon:
        raise UserError(f"step {t} is outside the scenario's steps 0–{s.time.horizon - 1}")
    return at


def game(
    s: Scenario,
    step: str,
    decisions: str,
    lever_players: str,
    weights: str,
    values: str,
    runs: int,
    seed: int,
    lens: str | None,
) -> Compute:
    """A decision point as a game, solved (``redline analyze game``) for one lens."""
    capped("runs", runs, CAPS.game_runs, least=10)
    at = step_of(step, s)
    chosen: Mapping[str, list[str]] = {
        actor: [o.strip() for o in opts.split(",") if o.strip()]
        for actor, opts in pairs(decisions, "decision")
    }
    players = dict(pairs(lever_players, "lever player"))
    weighted: dict[str, str | dict[str, float]] = dict(pairs(weights, "weights"))
    valued = values_of(values)

    def compute(progress: Progress) -> Finished:
        from redline.analysis.equilibria import solve
        from redline.analysis.game import extract_game
        from redline.report.game_page import game_sections

        extracted = extract_game(
            s,
            step=at,
            decisions=chosen,
            lever_players=players,
            weights=weighted,
            values=valued,
            runs=runs,
            seed=seed,
            lens=lens,
            threads=1,
            progress=progress,
        )
        solution = solve(extracted, sequential=True)
        data = {**extracted.to_json(), "solution": solution.to_json(extracted)}
        return Finished(parts_of_sections(game_sections(extracted, solution)), data)

    return compute
