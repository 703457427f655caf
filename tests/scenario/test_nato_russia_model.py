"""The default scenario's mechanisms behave as the sources argue, not as artefacts: NATO's
declared answer deters a convoy strike in the order deterrence theory predicts, the strike is
Russia's own choice, Article 5 is not war, war is a state the run continues through (so a war
that defeats Russia can bring its nuclear doctrine into play), and eroded red lines embolden
rather than restrain."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

import redline
from redline.analysis.why import why
from redline.compile import compile_scenario, resolve
from redline.engine.kernel import run_chunk
from redline.scenario.loader import load_scenario
from redline.scenario.model import Scenario
from redline.stats import wilson_interval

BUILTIN = Path(redline.__file__).resolve().parent / "scenarios"
RUNS = 2000


def _first_hits(
    s: Scenario, levers: dict[str, str] | None = None, lens: str | None = None, runs: int = RUNS
) -> dict[str, np.ndarray]:
    """Each outcome's first-hit step per run (-1 never) over ``runs`` runs of seed 0."""
    program = compile_scenario(s, resolve(s, levers, lens))
    result = run_chunk(program, 0, np.arange(runs, dtype=np.int64))
    return {o.id: result.first_hit[:, i] for i, o in enumerate(program.outcomes)}


def _interval(hits: np.ndarray) -> tuple[float, float]:
    return wilson_interval(int((hits >= 0).sum()), len(hits))


@pytest.fixture(scope="module")
def nato_russia() -> Scenario:
    return redline.load("nato-russia")


def test_declared_response_deters_a_convoy_strike_in_order(nato_russia: Scenario) -> None:
    """Under the baseline, collective defence deters a strike on a convoy on NATO soil more than
    consultation, and consultation more than no reaction: three intervals that do not overlap."""
    rates = {
        option: _interval(
            _first_hits(nato_russia, {"nato_response": option}, "baseline")["convoy_strike"]
        )
        for option in ("none", "consultation", "collective_defence")
    }
    none, consultation, collective = (
        rates["none"],
        rates["consultation"],
        rates["collective_defence"],
    )
    assert consultation[1] < none[0], rates
    assert collective[1] < consultation[0], rates


def test_convoy_strike_is_russias_choice(nato_russia: Scenario) -> None:
    """Every strike on a convoy on NATO soil is a choice of Russia's decision-maker: `why` puts
    the choice on the route of every hit; Russia's convoy red line answers inside Ukraine."""
    paths = why(nato_russia, "convoy_strike", runs=RUNS, seed=0, lens="provocation_003", threads=1)
    choice = next(e for e in paths.to_json()["events"] if e["id"] == "decision:RUS/strike_convoy")
    assert choice["share"] == 1.0 and choice["on_route"]
    line = next(r for r in nato_russia.red_lines if r.id == "rl_convoys")
    response = next(a for a in nato_russia.actions if a.id == line.response)
    assert "provocation:RUS" not in response.tags


def test_article5_is_not_war(nato_russia: Scenario) -> None:
    """An invocation of Article 5 leads to war only through allied strikes that Russia answers:
    many runs invoke it without war, and with Ukraine outside NATO every war follows a NATO
    strike, which follows an invocation."""
    hits = _first_hits(nato_russia, None, "provocation_003")
    article5, strikes, war = hits["article5"], hits["nato_strikes_russia"], hits["nato_russia_war"]
    assert (article5 >= 0).sum() >= 100, "the check needs runs in which Article 5 is invoked"
    assert ((article5 >= 0) & (war < 0)).sum() > ((article5 >= 0) & (war >= 0)).sum()
    at_war = war >= 0
    assert at_war.sum() >= 10
    assert np.all((strikes[at_war] >= 0) & (strikes[at_war] <= war[at_war]))
    struck = strikes >= 0
    assert np.all((article5[struck] >= 0) & (article5[struck] <= strikes[struck]))


def test_war_is_a_state_a_defeat_can_follow(nato_russia: Scenario) -> None:
    """War does not end a run: runs at war go on to a Russian defeat, and from a defeat to the
    doctrine's nuclear use (000: nuclear weapons if NATO's military threatens to defeat Russia)."""
    hits = _first_hits(nato_russia, {"ukraine_membership": "vilnius_invitation"}, "baseline")
    war, defeat, nuclear = (
        hits["nato_russia_war"],
        hits["russian_defeat"],
        hits["russian_nuclear_use"],
    )
    war_then_defeat = (war >= 0) & (defeat > war)
    assert war_then_defeat.sum() >= 20
    assert ((nuclear >= defeat) & war_then_defeat).sum() >= 10
    outcome = next(o for o in nato_russia.outcomes if o.id == "nato_russia_war")
    assert not outcome.absorbing


def test_eroded_red_lines_embolden(tmp_path: Path) -> None:
    """A Russian red line's credibility (the West's belief) is not Russia's resolve: when belief
    erodes with each unenforced crossing, Western governments climb further and Western personnel
    come under fire more often than when it does not erode (the WSWS lens, where erosion is
    strongest)."""
    data = yaml.safe_load((BUILTIN / "nato-russia.yaml").read_text(encoding="utf-8"))
    for line in data["red_lines"]:
        if line["owner"] == "RUS":
            assert "credibility" not in str(line.get("enforce", "")), line["id"]
    lens = next(x for x in data["lenses"] if x["id"] == "wsws_000_001")
    lens["set"]["rl_decay"] = 1.0
    path = tmp_path / "no-erosion.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    eroding = _first_hits(
        load_scenario(BUILTIN / "nato-russia.yaml").scenario, None, "wsws_000_001"
    )
    steady = _first_hits(load_scenario(path).scenario, None, "wsws_000_001")
    for outcome in ("personnel_hit", "article5"):
        assert _interval(steady[outcome])[1] < _interval(eroding[outcome])[0], outcome
