"""A decision point of a scenario as a game: players, their options, payoffs by simulation.

A *decision point* is one step of a scenario at which some actors choose (``decisions``: each
actor with the options it is given) and some levers are read as players' choices
(``lever_players``: NATO's declared answer to a strike on member soil is the lever
``nato_response``, so NATO's options are that lever's options). Every *strategy profile* — one
option per player — is simulated on the same seed and run indices (common random numbers), and
each player's payoff in a run is its utility over the run's end:

    u_i(run) = Σ_v w_iv · final_v(run) + Σ_o value_io · [outcome o reached in the run]

with ``w_i`` the player's ``weights`` (an actor's own scenario weights, or another actor's, or
weights the analyst gives; an expression is evaluated on the run's final state) and ``value_i``
the values the analyst gives to outcomes. A payoff is the mean over runs, with a 95% normal
interval (mean ± 1.96·sd/√n); comparisons between profiles are paired run by run. Chance — the
uncertainties, every random rule, red line and doctrine, the actors' own random choices at other
steps — is integrated by the runs; where an option's action cannot be taken in some runs (its
requirements do not hold at the step), the share of runs where it could is kept, and the
extensive form (:mod:`redline.analysis.equilibria`) puts a chance node there.

An actor's option at the step is one of:

- an action id: the actor takes it (where its requirements hold; elsewhere it chooses as below,
  without it);
- ``hold``: the actor holds;
- ``~ACTION``: the actor's own choice without that action (``~strike_convoy``: "does not strike");
- ``own``: the actor's own choice, as the scenario has it.

"Its own choice" is the actor's scenario decision-maker replayed exactly: a logit actor's
choice probabilities exp(λU) over its available actions, drawn with the same keyed uniform
the engine uses. At every other step the actor chooses as the scenario has it, except that
the actions the options name are withheld (``once``, the default: the decision is taken at this
step or not at all), so "does not strike" does not strike a month later either.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from redline.compile.configure import Configuration, configure, overrides, resolve
from redline.compile.lower import lower
from redline.core.program import Decider, Expression, Program
from redline.engine import backends
from redline.engine.deciders import DecisionMaker, Situation, still_asked
from redline.engine.simulate import DEFAULT_CHUNK, chunk_bounds
from redline.engine.vectorised import Layout, compile_expr
from redline.errors import RedlineValueError, UserError
from redline.scenario.errors import suggest
from redline.scenario.loader import LoadedScenario, load_scenario
from redline.scenario.model import Scenario

__all__ = [
    "MAX_PROFILES",
    "ExtractedGame",
    "Player",
    "ProfilePayoff",
    "extract_game",
    "matrix_game",
    "parse_option",
]

#: the most strategy profiles one game may have (each is simulated)
MAX_PROFILES = 256
#: the most runs per profile
MAX_RUNS = 1_000_000
#: the most profile-runs one game keeps (each player's utility in each run of each profile is
#: kept for the paired comparisons: about 8 bytes × players each)
MAX_PROFILE_RUNS = 20_000_000
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Option:
    """An actor's option at the decision step: ``kind`` is ``action``, ``hold``, ``without``
    (its own choice without ``action``) or ``own``."""

    text: str
    kind: str
    action: str | None = None


def parse_option(text: str) -> Option:
    """``strike_convoy``, ``hold``, ``~strike_convoy`` or ``own`` as an :class:`Option`."""
    t = text.strip()
    if t == "hold":
        return Option(t, "hold")
    if t == "own":
        return Option(t, "own")
    if t.startswith("~") and len(t) > 1:
        return Option(t, "without", t[1:])
    if not t or t.startswith("~"):
        raise UserError(f"an option is an action id, 'hold', '~ACTION' or 'own', got '{text}'")
    return Option(t, "action", t)


@dataclass(frozen=True)
class Player:
    """A player of the game: an actor deciding at the step (``kind`` ``actor``) or a lever
    read as a player's choice (``kind`` ``lever``); its options (ids) and their readable
    names; whose weights value its payoff (``weights_from``: an actor id, or ``given``)."""

    id: str
    kind: str
    source: str
    options: tuple[str, ...]
    labels: tuple[str, ...]
    weights_from: str
    weights: tuple[tuple[str, str], ...]
    values: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class ProfilePayoff:
    """One strategy profile (an option index per player): each player's mean payoff with its
    95% interval, the share of runs in which each actor's chosen action could be taken at the
    step (``None`` for lever players and options that name no action), and each outcome's
    probability."""

    profile: tuple[int, ...]
    mean: tuple[float, ...]
    lo: tuple[float, ...]
    hi: tuple[float, ...]
    available: tuple[float | None, ...]
    outcomes: tuple[float, ...]


@dataclass(frozen=True)
class ExtractedGame:
    """The game at a decision point, its payoffs estimated by simulation.

    ``utilities[p]`` holds, for profile number ``p`` (in :attr:`profiles` order), each player's
    utility in each run (players × runs); ``availability[p]`` each player's per-run flag that
    its option's action could be taken (all true where the option names none). Both are kept
    for paired comparisons and the extensive form's chance nodes."""

    scenario: str
    step: int
    players: tuple[Player, ...]
    payoffs: tuple[ProfilePayoff, ...]
    runs: int
    seed: int
    levers: Mapping[str, str]
    lens: str | None
    once: bool
    outcomes: tuple[tuple[str, str], ...]
    utilities: tuple[NDArray[np.float64], ...] = field(repr=False)
    availability: tuple[NDArray[np.bool_], ...] = field(repr=False)
    seconds: float = 0.0
    confidence: float = 0.95

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(p.options) for p in self.players)

    @property
    def profiles(self) -> list[tuple[int, ...]]:
        """Every profile, in the order of :attr:`payoffs` (the last player's option fastest)."""
        return [x.profile for x in self.payoffs]

    def index(self, profile: Sequence[int]) -> int:
        """The position of ``profile`` in :attr:`payoffs`."""
        return int(np.ravel_multi_index(tuple(profile), self.shape))

    def payoff(self, profile: Sequence[int]) -> ProfilePayoff:
        return self.payoffs[self.index(profile)]

    def mean_tensor(self, player: int) -> NDArray[np.float64]:
        """Player ``player``'s mean payoff as an array with one axis per player."""
        values = np.array([x.mean[player] for x in self.payoffs])
        return values.reshape(self.shape)

    def difference(
        self, player: int, a: Sequence[int], b: Sequence[int]
    ) -> tuple[float, float, float]:
        """Player's payoff at profile ``a`` minus at ``b``, paired run by run: mean and 95%
        interval."""
        d = self.utilities[self.index(a)][player] - self.utilities[self.index(b)][player]
        return _mean_interval(d, self.confidence)

    @property
    def table(self) -> pa.Table:
        """One row per profile and player: the players' options (``option.<player>``), then
        ``player``, ``payoff`` with ``lo``–``hi``, and ``available`` (the share of runs where the
        player's option's action could be taken; null where it names none)."""
        rows = [(x, i) for x in self.payoffs for i in range(len(self.players))]
        columns: dict[str, pa.Array] = {}
        for j, pl in enumerate(self.players):
            columns[f"option.{pl.id}"] = pa.array(
                [pl.options[x.profile[j]] for x, _ in rows], pa.string()
            )
        columns["player"] = pa.array([self.players[i].id for _, i in rows], pa.string())
        columns["payoff"] = pa.array([x.mean[i] for x, i in rows], pa.float64())
        columns["lo"] = pa.array([x.lo[i] for x, i in rows], pa.float64())
        columns["hi"] = pa.array([x.hi[i] for x, i in rows], pa.float64())
        columns["available"] = pa.array([x.available[i] for x, i in rows], pa.float64())
        return pa.table(columns)

    def to_json(self) -> dict[str, object]:
        return {
            "scenario": self.scenario,
            "step": self.step,
            "runs": self.runs,
            "seed": self.seed,
            "levers": dict(self.levers),
            "lens": self.lens,
            "once": self.once,
            "interval": "95% normal: mean ± 1.96·sd/√n over runs",
            "players": [
                {
                    "id": p.id,
                    "kind": p.kind,
                    "source": p.source,
                    "options": list(p.options),
                    "labels": list(p.labels),
                    "weights_from": p.weights_from,
                    "weights": dict(p.weights),
                    "values": dict(p.values),
                }
                for p in self.players
            ],
            "profiles": [
                {
                    "options": {
                        pl.id: pl.options[x.profile[j]] for j, pl in enumerate(self.players)
                    },
                    "payoffs": {
                        pl.id: {"mean": x.mean[j], "lo": x.lo[j], "hi": x.hi[j]}
                        for j, pl in enumerate(self.players)
                    },
                    "available": {
                        pl.id: x.available[j]
                        for j, pl in enumerate(self.players)
                        if x.available[j] is not None
                    },
                    "outcomes": {o: p for (o, _), p in zip(self.outcomes, x.outcomes, strict=True)},
                }
                for x in self.payoffs
            ],
            "seconds": self.seconds,
        }


