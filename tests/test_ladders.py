"""The built-in escalation ladders: Kahn's 44 rungs and the condensed ladder."""

from __future__ import annotations

import doctest
from importlib import resources

import pytest
from pydantic import ValidationError

import redline.scenario.ladders as ladders_module
from redline.scenario.ladders import (
    BUILTIN_LADDERS,
    Ladder,
    Rung,
    builtin_ladder,
    kahn_to_condensed,
)

KAHN_GROUPS = (
    "Subcrisis Maneuvering",
    "Traditional Crises",
    "Intense Crises",
    "Bizarre Crises",
    "Exemplary Central Attacks",
    "Military Central Wars",
    "Civilian Central Wars",
)
#: (threshold, group below it, group above it), bottom to top
KAHN_THRESHOLDS = (
    ("Don't Rock the Boat", "Subcrisis Maneuvering", "Traditional Crises"),
    ("Nuclear War Is Unthinkable", "Traditional Crises", "Intense Crises"),
    ("No Nuclear Use", "Intense Crises", "Bizarre Crises"),
    ("Central Sanctuary", "Bizarre Crises", "Exemplary Central Attacks"),
    ("Central War", "Exemplary Central Attacks", "Military Central Wars"),
    ("City Targeting", "Military Central Wars", "Civilian Central Wars"),
)
#: first and last rung of each group
KAHN_GROUP_SPANS = ((1, 3), (4, 9), (10, 20), (21, 25), (26, 31), (32, 38), (39, 44))


@pytest.fixture(scope="module")
def kahn() -> Ladder:
    return builtin_ladder("kahn")


@pytest.fixture(scope="module")
def condensed() -> Ladder:
    return builtin_ladder("condensed")


# --- Kahn's ladder -------------------------------------------------------------------------


def test_kahn_has_44_rungs_numbered_in_order(kahn: Ladder) -> None:
    assert len(kahn) == 44
    assert [r.rung for r in kahn.rungs] == list(range(1, 45))
    assert len(set(kahn.ids)) == 44


def test_kahn_groups_in_order_nonempty_and_contiguous(kahn: Ladder) -> None:
    assert kahn.groups == KAHN_GROUPS
    runs: list[str] = []
    for rung in kahn.rungs:
        if not runs or runs[-1] != rung.group:
            runs.append(rung.group)
    assert tuple(runs) == KAHN_GROUPS  # each group non-empty, contiguous, in order
    spans = tuple((kahn.rungs_in(g)[0].rung, kahn.rungs_in(g)[-1].rung) for g in KAHN_GROUPS)
    assert spans == KAHN_GROUP_SPANS


def test_kahn_thresholds(kahn: Ladder) -> None:
    assert len(kahn.thresholds) == 6
    assert tuple((t.name, t.below, t.above) for t in kahn.thresholds) == KAHN_THRESHOLDS
    # the first rung above each threshold is the first rung of the group above it
    firsts = [kahn.threshold_index(name) + 1 for name, _, _ in KAHN_THRESHOLDS]
    assert firsts == [4, 10, 21, 26, 32, 39]


@pytest.mark.parametrize(
    ("number", "name"),
    [
        (1, "Ostensible Crisis"),
        (3, "Solemn and Formal Declarations"),
        (5, "Show of Force"),
        (9, "Dramatic Military Confrontations"),
        (12, "Large Conventional War (or Actions)"),
        (15, "Barely Nuclear War"),
        (16, 'Nuclear "Ultimatums"'),
        (21, "Local Nuclear War—Exemplary"),
        (26, "Demonstration Attack on Zone of Interior"),
        (32, 'Formal Declaration of "General" War'),
        (38, "Unmodified Counterforce Attack"),
        (39, "Slow-Motion Countercity War"),
        (42, "Civilian Devastation Attack"),
        (44, "Spasm or Insensate War"),
    ],
)
def test_kahn_rung_names(kahn: Ladder, number: int, name: str) -> None:
    assert kahn.rung(number).name == name


