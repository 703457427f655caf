"""Solving an extracted game (:mod:`redline.analysis.game`) with OpenSpiel.

The payoffs become an OpenSpiel normal-form game (``pyspiel.create_tensor_game``: a matrix
game for two players) and, where the players move in turn, an extensive-form game
(``pyspiel.load_efg_game``, from the game written in Gambit's EFG format), and from them:

- **Nash equilibria** of the normal form: every pure one (each player's payoff at the profile is
  its best against the others' options, read from the OpenSpiel game); for two players every
  mixed one of a non-degenerate game as well, by support enumeration (for each pair of equally
  large supports, the mixtures that make the other player indifferent over its support, kept
  when nothing outside the support pays more). OpenSpiel's Python solvers for mixed equilibria
  of general-sum games need nashpy or cvxpy, which redline does not depend on; support
  enumeration is exact for the small games a decision point makes, and each equilibrium found
  is checked: no player gains more than 1e-9 by deviating (its regret, also given).
- **Dominance**: an option that pays more than each other option against every profile of the
  others (strictly dominant), and *clearly* so when every such paired difference has its 95%
  interval above zero (the comparisons are paired run by run, so chance common to both cancels).
- **The logit quantal response equilibrium** (McKelvey–Palfrey) at rationality λ, on the
  principal branch traced from uniform play — redline's own solver
  (:func:`redline.engine.equilibrium.solve_logit_qre`, which the engine uses for ``chose()``) —
  and the logit path: the QRE at a range of λ (λ → 0: uniform play; λ → ∞: a Nash equilibrium,
  in generic games the one the tracing procedure selects).
- **The subgame-perfect equilibrium** of the extensive form, where the players move in the order
  given and each sees the moves before its own: backward induction over OpenSpiel's game tree.
  Chance enters it where an actor's chosen action could not be taken in some runs (its
  requirements did not hold at the step): a chance node with the share of runs where it could,
  and below it the payoffs of those runs and of the others.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from redline.analysis.game import ExtractedGame
from redline.engine.equilibrium import solve_logit_qre

__all__ = [
    "LOGIT_PATH",
    "Dominance",
    "Equilibrium",
    "GameSolution",
    "Move",
    "SolvedGame",
    "SubgamePerfect",
    "best_responses",
    "extensive_form",
    "normal_form",
    "plan_words",
    "solve",
    "verdicts",
]

#: the rationalities of the logit path
LOGIT_PATH = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
#: a deviation that gains less than this is no gain (payoffs are means over runs)
TOLERANCE = 1e-9
F64 = NDArray[np.float64]


@dataclass(frozen=True)
class Equilibrium:
    """A strategy per player (a probability for each of its options), each player's expected
    payoff, and the most any player would gain by deviating (0 at a Nash equilibrium)."""

    kind: str  # "pure", "mixed" or "qre"
    strategies: tuple[tuple[float, ...], ...]
    payoffs: tuple[float, ...]
    regret: float
    rationality: float | None = None

    @property
    def pure(self) -> bool:
        return all(max(s) == 1.0 for s in self.strategies)


@dataclass(frozen=True)
class Dominance:
    """A player's strictly dominant option (``None``: none), and whether the paired 95%
    intervals of every comparison exclude zero (``clear``)."""

    player: str
    option: int | None
    clear: bool
    #: the smallest paired lower bound of the dominant option's advantage (over every other
    #: option and every profile of the others)
    margin_lo: float | None = None


@dataclass(frozen=True)
class Move:
    """One decision node of the subgame-perfect equilibrium: after ``history`` (the options and
    chance results before it, in words), ``player`` chooses ``option``; ``values``: each
    player's expected payoff from there on; ``tied``: every option that pays the player as much
    (the first is chosen)."""

    history: tuple[str, ...]
    player: str
    option: str
    values: tuple[float, ...]
    tied: tuple[str, ...] = ()


@dataclass(frozen=True)
class SubgamePerfect:
    """The extensive form's subgame-perfect equilibrium (backward induction): every decision
    node's choice, the path play takes (chance nodes as ``chance: …``), and the payoffs."""

    moves: tuple[Move, ...]
    path: tuple[str, ...]
    payoffs: tuple[float, ...]
    efg: str