def _mean_interval(values: NDArray[np.float64], confidence: float) -> tuple[float, float, float]:
    n = len(values)
    mean = float(np.mean(values))
    if n < 2:
        return mean, mean, mean
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    half = z * float(np.std(values, ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


# ---------------------------------------------------------------------------- decision-makers


def _logit_choice(
    available: NDArray[np.bool_],
    utility: NDArray[np.float64],
    uniform: NDArray[np.float64],
    rationality: float,
) -> NDArray[np.int64]:
    """A logit actor's choice, as the engine draws it: weights exp(λ(U − max U)) over the
    available candidates, the candidate whose cumulative weight first exceeds u × total."""
    best = np.max(np.where(available, utility, -np.inf), axis=1, keepdims=True)
    with np.errstate(all="ignore"):
        z = np.where(available, np.exp(rationality * (utility - best)), 0.0)
    cumulative = np.cumsum(z, axis=1)
    target = uniform * cumulative[:, -1]
    chosen: NDArray[np.int64] = np.sum(cumulative[:, :-1] <= target[:, None], axis=1).astype(
        np.int64
    )
    return chosen


@dataclass
class PinnedChoice:
    """A decision-maker that plays ``option`` at ``step`` and the actor's own scenario choice
    elsewhere, with the ``withheld`` actions unavailable at other steps. ``seen`` records, per
    run (indexed from ``first_run``), whether the option's action could be taken at the step.
    A language-model actor's own choice is its ``model``'s, asked with the same actions
    available."""

    actor: str
    kind: str
    rationality: float
    plan: Mapping[int, int]
    step: int
    option: Option
    withheld: frozenset[str]
    first_run: int
    seen: NDArray[np.bool_]
    model: DecisionMaker | None = None

    @property
    def history(self) -> bool:
        """Whether the engine tells it what happened since its last decision (its model
        reads that)."""
        return getattr(self.model, "history", False) is True

    def own(self, s: Situation, available: NDArray[np.bool_]) -> NDArray[np.int64]:
        if self.model is not None:
            return np.asarray(
                self.model.decide(dataclasses.replace(s, available=available)), dtype=np.int64
            )
        if self.kind == "logit":
            return _logit_choice(available, s.utility, s.uniform, self.rationality)
        k = self.plan.get(s.step, 0) if self.kind == "scripted" else 0
        return np.where(available[:, k], k, 0).astype(np.int64)

    def decide(self, situation: Situation) -> NDArray[np.int64]:
        s = situation
        available = s.available.copy()
        masked = available.copy()
        for k, a in enumerate(s.actions):
            if a in self.withheld:
                masked[:, k] = False
        masked[:, 0] = True
        if s.step != self.step:
            return self.own(s, masked)
        o = self.option
        if o.kind == "hold":
            return np.zeros(s.n, dtype=np.int64)
        if o.kind == "own":
            return self.own(s, available)
        k = s.actions.index(o.action or "")
        if o.kind == "without":
            without = available.copy()
            without[:, k] = False
            return self.own(s, without)
        ok = available[:, k]
        self.seen[s.runs - self.first_run] = ok
        return np.where(ok, k, self.own(s, masked))


# ---------------------------------------------------------------------------- weights


class _FinalState:
    """What a weight expression reads at a run's end: the final state and the parameters."""

    def __init__(self, values: Mapping[str, Any], what: str) -> None:
        self._values = values
        self._what = what

    @property
    def values(self) -> Mapping[str, Any]:
        return self._values

    def _no_events(self) -> Any:
        raise UserError(
            f"{self._what} reads events (now/happened/count), which the final state "
            "does not keep; give weights over state variables"
        )

    @property
    def now(self) -> Any:
        return self._no_events()

    @property
    def ever(self) -> Any:
        return self._no_events()

    @property
    def count(self) -> Any:
        return self._no_events()

    @property
    def draws(self) -> Any:
        return self._no_events()


def _weight_values(
    program: Program,
    weights: Sequence[tuple[int, Expression | float]],
    env: _FinalState,
    n: int,
) -> list[tuple[int, NDArray[np.float64]]]:
    """Each weight's value in each run: a number as it is, an expression evaluated on the
    final state (its expected value where it draws)."""
    out = []
    layout = Layout(program.tags)
    for var, w in weights:
        if isinstance(w, float):
            value: Any = w
        elif w.constant is not None:
            value = float(w.constant)
        else:
            value = compile_expr(w.tree, layout, w.site, "mean")(env)  # type: ignore[arg-type]
        out.append((var, np.broadcast_to(np.asarray(value, dtype=np.float64), (n,))))
    return out


# ---------------------------------------------------------------------------- extraction


def _decider(program: Program, actor: str) -> Decider:
    for d in program.deciders:
        if d.actor == actor:
            return d
    raise UserError(suggest(actor, [d.actor for d in program.deciders], "deciding actor"))


def _rationality(d: Decider) -> float:
    if d.kind != "logit":
        return 0.0
    c = d.rationality.constant
    if c is None:
        raise UserError(
            f"actor {d.actor}: its lambda is an expression ({d.rationality.source}); a game "
            "replays its choices at other steps and needs a constant lambda"
        )
    return float(c)


def _parse_weights(
    program: Program, given: Mapping[str, float], player: str
) -> list[tuple[int, Expression | float]]:
    """Weights the analyst gives, {state variable: number}, checked against the program."""
    names = program.var_names
    out: list[tuple[int, Expression | float]] = []
    for name, w in given.items():
        if name not in names:
            raise UserError(f"weights of {player}: " + suggest(name, names, "state variable"))
        out.append((names.index(name), float(w)))
    return out


def extract_game(
    scenario: Scenario | LoadedScenario | str,
    *,
    step: int,
    decisions: Mapping[str, Sequence[str]],
    lever_players: Mapping[str, str] | None = None,
    weights: Mapping[str, str | Mapping[str, float]] | None = None,
    values: Mapping[str, Mapping[str, float]] | None = None,
    order: Sequence[str] | None = None,
    runs: int = 2000,
    seed: int = 0,
    levers: Mapping[str, str] | None = None,
    lens: str | None = None,
    once: bool = True,
    threads: int | None = None,
    progress: Progress | None = None,
    makers: Mapping[str, DecisionMaker] | None = None,
) -> ExtractedGame:
    """Extract the decision point at ``step`` into a game and estimate its payoffs by
    simulating ``runs`` runs of every strategy profile (see the module).

    ``decisions``: actor id → its options (action ids, ``hold``, ``~ACTION``, ``own``);
    ``lever_players``: player name → lever id (the player's options are the lever's options);
    ``weights``: player → an actor id whose scenario weights value its payoff, or weights
    {state variable: number} (default: an actor player's own weights); ``values``: player →
    {outcome id: value of reaching it}; ``order``: the players' order (default: the deciding
    actors, then the lever players); ``levers``, ``lens``: the configuration of everything
    else; ``once``: withhold the options' actions at every other step. ``makers`` decide the
    scenario's language-model actors (``kind: llm``: a language model's, its answers cached), a
    player's own choices too; with them, profiles are simulated one at a time in this thread."""
    started = time.perf_counter()
    loaded = scenario if isinstance(scenario, LoadedScenario) else None
    s = scenario if isinstance(scenario, Scenario) else (loaded or load_scenario(scenario)).scenario  # type: ignore[arg-type]
    lever_players = dict(lever_players or {})
    models = dict(makers or {})
    unasked = [
        a.id
        for a in s.actors
        if a.decision.kind == "llm" and a.id in decisions and a.id not in models
    ]
    if unasked:
        raise UserError(
            f"actor {unasked[0]} is decided by a language model (decision kind 'llm') and "
            "nothing asks one here: give the game an endpoint (--llm-endpoint URL or the "
            "OPENAI_BASE_URL setting)"
        )
    weights = dict(weights or {})
    values = dict(values or {})
    if not decisions and not lever_players:
        raise UserError("a game needs at least one player: give --decision or --lever-player")
    if not 1 <= runs <= MAX_RUNS:
        raise RedlineValueError(
            f"runs must be between 1 and {MAX_RUNS:,}, got {runs}", parameter="runs"
        )
    if not 0 <= step < s.time.horizon:
        raise RedlineValueError(
            f"step must be between 0 and {s.time.horizon - 1} (the scenario's horizon is "
            f"{s.time.horizon}), got {step}",
            parameter="step",
        )
    base = resolve(s, levers, lens)
    lever_by_id = {lv.id: lv for lv in s.levers}
    for name, lever in lever_players.items():
        if lever not in lever_by_id:
            raise UserError(f"lever player {name}: " + suggest(lever, lever_by_id, "lever"))
        if levers and lever in levers:
            raise UserError(f"lever '{lever}' is both fixed (--lever) and a player's choice")
    clash = set(decisions) & set(lever_players)
    if clash:
        raise UserError(f"player {sorted(clash)[0]} is both a deciding actor and a lever player")
    names = [*decisions, *lever_players]
    if order is not None:
        if sorted(order) != sorted(names):
            raise UserError(
                f"order must name each player once ({', '.join(names)}), got {', '.join(order)}"
            )
        names = list(order)
    lowered = lower(s)
    program0 = configure(lowered, overrides(s, base))
    outcome_ids = [o.id for o in program0.outcomes]
    for pl in values:
        if pl not in names:
            raise UserError("values: " + suggest(pl, names, "player"))
        for o in values[pl]:
            if o not in outcome_ids:
                raise UserError(f"values of {pl}: " + suggest(o, outcome_ids, "outcome"))
    for pl in weights:
        if pl not in names:
            raise UserError("weights: " + suggest(pl, names, "player"))

    options: dict[str, list[Option]] = {}
    for actor, given in decisions.items():
        d = _decider(program0, actor)
        _rationality(d)
        known = [("hold" if c < 0 else program0.actions[c].id) for c in d.candidates]
        parsed = [parse_option(t) for t in given]
        if len(parsed) < 1:
            raise UserError(f"actor {actor}: give at least one option")
        for opt in parsed:
            if opt.action is not None and opt.action not in known:
                raise UserError(
                    f"actor {actor}'s options: "
                    + suggest(opt.action, known[1:], "action of the actor")
                )
        if len({opt.text for opt in parsed}) != len(parsed):
            raise UserError(f"actor {actor}: an option is listed twice")
        options[actor] = parsed

    action_names = {a.id: a.name or a.id for a in s.actions}
    players: list[Player] = []
    for name in names:
        if name in decisions:
            opts = options[name]
            labels = tuple(
                "hold"
                if o.kind == "hold"
                else "own choice"
                if o.kind == "own"
                else f"not: {action_names.get(o.action or '', o.action)}"
                if o.kind == "without"
                else action_names.get(o.action or "", o.text)
                for o in opts
            )
            ids = tuple(o.text for o in opts)
            kind, source = "actor", name
        else:
            chosen_lever = lever_by_id[lever_players[name]]
            ids = tuple(o.id for o in chosen_lever.options)
            labels = tuple(o.name or o.id for o in chosen_lever.options)
            kind, source = "lever", chosen_lever.id
        valued = weights.get(name)
        if valued is None:
            if kind == "lever":
                raise UserError(
                    f"player {name} (lever {source}) has no weights of its own: give "
                    f"--weights {name}=ACTOR (an actor's weights) or "
                    f"--weights {name}:VARIABLE=NUMBER,…"
                )
            valued = name
        if isinstance(valued, str):
            d = _decider(program0, valued)
            if not d.weights:
                raise UserError(f"actor {valued} has no weights to value {name}'s payoff")
            wdesc = tuple((program0.var_names[v], e.source) for v, e in d.weights)
            wfrom = valued
        else:
            _parse_weights(program0, valued, name)
            wdesc = tuple((k, repr(float(v))) for k, v in valued.items())
            wfrom = "given"
        players.append(
            Player(
                name, kind, source, ids, labels, wfrom, wdesc, tuple(values.get(name, {}).items())
            )
        )

    shape = tuple(len(p.options) for p in players)
    count = int(np.prod(shape))
    if count > MAX_PROFILES:
        raise UserError(
            f"{count} strategy profiles is more than {MAX_PROFILES}; give fewer options"
        )
    if count * runs > MAX_PROFILE_RUNS:
        raise UserError(
            f"{count} strategy profiles × {runs:,} runs is more than {MAX_PROFILE_RUNS:,} "
            "profile-runs (each run's payoffs are kept for the paired comparisons); use fewer "
            "runs or options"
        )
    withheld = {
        actor: frozenset(o.action for o in opts if o.action is not None) if once else frozenset()
        for actor, opts in options.items()
    }
    profiles = list(itertools.product(*[range(k) for k in shape]))

    def simulate(
        profile: tuple[int, ...],
    ) -> tuple[ProfilePayoff, NDArray[np.float64], NDArray[np.bool_]]:
        chosen = dict(base.levers)
        for j, pl in enumerate(players):
            if pl.kind == "lever":
                chosen[pl.source] = pl.options[profile[j]]
        config = Configuration(chosen, base.lens)
        program = configure(lowered, overrides(s, config))
        utilities = np.zeros((len(players), runs))
        avail = np.ones((len(players), runs), dtype=np.bool_)
        hits = np.zeros(len(program.outcomes))
        for start, stop in chunk_bounds(runs, DEFAULT_CHUNK):
            ids = np.arange(start, stop, dtype=np.int64)
            pinned: dict[str, DecisionMaker] = {}
            seen: dict[int, NDArray[np.bool_]] = {}
            for j, pl in enumerate(players):
                if pl.kind != "actor":
                    continue
                d = _decider(program, pl.id)
                seen[j] = np.ones(stop - start, dtype=np.bool_)
                pinned[pl.id] = PinnedChoice(
                    pl.id,
                    d.kind,
                    _rationality(d),
                    dict(d.plan),
                    step,
                    options[pl.id][profile[j]],
                    withheld[pl.id],
                    start,
                    seen[j],
                    models.get(pl.id),
                )
            chunk = backends.run_chunk(
                "numpy",
                program,
                seed,
                ids,
                makers={**still_asked(program.deciders, models), **pinned},
            )
            for j, flags in seen.items():
                avail[j, start:stop] = flags
            hit = chunk.first_hit >= 0
            hits += hit.sum(axis=0)
            env_values: dict[str, Any] = {}
            for prm in program.params:
                if prm.value is not None:
                    env_values[prm.name] = prm.value
            env_values.update(chunk.params)
            for v, vname in enumerate(program.var_names):
                env_values[vname] = chunk.final[:, v]
            env_values["step"] = float(program.horizon)
            for j, pl in enumerate(players):
                given = weights.get(pl.id, pl.id)
                ws: Sequence[tuple[int, Expression | float]]
                if isinstance(given, str):
                    ws = _decider(program, given).weights
                else:
                    ws = _parse_weights(program, given, pl.id)
                env = _FinalState(
                    env_values,
                    f"a weight of {pl.weights_from if isinstance(given, str) else pl.id}",
                )
                u = np.zeros(stop - start)
                for var, w in _weight_values(program, ws, env, stop - start):
                    u = u + w * chunk.final[:, var]
                for o, value in pl.values:
                    u = u + value * hit[:, outcome_ids.index(o)]
                utilities[j, start:stop] = u
        stats = [_mean_interval(utilities[j], 0.95) for j in range(len(players))]
        shares: list[float | None] = []
        for j, pl in enumerate(players):
            played = options[pl.id][profile[j]] if pl.kind == "actor" else None
            shares.append(
                float(avail[j].mean()) if played is not None and played.kind == "action" else None
            )
        payoff = ProfilePayoff(
            profile,
            tuple(m for m, _, _ in stats),
            tuple(lo for _, lo, _ in stats),
            tuple(hi for _, _, hi in stats),
            tuple(shares),
            tuple(float(h / runs) for h in hits),
        )
        return payoff, utilities, avail

    results: list[tuple[ProfilePayoff, NDArray[np.float64], NDArray[np.bool_]]] = []
    # plugged-in makers (a language model's) are asked from this thread, a profile at a time
    pool = None if models else ThreadPoolExecutor(max(1, min(threads or 1, len(profiles))))
    try:
        done = pool.map(simulate, profiles) if pool is not None else map(simulate, profiles)
        for k, r in enumerate(done, start=1):
            results.append(r)
            if progress is not None:
                progress(
                    k,
                    len(profiles),
                    ", ".join(
                        f"{pl.id}={pl.options[i]}"
                        for pl, i in zip(players, r[0].profile, strict=True)
                    ),
                )
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return ExtractedGame(
        scenario=s.id,
        step=step,
        players=tuple(players),
        payoffs=tuple(r[0] for r in results),
        runs=runs,
        seed=seed,
        levers={k: v for k, v in base.levers.items() if k not in lever_players.values()},
        lens=base.lens,
        once=once,
        outcomes=tuple((o.id, o.name) for o in program0.outcomes),
        utilities=tuple(r[1] for r in results),
        availability=tuple(r[2] for r in results),
        seconds=time.perf_counter() - started,
    )


def matrix_game(
    players: Sequence[str],
    options: Sequence[Sequence[str]],
    payoffs: Sequence[Any],
) -> ExtractedGame:
    """A game written down rather than extracted: ``payoffs[i]`` is player i's payoff array,
    one axis per player (``options[j]`` along axis j). Its payoffs are exact (one "run", no
    interval), so :func:`redline.analysis.equilibria.solve` solves it as it stands — a check
    of the solver against textbook games, or a game from another source beside an extracted
    one."""
    if len(players) != len(options) or len(payoffs) != len(players) or not players:
        raise RedlineValueError(
            "matrix_game needs, for each player, its options and its payoff array",
            parameter="payoffs",
        )
    shape = tuple(len(o) for o in options)
    arrays = [np.asarray(p, dtype=np.float64) for p in payoffs]
    for name, a in zip(players, arrays, strict=True):
        if a.shape != shape:
            raise RedlineValueError(
                f"payoffs of {name}: shape {a.shape}, expected {shape} (one axis per player)",
                parameter="payoffs",
            )
        if not np.all(np.isfinite(a)):
            raise RedlineValueError(f"payoffs of {name}: not all finite", parameter="payoffs")
    profiles = list(itertools.product(*[range(k) for k in shape]))
    rows = []
    for profile in profiles:
        values = tuple(float(a[profile]) for a in arrays)
        rows.append(
            ProfilePayoff(profile, values, values, values, tuple(None for _ in players), ())
        )
    return ExtractedGame(
        scenario="matrix",
        step=0,
        players=tuple(
            Player(name, "given", name, tuple(o), tuple(o), "given", ())
            for name, o in zip(players, options, strict=True)
        ),
        payoffs=tuple(rows),
        runs=1,
        seed=0,
        levers={},
        lens=None,
        once=True,
        outcomes=(),
        utilities=tuple(np.array([[v] for v in x.mean]) for x in rows),
        availability=tuple(np.ones((len(players), 1), dtype=np.bool_) for _ in rows),
    )