def test_kahn_source_cites_the_book(kahn: Ladder) -> None:
    assert kahn.source is not None
    assert "On Escalation" in kahn.source and "1965" in kahn.source


def test_kahn_rungs_have_no_kahn_range(kahn: Ladder) -> None:
    assert all(r.kahn is None for r in kahn.rungs)


def test_kahn_nuclear_category_starts_at_barely_nuclear_war(kahn: Ladder) -> None:
    nuclear = [r.rung for r in kahn.rungs if r.category == "nuclear"]
    assert min(nuclear) == 15
    assert all(r.category == "nuclear" for r in kahn.rungs[20:])  # above No Nuclear Use


# --- the condensed ladder ------------------------------------------------------------------


def test_condensed_size_and_numbering(condensed: Ladder) -> None:
    assert 9 <= len(condensed) <= 12
    assert [r.rung for r in condensed.rungs] == list(range(1, len(condensed) + 1))
    assert len(set(condensed.ids)) == len(condensed)


def test_condensed_kahn_ranges_partition_1_to_44_in_order(condensed: Ladder) -> None:
    ranges = [r.kahn for r in condensed.rungs]
    # only the bottom level (peace, below Kahn's first rung) may lack a range
    assert all(k is not None for k in ranges[1:])
    covered: list[int] = []
    for k in ranges:
        if k is not None:
            assert k[0] <= k[1]
            covered.extend(range(k[0], k[1] + 1))
    assert covered == list(range(1, 45))


def test_condensed_cow_is_highest_of_its_kahn_rungs(kahn: Ladder, condensed: Ladder) -> None:
    for level in condensed.rungs:
        if level.kahn is not None:
            first, last = level.kahn
            assert level.cow == max(kahn.rung(n).cow for n in range(first, last + 1)), level.id


def test_condensed_groups_contiguous(condensed: Ladder) -> None:
    runs: list[str] = []
    for rung in condensed.rungs:
        if not runs or runs[-1] != rung.group:
            runs.append(rung.group)
    assert tuple(runs) == condensed.groups


def test_kahn_to_condensed() -> None:
    assert kahn_to_condensed(1).id == "diplomatic_protest"
    assert kahn_to_condensed(44).id == "general_nuclear_war"
    assert kahn_to_condensed("show_of_force").id == "show_of_force"
    assert kahn_to_condensed(15).category == "nuclear"
    for n in range(1, 45):
        level = kahn_to_condensed(n)
        assert level.kahn is not None and level.kahn[0] <= n <= level.kahn[1]
    with pytest.raises(KeyError):
        kahn_to_condensed(45)
    with pytest.raises(KeyError):
        kahn_to_condensed("no_such_rung")


# --- both ladders --------------------------------------------------------------------------


@pytest.mark.parametrize("name", BUILTIN_LADDERS)
def test_cow_levels_never_fall(name: str) -> None:
    cows = [r.cow for r in builtin_ladder(name).rungs]
    assert cows == sorted(cows)
    assert set(cows) <= {1, 2, 3, 4, 5}
    assert cows[0] == 1 and cows[-1] == 5


@pytest.mark.parametrize("name", BUILTIN_LADDERS)
def test_builtin_files_ship_and_load_once(name: str) -> None:
    assert resources.files("redline.scenario.ladders").joinpath(f"{name}.yaml").is_file()
    ladder = builtin_ladder(name)
    assert ladder.name == name
    assert builtin_ladder(name) is ladder  # cached


@pytest.mark.parametrize("name", BUILTIN_LADDERS)
def test_ids_are_snake_case(name: str) -> None:
    for rung_id in builtin_ladder(name).ids:
        assert rung_id.replace("_", "").isalnum() and rung_id == rung_id.lower()