@dataclass(frozen=True)
class GameSolution:
    """Everything :func:`solve` finds."""

    nash: tuple[Equilibrium, ...]
    dominance: tuple[Dominance, ...]
    qre: Equilibrium
    logit_path: tuple[Equilibrium, ...]
    sequential: SubgamePerfect | None
    notes: tuple[str, ...] = ()

    def to_json(self, game: ExtractedGame) -> dict[str, object]:
        def strategy(e: Equilibrium) -> dict[str, object]:
            return {
                "kind": e.kind,
                "lambda": e.rationality,
                "strategies": {
                    p.id: dict(zip(p.options, e.strategies[i], strict=True))
                    for i, p in enumerate(game.players)
                },
                "payoffs": {p.id: e.payoffs[i] for i, p in enumerate(game.players)},
                "regret": e.regret,
            }

        return {
            "nash": [strategy(e) for e in self.nash],
            "dominant": {
                d.player: {
                    "option": None
                    if d.option is None
                    else game.players[[p.id for p in game.players].index(d.player)].options[
                        d.option
                    ],
                    "clear": d.clear,
                    "margin_lo": d.margin_lo,
                }
                for d in self.dominance
            },
            "qre": strategy(self.qre),
            "logit_path": [strategy(e) for e in self.logit_path],
            "subgame_perfect": None
            if self.sequential is None
            else {
                "path": list(self.sequential.path),
                "payoffs": {p.id: self.sequential.payoffs[i] for i, p in enumerate(game.players)},
                "moves": [
                    {
                        "after": list(m.history),
                        "player": m.player,
                        "option": m.option,
                        "tied": list(m.tied),
                    }
                    for m in self.sequential.moves
                ],
            },
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------------------- normal form


def normal_form(game: ExtractedGame) -> object:
    """The mean payoffs as an OpenSpiel normal-form game (``pyspiel.TensorGame``)."""
    import pyspiel  # type: ignore[import-not-found]

    utilities = [[float(x.mean[i]) for x in game.payoffs] for i in range(len(game.players))]
    return pyspiel.create_tensor_game(
        f"redline_{game.scenario}",
        f"{game.scenario}, step {game.step}",
        [list(p.options) for p in game.players],
        utilities,
    )


def _tensors(tensor_game: object, shape: tuple[int, ...]) -> list[F64]:
    """Each player's payoffs, one axis per player, as the OpenSpiel game gives them."""
    g = tensor_game
    out = []
    for i in range(len(shape)):
        t = np.zeros(shape)
        for profile in itertools.product(*[range(k) for k in shape]):
            t[profile] = g.player_utility(i, list(profile))  # type: ignore[attr-defined]
        out.append(t)
    return out


def _expected(tensors: list[F64], strategies: Sequence[F64]) -> tuple[list[F64], list[float]]:
    """Each player's expected payoff of each of its options against the others' mixtures,
    and its expected payoff."""
    options, values = [], []
    for i, t in enumerate(tensors):
        u = t
        for j in reversed(range(len(tensors))):
            if j != i:
                u = np.tensordot(u, strategies[j], axes=([j], [0]))
        # after contracting every other axis only player i's axis is left
        options.append(np.asarray(u, dtype=np.float64).reshape(-1))
        values.append(float(options[-1] @ strategies[i]))
    return options, values


def _regret(tensors: list[F64], strategies: Sequence[F64]) -> float:
    options, values = _expected(tensors, strategies)
    return max(float(np.max(o) - v) for o, v in zip(options, values, strict=True))


def _pure(tensors: list[F64], shape: tuple[int, ...]) -> list[Equilibrium]:
    found = []
    for profile in itertools.product(*[range(k) for k in shape]):
        strategies = [np.eye(k)[profile[i]] for i, k in enumerate(shape)]
        regret = _regret(tensors, strategies)
        if regret <= TOLERANCE:
            found.append(
                Equilibrium(
                    "pure",
                    tuple(tuple(float(x) for x in s) for s in strategies),
                    tuple(float(t[profile]) for t in tensors),
                    max(regret, 0.0),
                )
            )
    return found


def _mixed_two(tensors: list[F64], shape: tuple[int, ...]) -> list[Equilibrium]:
    """Support enumeration for a two-player game: supports of equal size ≥ 2."""
    A, B = tensors
    m, n = shape
    found: list[Equilibrium] = []
    for k in range(2, min(m, n) + 1):
        for rows in itertools.combinations(range(m), k):
            for cols in itertools.combinations(range(n), k):
                y = _indifference(A[np.ix_(rows, cols)])
                x = _indifference(B[np.ix_(rows, cols)].T)
                if x is None or y is None:
                    continue
                sx, sy = np.zeros(m), np.zeros(n)
                sx[list(rows)], sy[list(cols)] = x, y
                regret = _regret(tensors, [sx, sy])
                if regret > 1e-7:
                    continue
                found.append(
                    Equilibrium(
                        "mixed",
                        (tuple(map(float, sx)), tuple(map(float, sy))),
                        (float(sx @ A @ sy), float(sx @ B @ sy)),
                        max(regret, 0.0),
                    )
                )
    return found


def _indifference(M: F64) -> F64 | None:
    """The mixture y over M's columns that makes every row of M pay the same (Σ y = 1, y > 0),
    or None."""
    k = M.shape[0]
    system = np.zeros((k + 1, k + 1))
    system[:k, :k] = M
    system[:k, k] = -1.0
    system[k, :k] = 1.0
    rhs = np.zeros(k + 1)
    rhs[k] = 1.0
    try:
        solution = np.linalg.solve(system, rhs)
    except np.linalg.LinAlgError:
        return None
    y = solution[:k]
    if np.any(y <= 1e-12) or not np.all(np.isfinite(y)):
        return None
    return np.asarray(y, dtype=np.float64)


def _dominance(game: ExtractedGame, tensors: list[F64]) -> list[Dominance]:
    shape = game.shape
    out = []
    for i, p in enumerate(game.players):
        dominant: int | None = None
        clear = False
        margin: float | None = None
        others = [range(k) if j != i else range(1) for j, k in enumerate(shape)]
        for a in range(shape[i]):
            wins, lows = True, []
            for b in range(shape[i]):
                if b == a:
                    continue
                for rest in itertools.product(*others):
                    pa, pb = list(rest), list(rest)
                    pa[i], pb[i] = a, b
                    if not tensors[i][tuple(pa)] > tensors[i][tuple(pb)] + TOLERANCE:
                        wins = False
                        break
                    lows.append(game.difference(i, pa, pb)[1])
                if not wins:
                    break
            if wins and shape[i] > 1:
                dominant, margin = a, min(lows)
                clear = margin > 0.0
                break
        out.append(Dominance(p.id, dominant, clear, margin))
    return out


def _qre(tensors: list[F64], shape: tuple[int, ...], rationality: float) -> Equilibrium:
    def respond(beliefs: list[list[F64]]) -> list[tuple[list[bool], list[F64], float]]:
        strategies = [np.array([b[0] for b in player]) for player in beliefs]
        options, _ = _expected(tensors, strategies)
        return [([True] * len(o), [np.array([float(v)]) for v in o], rationality) for o in options]

    solution = solve_logit_qre(respond, list(shape), 1)  # type: ignore[arg-type]
    strategies = [np.array([b[0] for b in player]) for player in solution.beliefs]
    _, values = _expected(tensors, strategies)
    return Equilibrium(
        "qre",
        tuple(tuple(float(x) for x in s) for s in strategies),
        tuple(values),
        _regret(tensors, strategies),
        rationality,
    )


# ---------------------------------------------------------------------------- extensive form


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def extensive_form(game: ExtractedGame) -> tuple[str, list[str]]:
    """The game in Gambit's EFG format with the players moving in order, each seeing the moves
    before it, and chance nodes where an actor's chosen action could not be taken in every run;
    and the readable name of each node's history, in the order of the file's decision nodes."""
    players = game.players
    lines = [
        "EFG 2 R "
        + _quote(f"{game.scenario}, step {game.step}")
        + " { "
        + " ".join(_quote(p.id) for p in players)
        + " }",
        '""',
    ]
    counters = {"outcome": 0, "chance": 0}
    infosets = [0] * len(players)
    histories: list[str] = []

    def runs_of(
        prefix: list[int], conditions: list[tuple[int, bool]]
    ) -> list[tuple[int, NDArray[np.bool_]]]:
        """For every profile that starts with ``prefix``: its index and the runs that meet the
        chance results so far."""
        out = []
        for profile in itertools.product(*[range(len(p.options)) for p in players[len(prefix) :]]):
            index = game.index([*prefix, *profile])
            mask = np.ones(game.runs, dtype=np.bool_)
            for j, flag in conditions:
                mask &= game.availability[index][j] == flag
            out.append((index, mask))
        return out

    def node(prefix: list[int], conditions: list[tuple[int, bool]], history: list[str]) -> None:
        depth = len(prefix)
        if depth == len(players):
            index = game.index(prefix)
            mask = runs_of(prefix, conditions)[0][1]
            u = game.utilities[index]
            values = [
                float(u[i][mask].mean()) if mask.any() else game.payoffs[index].mean[i]
                for i in range(len(players))
            ]
            counters["outcome"] += 1
            lines.append(
                f't "" {counters["outcome"]} "" {{ ' + ", ".join(repr(v) for v in values) + " }"
            )
            return
        p = players[depth]
        infosets[depth] += 1
        histories.append(" → ".join(history) or "start")
        lines.append(
            f'p "" {depth + 1} {infosets[depth]} "" {{ '
            + " ".join(_quote(o) for o in p.options)
            + " } 0"
        )
        for k, option in enumerate(p.options):
            chance = p.kind == "actor" and _names_action(option)
            if chance:
                pool = runs_of([*prefix, k], conditions)
                total = sum(int(m.sum()) for _, m in pool)
                taken = sum(int((m & game.availability[i][depth]).sum()) for i, m in pool)
                share = taken / total if total else 1.0
                if 0.0 < share < 1.0:
                    counters["chance"] += 1
                    lines.append(
                        f'c "" {counters["chance"]} "" {{ '
                        f"{_quote(option + ' taken')} {share!r} "
                        f"{_quote(option + ' not possible')} {1.0 - share!r} }} 0"
                    )
                    for flag, word in ((True, "taken"), (False, "not possible")):
                        node(
                            [*prefix, k],
                            [*conditions, (depth, flag)],
                            [*history, f"{p.id}: {option} ({word})"],
                        )
                    continue
            node([*prefix, k], conditions, [*history, f"{p.id}: {option}"])

    node([], [], [])
    return "\n".join(lines) + "\n", histories


def _names_action(option: str) -> bool:
    return option not in ("hold", "own") and not option.startswith("~")


def _backward(game: ExtractedGame, efg: str) -> SubgamePerfect:
    import pyspiel

    tree = pyspiel.load_efg_game(efg)
    moves: list[Move] = []

    def value(state: object, history: tuple[str, ...]) -> tuple[F64, tuple[str, ...]]:
        s = state
        if s.is_terminal():  # type: ignore[attr-defined]
            return np.asarray(s.returns(), dtype=np.float64), ()  # type: ignore[attr-defined]
        if s.is_chance_node():  # type: ignore[attr-defined]
            total = np.zeros(len(game.players))
            for action, prob in s.chance_outcomes():  # type: ignore[attr-defined]
                name = s.action_to_string(s.current_player(), action)  # type: ignore[attr-defined]
                v, _ = value(s.child(action), (*history, f"chance: {name}"))  # type: ignore[attr-defined]
                total += prob * v
            return total, ()
        player = s.current_player()  # type: ignore[attr-defined]
        best: tuple[F64, tuple[str, ...]] | None = None
        chosen = ""
        heard: list[tuple[str, float]] = []
        for action in s.legal_actions():  # type: ignore[attr-defined]
            name = s.action_to_string(player, action)  # type: ignore[attr-defined]
            v, path = value(s.child(action), (*history, f"{game.players[player].id}: {name}"))  # type: ignore[attr-defined]
            heard.append((name, float(v[player])))
            if best is None or v[player] > best[0][player] + TOLERANCE:
                best, chosen = (v, (f"{game.players[player].id}: {name}", *path)), name
        assert best is not None
        top = float(best[0][player])
        tied = tuple(n for n, x in heard if x >= top - TOLERANCE)
        moves.append(
            Move(
                history,
                game.players[player].id,
                chosen,
                tuple(map(float, best[0])),
                tied if len(tied) > 1 else (),
            )
        )
        return best

    root = tree.new_initial_state()
    payoffs, path = value(root, ())
    moves.sort(key=lambda m: (len(m.history), m.history))
    return SubgamePerfect(tuple(moves), path, tuple(map(float, payoffs)), efg)


# ---------------------------------------------------------------------------- all of it


def solve(
    game: ExtractedGame,
    *,
    rationality: float = 10.0,
    sequential: bool = False,
    logit_path: Sequence[float] = LOGIT_PATH,
) -> GameSolution:
    """Nash equilibria, dominance, the logit QRE at ``rationality`` and the logit path, and
    (``sequential``) the subgame-perfect equilibrium of the extensive form (see the module).
    ``logit_path``: the rationalities at which the logit path is traced (each a QRE)."""
    shape = game.shape
    tensors = _tensors(normal_form(game), shape)
    nash = _pure(tensors, shape)
    notes = []
    if len(shape) == 2:
        nash += _mixed_two(tensors, shape)
    elif len(shape) > 2:
        notes.append(
            f"{len(shape)} players: pure equilibria only (mixed ones of games with more than two "
            "players are not enumerated); see the QRE"
        )
    qre = _qre(tensors, shape, rationality)
    path = tuple(_qre(tensors, shape, float(lam)) for lam in logit_path)
    spe = None
    if sequential:
        efg, _ = extensive_form(game)
        spe = _backward(game, efg)
    return GameSolution(tuple(nash), tuple(_dominance(game, tensors)), qre, path, spe, tuple(notes))


def best_responses(game: ExtractedGame, player: int) -> list[tuple[str, tuple[int, ...]]]:
    """For each profile of the other players (in words, ``NATO=none``), the player's best
    options by mean payoff (ties kept)."""
    shape = game.shape
    t = game.mean_tensor(player)
    others = [range(k) if j != player else range(1) for j, k in enumerate(shape)]
    out = []
    for rest in itertools.product(*others):
        values = []
        for a in range(shape[player]):
            p = list(rest)
            p[player] = a
            values.append(t[tuple(p)])
        top = max(values)
        words = ", ".join(
            f"{q.id}={q.options[rest[j]]}" for j, q in enumerate(game.players) if j != player
        )
        out.append(
            (words or "alone", tuple(a for a, v in enumerate(values) if v >= top - TOLERANCE))
        )
    return out


def verdicts(game: ExtractedGame, solution: GameSolution) -> list[str]:
    """One sentence per player: its dominant option (and whether clearly so), or which option
    is best against which of the others' choices."""
    lines = []
    for i, (p, d) in enumerate(zip(game.players, solution.dominance, strict=True)):
        if d.option is not None:
            how = (
                "clearly (every paired 95% interval above zero)"
                if d.clear
                else "but not clearly (some paired 95% interval reaches zero)"
            )
            lines.append(f"{p.id}: '{p.options[d.option]}' is strictly dominant, {how}")
            continue
        by_option: dict[int, list[str]] = {}
        for words, best in best_responses(game, i):
            for a in best:
                by_option.setdefault(a, []).append(words)
        parts = [
            f"'{p.options[a]}' against {' and '.join(ws)}" for a, ws in sorted(by_option.items())
        ]
        lines.append(f"{p.id}: no dominant option — best is " + "; ".join(parts))
    return lines


def plan_words(solution: GameSolution) -> list[str]:
    """The subgame-perfect plan, a line per decision node: ``after RUS: strike_convoy, NATO
    chooses collective_defence``, with ties named."""
    if solution.sequential is None:
        return []
    lines = []
    for m in solution.sequential.moves:
        where = "at the start" if not m.history else "after " + ", ".join(m.history)
        tie = f" (indifferent among {', '.join(m.tied)})" if m.tied else ""
        lines.append(f"{where}, {m.player} chooses {m.option}{tie}")
    return lines


@dataclass(frozen=True)
class SolvedGame:
    """An extracted game and its solution together (what :func:`redline.game` returns)."""

    game: ExtractedGame
    solution: GameSolution

    @property
    def table(self) -> Any:
        """The game's payoff table (:attr:`ExtractedGame.table`, Arrow)."""
        return self.game.table

    def verdicts(self) -> list[str]:
        """Each player's dominant option, or which option is best against what."""
        return verdicts(self.game, self.solution)

    def to_json(self) -> dict[str, object]:
        """The form ``redline analyze game --json`` prints for one game."""
        return {**self.game.to_json(), "solution": self.solution.to_json(self.game)}
