"""The report page of ``redline analyze game``: per lens, each player's payoffs as a heat-map
over the strategy profiles, the payoff table with intervals, and the equilibria in words."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from redline.analysis.equilibria import GameSolution, plan_words, verdicts
from redline.analysis.game import ExtractedGame
from redline.report.analysis_page import Block, Section, render_page

__all__ = ["game_page", "game_sections", "payoff_figure", "payoff_words", "strategy_words"]


def strategy_words(game: ExtractedGame, strategies: Sequence[Sequence[float]]) -> str:
    """A profile of (mixed) strategies in words: ``RUS: ~strike_convoy; NATO: 25% none, …``."""
    parts = []
    for p, s in zip(game.players, strategies, strict=True):
        if max(s) >= 1.0 - 1e-12:
            parts.append(f"{p.id}: {p.options[list(s).index(max(s))]}")
        else:
            parts.append(
                f"{p.id}: "
                + ", ".join(f"{x:.1%} {o}" for o, x in zip(p.options, s, strict=True) if x > 5e-4)
            )
    return "; ".join(parts)


def _possible(share: float | None) -> str:
    """`` (possible in 62%)`` where the option's action could not be taken in every run."""
    return "" if share is None or share >= 1.0 else f" (possible in {share:.0%})"


def payoff_words(game: ExtractedGame) -> str:
    """How each player's payoff is valued, in words."""
    parts = []
    for p in game.players:
        whose = (
            "its own weights"
            if p.weights_from == p.id
            else (
                f"{p.weights_from}'s weights"
                if p.weights_from != "given"
                else "weights " + ", ".join(f"{k}={v}" for k, v in p.weights)
            )
        )
        values = "".join(f", {o} valued {v:g}" for o, v in p.values)
        parts.append(f"{p.id} by {whose}{values}")
    return "Payoffs: " + "; ".join(parts) + "."


def payoff_figure(game: ExtractedGame) -> go.Figure:
    """One heat-map per player: the first player's options down, the others' profiles across,
    the cell its mean payoff (hover: the 95% interval)."""
    first = game.players[0]
    columns = [
        ", ".join(q.options[x.profile[j]] for j, q in enumerate(game.players) if j != 0) or "—"
        for x in game.payoffs
        if x.profile[0] == 0
    ]
    fig = make_subplots(
        rows=1,
        cols=len(game.players),
        subplot_titles=[f"payoff of {p.id}" for p in game.players],
        horizontal_spacing=0.12,
    )
    for i in range(len(game.players)):
        z, text = [], []
        for a in range(len(first.options)):
            row = [x for x in game.payoffs if x.profile[0] == a]
            z.append([x.mean[i] for x in row])
            text.append([f"{x.mean[i]:.3g} ({x.lo[i]:.2g} to {x.hi[i]:.2g})" for x in row])
        fig.add_trace(
            go.Heatmap(
                z=z,
                x=columns,
                y=list(first.options),
                text=text,
                texttemplate="%{text}",
                hovertemplate="%{y} × %{x}: %{text}<extra></extra>",
                colorscale="RdBu",
                showscale=False,
            ),
            row=1,
            col=i + 1,
        )
    others = ", ".join(q.id for q in game.players[1:]) or "—"
    fig.update_xaxes(title_text=others)
    fig.update_yaxes(title_text=first.id, col=1)
    fig.update_yaxes(autorange="reversed")  # the first option on top, as in the table
    fig.update_layout(height=260 + 40 * len(first.options), margin={"t": 60})
    return fig


def game_sections(game: ExtractedGame, solution: GameSolution) -> list[Section]:
    """The sections of one game (one lens)."""
    lens = game.lens or "no lens"
    header = [*(p.id for p in game.players), *(f"payoff {p.id} (95%)" for p in game.players)]
    rows = []
    for x in game.payoffs:
        rows.append(
            [
                *(
                    p.options[x.profile[j]] + _possible(x.available[j])
                    for j, p in enumerate(game.players)
                ),
                *(
                    f"{x.mean[j]:.4g} ({x.lo[j]:.4g} to {x.hi[j]:.4g})"
                    for j in range(len(game.players))
                ),
            ]
        )
    blocks = [
        Block(
            text=f"{game.runs:,} runs per profile, seed {game.seed}, common random numbers; "
            f"levers {', '.join(f'{k}={v}' for k, v in game.levers.items()) or 'none fixed'}. "
            + payoff_words(game)
        ),
        Block(figure=payoff_figure(game)),
        Block(header=header, rows=rows),
        Block(text="Dominance: " + " | ".join(verdicts(game, solution))),
        Block(
            text="Nash equilibria: "
            + (
                " | ".join(
                    f"{e.kind}: {strategy_words(game, e.strategies)} (payoffs "
                    + ", ".join(f"{v:.4g}" for v in e.payoffs)
                    + ")"
                    for e in solution.nash
                )
                or "none found"
            )
        ),
        Block(
            text=f"Logit QRE at λ = {solution.qre.rationality:g}: "
            f"{strategy_words(game, solution.qre.strategies)}"
        ),
    ]
    if solution.sequential is not None:
        blocks.append(
            Block(
                text="Subgame-perfect equilibrium, the players moving in the order "
                + " → ".join(p.id for p in game.players)
                + ", each seeing the moves before it: "
                + " → ".join(solution.sequential.path)
                + " (payoffs "
                + ", ".join(f"{v:.4g}" for v in solution.sequential.payoffs)
                + "). The plan: "
                + "; ".join(plan_words(solution))
                + "."
            )
        )
    for note in solution.notes:
        blocks.append(Block(text=note, note=True))
    return [Section(f"Lens: {lens}", blocks)]


def game_page(results: Sequence[tuple[ExtractedGame, GameSolution]]) -> str:
    """The whole page: one section per lens."""
    game = results[0][0]
    sections: list[Section] = []
    for g, s in results:
        sections.extend(game_sections(g, s))
    intro = (
        f"The decision point at step {game.step} of {game.scenario} as a game: players "
        + ", ".join(f"{p.id} ({', '.join(p.options)})" for p in game.players)
        + ". Each payoff is the mean over runs of the player's utility by its weights over the "
        "final state and the outcomes, with a 95% interval; chance (uncertainties, random rules "
        "and choices) is averaged over the runs."
    )
    return render_page(
        f"{game.scenario}: the decision at step {game.step} as a game", intro, sections
    )