def test_unknown_ladder_lists_known_ones() -> None:
    with pytest.raises(KeyError) as info:
        builtin_ladder("escalator")
    message = str(info.value)
    assert "escalator" in message
    assert all(name in message for name in BUILTIN_LADDERS)


def test_index_and_lookup(kahn: Ladder) -> None:
    assert kahn.index(1) == 0
    assert kahn.index(44) == 43
    assert kahn.index("ostensible_crisis") == 0
    assert kahn.index("spasm_or_insensate_war") == 43
    assert kahn.rung("show_of_force") == kahn.rung(5)
    assert kahn.group_of(21) == "Bizarre Crises"
    for bad in (0, 45, -1, "nope"):
        with pytest.raises(KeyError):
            kahn.index(bad)
    with pytest.raises(TypeError):
        kahn.index(True)
    with pytest.raises(KeyError):
        kahn.rungs_in("Nope")
    with pytest.raises(KeyError):
        kahn.threshold_index("Nope")


def test_models_are_frozen(kahn: Ladder) -> None:
    with pytest.raises(ValidationError):
        kahn.rungs[0].name = "x"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        kahn.name = "x"  # type: ignore[misc]


# --- validation of hand-built ladders ------------------------------------------------------


def _rung(n: int, group: str = "A", **extra: object) -> dict[str, object]:
    return {
        "id": f"r{n}",
        "name": f"Rung {n}",
        "rung": n,
        "group": group,
        "category": "diplomatic",
        "cow": 1,
        **extra,
    }


def test_valid_hand_built_ladder() -> None:
    ladder = Ladder.model_validate(
        {
            "name": "mini",
            "groups": ["A", "B"],
            "thresholds": [{"name": "T", "below": "A", "above": "B"}],
            "rungs": [_rung(1), _rung(2, "B", kahn=[1, 3]), _rung(3, "B", kahn=[4, 4])],
        }
    )
    assert len(ladder) == 3
    assert ladder.threshold_index("T") == 1
    assert ladder.rung(2).kahn == (1, 3)
    assert isinstance(ladder.rung(1), Rung)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"groups": ["A"], "rungs": [_rung(2)]}, "expected 1"),
        ({"groups": ["A"], "rungs": [_rung(1), {**_rung(2), "id": "r1"}]}, "duplicate"),
        ({"groups": ["A", "B"], "rungs": [_rung(1, "B"), _rung(2, "A")]}, "contiguous"),
        ({"groups": ["A", "B"], "rungs": [_rung(1), _rung(2, "B"), _rung(3)]}, "contiguous"),
        ({"groups": ["A", "B"], "rungs": [_rung(1)]}, "contiguous"),
        ({"groups": ["A"], "rungs": [_rung(1, "Z")]}, "unknown group"),
        (
            {
                "groups": ["A", "B", "C"],
                "thresholds": [{"name": "T", "below": "A", "above": "C"}],
                "rungs": [_rung(1), _rung(2, "B"), _rung(3, "C")],
            },
            "adjacent",
        ),
        (
            {"groups": ["A"], "rungs": [_rung(1, kahn=[3, 4]), _rung(2, kahn=[4, 5])]},
            "overlaps",
        ),
        ({"groups": ["A"], "rungs": [_rung(1, kahn=[4, 3])]}, "backwards"),
        ({"groups": ["A"], "rungs": [_rung(1, cow=6)]}, "less than or equal"),
        ({"groups": ["A"], "rungs": [_rung(1, category="cyber")]}, "category"),
        ({"groups": ["A"], "rungs": [{**_rung(1), "id": "Not-A-Slug"}]}, "pattern"),
        ({"groups": ["A"], "rungs": [_rung(1, extra_key=1)]}, "extra"),
    ],
)
def test_invalid_ladders_rejected(data: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        Ladder.model_validate({"name": "bad", **data})


def test_module_doctests() -> None:
    result = doctest.testmod(ladders_module)
    assert result.attempted > 0 and result.failed == 0
