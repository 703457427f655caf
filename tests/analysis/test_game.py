"""A decision point as a game: the closed-form oracles recovered through extraction and solving
(Chicken's mixed equilibrium, Fearon's bargaining range, the Zagare–Kilgour deterrence
condition), the exact replay of an actor's own choice, the extensive form's chance node, and
the command line (JSON, report, and clear messages for bad input)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from redline.analysis.equilibria import extensive_form, solve, verdicts
from redline.analysis.game import PinnedChoice, extract_game, parse_option
from redline.cli import app
from redline.compile import compile_scenario, resolve
from redline.engine import backends
from redline.errors import UserError
from redline.scenario.loader import load_scenario

GAMES = Path(__file__).parent / "games"
CHICKEN = GAMES / "chicken.yaml"
FEARON = GAMES / "fearon.yaml"
DETERRENCE = GAMES / "deterrence.yaml"


def chicken_q(W: float, S: float, L: float, C: float) -> float:
    """Chicken's mixed equilibrium: the probability of going straight (domain oracle)."""
    return (W - S) / ((W - S) + (L - C))


@pytest.mark.parametrize(
    ("lens", "numbers"), [("textbook", (1.0, 0.0, -1.0, -4.0)), (None, (3.0, 1.0, 0.0, -5.0))]
)
def test_chicken_mixed_equilibrium_is_the_closed_form(
    lens: str | None, numbers: tuple[float, float, float, float]
) -> None:
    game = extract_game(
        CHICKEN,
        step=0,
        decisions={"A": ["hold", "straight_A"], "B": ["hold", "straight_B"]},
        runs=4,
        lens=lens,
    )
    solution = solve(game, rationality=200.0, sequential=True)
    q = chicken_q(*numbers)
    mixed = [e for e in solution.nash if e.kind == "mixed"]
    assert len(mixed) == 1
    (a, b) = mixed[0].strategies
    assert a[1] == pytest.approx(q, abs=1e-12) and b[1] == pytest.approx(q, abs=1e-12)
    # the crash probability at the equilibrium is q*²: 1/16 for the textbook numbers
    assert a[1] * b[1] == pytest.approx(q * q)
    if lens == "textbook":
        assert a[0] == pytest.approx(3 / 4) and q * q == pytest.approx(1 / 16)
    # the two pure equilibria: one goes straight, the other swerves
    pure = sorted(tuple(int(s[1]) for s in e.strategies) for e in solution.nash if e.pure)
    assert pure == [(0, 1), (1, 0)]
    # the logit QRE on the principal branch stays symmetric and tends to the mixed equilibrium
    assert solution.qre.strategies[0][1] == pytest.approx(q, abs=0.01)
    path = [e.strategies[0][1] for e in solution.logit_path]
    assert path[0] == pytest.approx(0.5, abs=0.05)
    # the first mover of the sequential form commits to going straight
    assert solution.sequential is not None
    assert solution.sequential.path == ("A: straight_A", "B: hold")
    assert all(e.regret <= 1e-9 for e in solution.nash)


@pytest.fixture(scope="module")
def fearon() -> Any:
    game = extract_game(
        FEARON,
        step=0,
        decisions={"A": ["hold", "fight"]},
        lever_players={"B": "offer"},
        weights={"B": {"gain.B": 1.0}},
        order=["B", "A"],
        runs=3000,
        seed=2,
    )
    return game, solve(game, sequential=True)


def test_fearon_bargaining_range_is_recovered(fearon: Any) -> None:
    game, solution = fearon
    p, c_a, c_b = 0.5, 0.1, 0.2
    offers = {"x30": 0.30, "x45": 0.45, "x55": 0.55, "x65": 0.65, "x80": 0.80}
    B, A = game.players
    assert (B.id, A.id) == ("B", "A")
    inside = set()
    for b, name in enumerate(B.options):
        agree, war = game.payoff([b, 0]), game.payoff([b, 1])
        # war is a lottery: its expected payoffs are p − c_A and 1 − p − c_B, within intervals
        assert war.lo[1] <= p - c_a <= war.hi[1]
        assert war.lo[0] <= 1 - p - c_b <= war.hi[0]
        assert agree.mean[1] == pytest.approx(offers[name])
        # A prefers the offer to war, and B prefers giving it to war, clearly (paired)
        a_gain = game.difference(1, [b, 0], [b, 1])
        b_gain = game.difference(0, [b, 0], [b, 1])
        if a_gain[1] > 0 and b_gain[1] > 0:
            inside.add(name)
        else:
            assert a_gain[2] < 0 or b_gain[2] < 0, name  # clearly outside
    expected = {n for n, x in offers.items() if p - c_a < x < p + c_b}
    assert inside == expected == {"x45", "x55", "x65"}
    # backward induction: B offers the least that A accepts, the bottom of the range
    assert solution.sequential.path == ("B: x45", "A: hold")


@pytest.mark.parametrize(
    ("option", "p_b"), [("p20", 0.2), ("p40", 0.4), ("p60", 0.6), ("p80", 0.8)]
)
def test_zagare_kilgour_deterrence_condition(option: str, p_b: float) -> None:
    game = extract_game(
        DETERRENCE,
        step=0,
        decisions={"C": ["hold", "challenge"]},
        levers={"resolve": option},
        runs=2000,
        seed=3,
    )
    solution = solve(game)
    a_sq, a_dc, a_dd = 0.0, 1.0, -1.0
    challenges = p_b < (a_dc - a_sq) / (a_dc - a_dd)
    (dominance,) = solution.dominance
    assert dominance.clear
    assert game.players[0].options[dominance.option] == ("challenge" if challenges else "hold")
    (nash,) = solution.nash
    assert nash.strategies[0][1] == (1.0 if challenges else 0.0)
    # the challenge's expected payoff: (1 − p_B)·a_DC + p_B·a_DD, within its interval
    x = game.payoff([1])
    assert x.lo[0] <= (1 - p_b) * a_dc + p_b * a_dd <= x.hi[0]


