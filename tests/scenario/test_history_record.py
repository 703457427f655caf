"""The built-in records: nato-russia-history replayed and observed through November 2025, and the
Cuban missile crisis against its record and Kennedy's odds.

What a user relies on: the history variant's record parses and every lens can be scored against
it; a rung of the aid ladder that the record's plans perform is performed once (a second ally
giving the same class of weapon must not push the front or cross Russia's red line again); and
Cuba's runs all end by the horizon, so that Kennedy's odds for the crisis as a whole are compared
with the probability of war over the whole crisis, not by an arbitrary date.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

import redline
from redline.scenario.loader import load_scenario
from redline.scenario.model import Scenario

from .support import BUILTIN

HISTORY = BUILTIN / "nato-russia-history.yaml"
CUBA = BUILTIN / "cuban-missile-crisis.yaml"


def _history() -> Scenario:
    return load_scenario(HISTORY).scenario


def _observation_dates(s: Scenario) -> dict[str, date]:
    """The last date each observation speaks about, from its JSON form (every timing kind)."""
    out: dict[str, date] = {}
    for item in s.observations:
        fields = item.model_dump(mode="json", exclude_none=True)
        dates: list[str] = []
        for key in ("at", "by", "not_by"):
            if key in fields:
                dates.append(fields[key])
        for key in ("first_between", "between"):
            if key in fields:
                dates.append(fields[key][-1])
        if "in_month" in fields:
            dates.append(f"{fields['in_month']}-28")
        assert dates, f"observation {item.id} has no date"
        out[item.id] = max(date.fromisoformat(str(d)[:10]) for d in dates)
    return out


def test_history_record_runs_through_november_2025() -> None:
    """The record reaches November 2025 and says what did not happen there: no NATO–Russia war,
    no nuclear use, no settlement or collapse — each quoted."""
    s = _history()
    dates = _observation_dates(s)
    assert max(dates.values()) >= date(2025, 11, 1)
    by_id = {o.id: o for o in s.observations}
    for oid in ("no_nato_russia_war", "no_nuclear_use", "no_settlement_2025"):
        assert dates[oid] >= date(2025, 11, 1), oid
        assert by_id[oid].evidence, oid
    # elections, the doctrine revision and a dated aid decision of each scripted ally
    for oid in ("uk_election_2024", "fr_election_2024", "us_election_2024", "doctrine_revised"):
        assert oid in by_id, oid
    observed = {(o.actor, o.action) for o in s.observations if getattr(o, "actor", None)}
    for actor in ("USA", "GBR", "FRA", "DEU", "POL"):
        assert any(a == actor for a, _ in observed), f"no dated aid decision of {actor}"


def test_history_plans_replay_european_aid_through_2025() -> None:
    """Germany and Poland are not left with one package (or none) in 36 months: their plans carry
    the dated packages of 2024 and 2025."""
    s = _history()
    plans = {a.id: a.decision.plan for a in s.actors if a.decision.kind == "scripted"}
    for actor, least in (("DEU", 5), ("POL", 3), ("GBR", 3)):
        aid = [p for p in plans[actor] if p.action == "european_aid"]
        assert len(aid) >= least, (actor, len(aid))
    last = max(str(p.at) for items in plans.values() for p in items if p.at is not None)
    assert last >= "2025-11-01"


def _rungs(s: Scenario) -> dict[str, str]:
    """Each ladder action and the flag it sets: an action whose `requires` says the flag is not yet
    taken (`flag < 1`) and whose effects set it."""
    rungs: dict[str, str] = {}
    for action in s.actions:
        requires = str(action.requires or "")
        for variable in action.effects or {}:
            if f"{variable} < 1" in requires:
                rungs[action.id] = variable
    return rungs


@pytest.mark.parametrize("lens", ["baseline", "provocation_003"])
def test_scripted_rungs_are_performed_once_and_never_on_a_taken_rung(lens: str) -> None:
    """Over several runs of the history variant, each rung of the aid ladder is performed at most
    once, and never in a step whose flag was already set (its effects would apply again)."""
    s = _history()
    rungs = _rungs(s)
    assert {"aid_long_range", "aid_deep_strikes", "aid_aircraft"} <= set(rungs)
    performed_somewhere = set()
    for run in range(4):
        trace = redline.trace(HISTORY, seed=3, run=run, lens=lens)
        counts = dict.fromkeys(rungs, 0)
        previous: dict[str, float] | None = None  # the state at the start of the step
        for step in trace.run.log:
            for event in step.events:
                parts = event.split(":")
                if len(parts) == 3 and parts[0] == "act" and parts[2] in rungs:
                    action = parts[2]
                    counts[action] += 1
                    performed_somewhere.add(action)
                    flag = rungs[action]
                    if previous is not None:
                        assert previous[flag] < 1, (
                            f"run {run}: {event} at step {step.step} on a taken rung"
                        )
            previous = step.state
        assert all(n <= 1 for n in counts.values()), f"run {run}: {counts}"
    assert {"aid_long_range", "aid_deep_strikes"} <= performed_somewhere


def test_history_record_scores_under_every_lens() -> None:
    """`redline score` gives every lens a finite log-likelihood of the whole record and a
    probability for each observation, and the published forecasts beside each lens."""
    result = redline.score(HISTORY, particles=400, replicates=2, seed=1)
    s = _history()
    assert {x.lens for x in result.lenses} == {lens.id for lens in s.lenses}
    for lens in result.lenses:
        assert math.isfinite(lens.loglik), lens.label
        assert lens.loglik < 0
        assert {f.id for f in lens.facts} == {o.id for o in s.observations}
        assert all(0.0 <= f.p_alone <= 1.0 for f in lens.facts)
        assert {q.id for q in lens.questions} == {f.id for f in s.forecasts}
    table = result.table
    assert table.num_rows == len(s.lenses)


def _first(results: redline.Results, outcome: str) -> np.ndarray:
    column = results.table.column(f"first.{outcome}").to_numpy(zero_copy_only=False)
    return np.asarray(column, dtype=float)


def test_cuba_runs_end_by_the_horizon() -> None:
    """A crisis still open on 28 October is followed until it ends: by the horizon fewer than 1%
    of runs have neither war, nuclear use nor a resolution (a third had, with the horizon on 28
    October)."""
    results = redline.simulate(CUBA, 4000, seed=2, lens="excomm_1962")
    ended = np.zeros(4000, dtype=bool)
    for outcome in ("war", "nuclear_use", "resolution"):
        ended |= ~np.isnan(_first(results, outcome))
    assert (~ended).mean() < 0.01


def test_cuba_havana_lens_changes_nuclear_use_not_war() -> None:
    """The Havana lens changes what a war would have been, not whether the ExComm starts it: on
    the same runs, war starts at the same steps under both lenses and nuclear use is more likely."""
    excomm = redline.simulate(CUBA, 4000, seed=4, lens="excomm_1962")
    havana = redline.simulate(CUBA, 4000, seed=4, lens="havana_1992")
    np.testing.assert_array_equal(_first(excomm, "war"), _first(havana, "war"))
    nuclear_excomm = (~np.isnan(_first(excomm, "nuclear_use"))).mean()
    nuclear_havana = (~np.isnan(_first(havana, "nuclear_use"))).mean()
    assert nuclear_havana > nuclear_excomm + 0.01


def test_cuba_kennedy_odds_compared_over_the_whole_crisis() -> None:
    """Kennedy's "between one out of three and even" is set beside each lens's probability of war
    or nuclear use over the whole crisis (to the horizon), scored as resolved (no war)."""
    s = load_scenario(CUBA).scenario
    result = redline.score(CUBA, particles=1500, replicates=2, seed=1)
    runs = redline.simulate(CUBA, 4000, seed=5, lens="excomm_1962")
    war = ~np.isnan(_first(runs, "war")) | ~np.isnan(_first(runs, "nuclear_use"))
    for lens in result.lenses:
        (question,) = [q for q in lens.questions if q.id == "kennedy_odds"]
        assert question.forecaster_range == (0.3333, 0.5)
        assert question.resolved is False
        assert question.model_p is not None and 0.0 < question.model_p < 1.0
        assert str(s.time.start) in question.covers
        # the model's answer is the probability over the whole crisis, as the runs give it
        assert abs(question.model_p - war.mean()) < 0.05
        assert question.model_brier is not None and question.forecaster_brier is not None
        # Dixit, McAdams and Skeath's ~60% nuclear risk over the 13 days is the second forecast:
        # about nuclear use by 28 October, resolved (none), the model far below it
        (dixit,) = [q for q in lens.questions if q.id == "dixit_mcadams_skeath"]
        assert dixit.resolved is False and dixit.model_p is not None
        assert dixit.model_p < 0.2 and dixit.forecaster_p == 0.6
        assert dixit.model_brier is not None and dixit.forecaster_brier is not None
        assert dixit.model_brier < dixit.forecaster_brier  # the record favours the model here
        # the record is possible under each lens: the U-2 shot down on 27 October without a US
        # strike (the air defences fire once the sites are operational), so no filter loses
        # every particle and the log-likelihood is finite
        assert lens.lost == (), lens.lost
        assert math.isfinite(lens.loglik)
        (no_strike,) = [f for f in lens.facts if f.id == "no_air_strike"]
        assert no_strike.p_given > 0.5
