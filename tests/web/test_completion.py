"""The editor's completion data: the language's keys at each level come from the scenario model
(so a key ``validate`` accepts is offered, and one it refuses is not), and the scenario's names
are its ids."""

from __future__ import annotations

from redline.scenario.loader import load_scenario
from redline.scenario.model import Actor, Lever, Scenario
from redline.web.completion import key_tree, known_names


def test_each_level_offers_the_keys_its_model_accepts() -> None:
    tree = key_tree(Scenario)
    assert list(tree) == list(Scenario.model_fields)
    assert set(tree["actors"]) == {f.alias or n for n, f in Actor.model_fields.items()}
    assert {"kind", "lambda", "weights", "plan"} <= set(tree["actors"]["decision"])
    assert set(tree["levers"]) == {f.alias or n for n, f in Lever.model_fields.items()}
    assert {"id", "set"} <= set(tree["levers"]["options"])
    assert "actorz" not in tree


def test_the_names_offered_are_the_scenarios_ids() -> None:
    s = load_scenario("convoy-strike").scenario
    names = known_names(s)
    assert names == sorted(set(names))
    for ids in (s.actors, s.actions, s.outcomes, s.red_lines, s.levers, s.lenses):
        assert {x.id for x in ids} <= set(names)
    assert {o.id for lv in s.levers for o in lv.options} <= set(names)
    assert known_names(None) == []