def test_chance_node_where_an_action_is_not_always_possible(tmp_path: Path) -> None:
    """An action whose requirements hold in about half the runs: the extensive form puts a
    chance node after it with that share, and backward induction averages its branches."""
    doc = yaml.safe_load(DETERRENCE.read_text())
    doc["uncertainties"] = [
        {"id": "opening", "distribution": {"kind": "uniform", "low": 0.0, "high": 1.0}}
    ]
    doc["actions"][0]["requires"] = "opening > 0.5"
    path = tmp_path / "opening.yaml"
    path.write_text(yaml.safe_dump(doc))
    game = extract_game(
        path, step=0, decisions={"C": ["challenge", "hold"]}, levers={"resolve": "p20"}, runs=2000
    )
    share = game.payoff([0]).available[0]
    assert 0.45 < share < 0.55
    efg, _ = extensive_form(game)
    assert f'"challenge taken" {share!r}' in efg
    solution = solve(game, sequential=True)
    flags = game.availability[0][0]
    u = game.utilities[0][0]
    expected = share * u[flags].mean() + (1 - share) * u[~flags].mean()
    assert solution.sequential.payoffs[0] == pytest.approx(expected)
    # where the challenge was not possible, C held: the status quo's payoff
    assert u[~flags].mean() == pytest.approx(0.0)


def test_own_choice_replays_the_scenario_decision_maker_exactly() -> None:
    """The 'own' option (and every other step) replays the actor's logit draw for draw: with
    nothing withheld the runs are those of the scenario itself."""
    s = load_scenario("convoy-strike").scenario
    program = compile_scenario(s, resolve(s))
    runs = np.arange(300, dtype=np.int64)
    plain = backends.run_chunk("numpy", program, 5, runs)
    d = next(x for x in program.deciders if x.actor == "RUS")
    maker = PinnedChoice(
        "RUS",
        "logit",
        float(d.rationality.constant),
        {},
        3,
        parse_option("own"),
        frozenset(),
        0,
        np.ones(300, dtype=np.bool_),
    )
    pinned = backends.run_chunk("numpy", program, 5, runs, makers={"RUS": maker})
    assert np.array_equal(plain.first_hit, pinned.first_hit)
    assert np.array_equal(plain.final, pinned.final)


def test_verdicts_say_which_option_is_best_against_what(fearon: Any) -> None:
    game, solution = fearon
    lines = verdicts(game, solution)
    assert lines[1] == (
        "A: no dominant option — best is 'hold' against B=x45 and B=x55 and B=x65 and B=x80; "
        "'fight' against B=x30"
    )


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, ["analyze", "game", *args])


def test_cli_json_and_report(tmp_path: Path) -> None:
    report = tmp_path / "game.html"
    result = _cli(
        str(CHICKEN),
        "--step",
        "0",
        "--decision",
        "A=hold,straight_A",
        "--decision",
        "B=hold,straight_B",
        "--runs",
        "3",
        "--json",
        "--report",
        str(report),
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [g["lens"] for g in data["games"]] == ["textbook"]
    mixed = [e for e in data["games"][0]["solution"]["nash"] if e["kind"] == "mixed"]
    assert mixed[0]["strategies"]["A"]["straight_A"] == pytest.approx(0.25)
    page = report.read_text()
    assert (
        "Plotly" in page
        and "payoff of A" in page
        and "https://" not in page.split("<body>")[1][:2000]
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--decision", "Z=hold"], "unknown deciding actor 'Z'"),
        (["--decision", "A=hold,nuke"], "actor A's options: unknown action of the actor 'nuke'"),
        (["--decision", "A=hold", "--step", "7"], "step must be between 0 and 1"),
        (["--decision", "A"], "--decision expects ACTOR=OPTION"),
        (["--decision", "A=hold", "--value", "A:crash=x"], "--value: 'x' in 'A:crash=x'"),
        (["--decision", "A=hold", "--weights", "A:nothing=1"], "unknown state variable 'nothing'"),
        (["--step", "0"], "a game needs at least one player"),
        (["--decision", "A=hold", "--step", "2024-07"], "the scenario has no start date"),
        (["--decision", "A=hold", "--step", "soon"], "--step expects a step number or a date"),
    ],
)
def test_cli_bad_input_is_one_clear_line(args: list[str], message: str) -> None:
    full = [str(CHICKEN), *(["--step", "0"] if "--step" not in args else []), *args, "--runs", "2"]
    result = _cli(*full)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_lever_player_without_weights_is_refused() -> None:
    with pytest.raises(UserError, match="player B \\(lever offer\\) has no weights of its own"):
        extract_game(
            FEARON,
            step=0,
            decisions={"A": ["hold", "fight"]},
            lever_players={"B": "offer"},
            runs=2,
        )


def test_python_api() -> None:
    import redline

    solved = redline.game(
        str(CHICKEN),
        step=0,
        decisions={"A": ["hold", "straight_A"], "B": ["hold", "straight_B"]},
        runs=2,
        lens="textbook",
    )
    assert isinstance(solved, redline.SolvedGame)
    assert solved.table.num_rows == 8
    assert solved.to_json()["solution"]["subgame_perfect"]["path"] == ["A: straight_A", "B: hold"]
    with pytest.raises(TypeError, match="decisions must map actor ids to lists of options"):
        redline.game(str(CHICKEN), step=0, decisions={"A": "hold"})
    with pytest.raises(ValueError, match="step must be between 0 and 1"):
        redline.game(str(CHICKEN), step=5, decisions={"A": ["hold"]})
