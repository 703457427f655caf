"""``extends``: variants of a base (a relative path or a built-in name) merge element lists by id;
every issue and every element's line points at the file the element came from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from redline.scenario.errors import ScenarioError
from redline.scenario.loader import load_scenario

from .support import BASE, BUILTIN

CONVOY = BUILTIN / "convoy-strike.yaml"
CONVOY_LINES = CONVOY.read_text(encoding="utf-8").splitlines()
BASE_TEXT = BASE.read_text(encoding="utf-8")

VARIANT_BODY = """\
id: convoy-variant
title: Convoy strike, a firmer Poland

red_lines:
  - id: polish_soil
    name: no attack on Polish territory, firmly held
    owner: POL
    crossing: "attack:*->POL"
    response: retaliate
    credibility: {initial: 0.95, rise: 0.05, decay: 0.95}
    assumption: a firmer Poland

doctrines:
  - id: poland_hits_back
    actor: POL
    when: 'now("attack:RUS->POL")'
    action: retaliate
    probability: 0.5
    assumption: Poland answers some strikes at once
"""


def _line_of(lines: list[str], text: str) -> int:
    hits = [i + 1 for i, line in enumerate(lines) if text in line]
    assert len(hits) == 1, (text, hits)
    return hits[0]


def _variant(tmp_path: Path, extends: str) -> Path:
    path = tmp_path / "variants" / "firm_poland.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"extends: {extends}\n{VARIANT_BODY}", encoding="utf-8")
    return path


def _relative_to_builtin(tmp_path: Path) -> str:
    return os.path.relpath(CONVOY, tmp_path / "variants")


@pytest.mark.parametrize("how", ["relative path", "built-in name", "built-in file name"])
def test_variant_overrides_and_adds(how: str, tmp_path: Path) -> None:
    extends = {
        "relative path": _relative_to_builtin(tmp_path),
        "built-in name": "convoy-strike",
        "built-in file name": "convoy-strike.yaml",
    }[how]
    path = _variant(tmp_path, extends)
    base = load_scenario("convoy-strike").scenario
    loaded = load_scenario(path)
    s = loaded.scenario

    assert (s.id, s.title) == ("convoy-variant", "Convoy strike, a firmer Poland")
    # overridden by id, in place
    assert [r.id for r in s.red_lines] == [r.id for r in base.red_lines]
    firm = s.red_lines[1]
    assert firm.id == "polish_soil"
    assert firm.credibility.initial == 0.95
    assert firm.name == "no attack on Polish territory, firmly held"
    assert s.red_lines[0] == base.red_lines[0]
    # added at the end
    assert [d.id for d in s.doctrines] == [*(d.id for d in base.doctrines), "poland_hits_back"]
    # untouched sections come from the base
    for section in ("actors", "alliances", "actions", "variables", "levers", "lenses", "evidence"):
        assert getattr(s, section) == getattr(base, section), section
    assert s.time == base.time
    assert loaded.digest != load_scenario("convoy-strike").digest


def test_element_lines_point_at_their_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _variant(tmp_path, _relative_to_builtin(tmp_path))
    monkeypatch.chdir(tmp_path)
    doc = load_scenario("variants/firm_poland.yaml").source
    variant_lines = path.read_text(encoding="utf-8").splitlines()
    mine = "variants/firm_poland.yaml"

    # overridden element: the variant's lines, for the element and its keys
    assert doc.where(("red_lines", 1)) == (mine, _line_of(variant_lines, "- id: polish_soil"))
    assert doc.where(("red_lines", 1, "credibility", "initial")) == (
        mine,
        _line_of(variant_lines, "credibility: {initial: 0.95"),
    )
    # a key the override leaves out falls back to the override, not to the base's old line
    assert doc.where(("red_lines", 1, "against"))[0] == mine
    # appended element
    assert doc.where(("doctrines", 2, "action")) == (
        mine,
        _line_of(variant_lines, "action: retaliate"),
    )
    # elements kept from the base: the base's lines
    convoy_file = doc.where(("red_lines", 0))[0]
    assert Path(convoy_file).name == "convoy-strike.yaml"
    assert doc.where(("red_lines", 0, "response")) == (
        convoy_file,
        _line_of(CONVOY_LINES, "response: strike_convoy"),
    )
    assert doc.where(("doctrines", 1, "when"))[1] == _line_of(
        CONVOY_LINES, """when: 'happened("offer:RUS") and balance > 0.5'"""
    )
    file, line = doc.where(("actions", 0, "level"))
    assert file == convoy_file and CONVOY_LINES[line - 1].strip() == "level: 6"
    assert line > CONVOY_LINES.index("actions:")  # the first action's, not another element's


def test_variant_errors_name_the_variant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _variant(tmp_path, "convoy-strike")
    text = path.read_text(encoding="utf-8").replace(
        "    action: retaliate\n", "    action: retaliat\n"
    )
    path.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError) as info:
        load_scenario("variants/firm_poland.yaml")
    line = _line_of(text.splitlines(), "action: retaliat")
    assert [str(i) for i in info.value.issues] == [
        f"variants/firm_poland.yaml:{line}: doctrines[2].action: unknown action 'retaliat'; "
        "did you mean 'retaliate'? known: accept_settlement, collective_response, consult, "
        "nuclear_strike, offensive, offer_settlement, retaliate, send_aid, strike_convoy"
    ]


def _broken_base(tmp_path: Path) -> Path:
    """The corpus base with an unknown red-line response on line 78."""
    text = BASE_TEXT.replace(
        "    response: counter\n    credibility", "    response: countr\n    credibility"
    )
    assert text.splitlines()[77] == "    response: countr"
    path = tmp_path / "bases" / "broken.yaml"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    return path


def test_errors_in_the_base_name_the_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _broken_base(tmp_path)
    (tmp_path / "variant.yaml").write_text(
        "extends: bases/broken.yaml\n"
        "id: variant\n"
        "outcomes:\n"
        "  - id: quiet\n"
        '    when: "tension < 0.05 and stp > 3"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError) as info:
        load_scenario("variant.yaml")
    printed = [str(i) for i in info.value.issues]
    assert len(printed) == 2, printed
    assert printed[0].startswith(
        "bases/broken.yaml:78: red_lines[0].response: unknown action 'countr'"
    )
    assert printed[1].startswith("variant.yaml:5: outcomes[1].when: unknown name 'stp'")


def test_base_syntax_error_names_the_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "base.yaml").write_text("id: b\ntitle: [unclosed\n", encoding="utf-8")
    (tmp_path / "variant.yaml").write_text("extends: base.yaml\nid: v\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError) as info:
        load_scenario("variant.yaml")
    assert str(info.value).startswith("base.yaml:")
    assert "invalid YAML" in str(info.value)


def test_override_breaks_a_base_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The variant narrows who may take 'counter'; the base's red line (still owned by BLUE) is
    reported where it is written, in the base."""
    (tmp_path / "base.yaml").write_text(BASE_TEXT, encoding="utf-8")
    (tmp_path / "variant.yaml").write_text(
        "extends: base.yaml\n"
        "actions:\n"
        "  - id: counter\n"
        "    actors: [PACT]\n"
        "    tags: ['attack:PACT->RED']\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError) as info:
        load_scenario("variant.yaml")
    assert [str(i) for i in info.value.issues] == [
        "base.yaml:78: red_lines[0].response: action 'counter' may not be taken by 'BLUE' "
        "(its actors: PACT)"
    ]


def test_replaced_key_makes_base_dates_fall_outside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "base.yaml").write_text(BASE_TEXT, encoding="utf-8")
    (tmp_path / "short.yaml").write_text(
        "extends: base.yaml\ntime: {step: month, start: 2024-01-01, horizon: 3}\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError) as info:
        load_scenario("short.yaml")
    assert [str(i) for i in info.value.issues] == [
        "base.yaml:92: schedule[0].at: date 2024-06-01 is outside the horizon (steps 0..2)"
    ]


def test_chain_of_three(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.yaml").write_text(BASE_TEXT, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(
        "extends: a.yaml\nid: b\nparameters:\n  - id: p_invoke\n    value: 0.6\n", encoding="utf-8"
    )
    (tmp_path / "c.yaml").write_text(
        "extends: b.yaml\nid: c\nparameters:\n  - id: extra\n    value: 2\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    loaded = load_scenario("c.yaml")
    params = {p.id: p.value for p in loaded.scenario.parameters}
    assert params == {"p_invoke": 0.6, "extra": 2.0}
    assert loaded.scenario.id == "c"
    assert loaded.source.where(("parameters", 0, "value")) == ("b.yaml", 5)
    assert loaded.source.where(("parameters", 1, "value")) == ("c.yaml", 5)
    assert loaded.source.where(("variables", 0, "min")) == ("a.yaml", 47)
