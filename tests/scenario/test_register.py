"""The assumptions register lists every number that drives results — the logit actors' decision
parameters, red-line costs and action escalation scores among them — and, in the built-in
scenarios, every row is backed by a source quote or a stated assumption."""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from rich.console import Console

import redline
from redline.cli.explain_view import show_explanation
from redline.compile import compile_scenario, resolve
from redline.engine.kernel import run_chunk
from redline.scenario.explain import explain
from redline.scenario.loader import load_scenario
from redline.scenario.model import Scenario
from redline.scenario.register import RegisterRow, register

from .support import BUILTIN, run_cli

BUILTINS = sorted(BUILTIN.glob("*.yaml"))


def _load(path: Path) -> Scenario:
    return load_scenario(path).scenario


def _rows(s: Scenario, element: str) -> dict[str, RegisterRow]:
    return {r.name: r for r in register(s) if r.element == element}


def _shown(value: float | str) -> str:
    return " ".join(value.split()) if isinstance(value, str) else str(value)


@pytest.mark.parametrize("path", BUILTINS, ids=lambda p: p.stem)
def test_every_builtin_register_row_is_cited_or_an_assumption(path: Path) -> None:
    rows = register(_load(path))
    assert rows
    unsupported = [f"{r.element} {r.name} = {r.value}" for r in rows if r.status == "unsupported"]
    assert not unsupported, "unsupported register rows:\n" + "\n".join(unsupported)
    for r in rows:
        assert all(c.quote.strip() and c.source.strip() for c in r.citations), r
        if r.status == "assumption":
            assert r.assumption and r.assumption.strip(), r


@pytest.mark.parametrize("path", BUILTINS, ids=lambda p: p.stem)
def test_every_builtin_quote_supported_value_gives_its_reasoning(path: Path) -> None:
    """A value a quote supports only qualitatively says how the number follows from the quote
    (issue 13, item 9); one whose quote shows the mechanism but not the number is an assumption."""
    rows = register(_load(path))
    missing = [f"{r.element} {r.name}" for r in rows if r.kind == "qualitative" and not r.reasoning]
    assert not missing, "quoted values without reasoning:\n" + "\n".join(missing)
    for r in rows:
        if r.kind == "assumption" and r.citations:
            assert r.assumed and r.assumption, r


def test_numbers_assumption_rekinds_a_quoted_value_and_validate_asks_for_reasoning(
    tmp_path: Path,
) -> None:
    """Control: a quoted value whose reasoning is removed is flagged by validate (exit 0, a
    warning naming it); ``numbers: assumption`` with a reason makes it an assumption, still
    cited."""
    data = yaml.safe_load((BUILTIN / "convoy-strike.yaml").read_text(encoding="utf-8"))
    red_line = next(r for r in data["red_lines"] if r["id"] == "convoys")
    del red_line["assumption"], red_line["numbers"]
    file = tmp_path / "s.yaml"
    file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    rows = _rows(_load(file), "red_lines.convoys")
    assert {r.kind for r in rows.values()} == {"qualitative"}
    assert all(r.reasoning is None for r in rows.values())
    result = run_cli("validate", str(file))
    assert result.exit_code == 0
    (warning,) = [line for line in result.stderr.splitlines() if "reasoning" in line]
    assert "4 values supported by a quote without the reasoning" in warning
    assert "red_lines.convoys credibility.initial" in warning
    red_line["assumption"] = "the quote shows the line, not its credibility"
    red_line["numbers"] = "assumption"
    file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    rows = _rows(_load(file), "red_lines.convoys")
    assert {r.kind for r in rows.values()} == {"assumption"}
    assert all(r.citations for r in rows.values())  # the quote is still shown
    assert "reasoning" not in run_cli("validate", str(file)).stderr


@pytest.mark.parametrize("path", BUILTINS, ids=lambda p: p.stem)
def test_logit_actors_decision_parameters_are_in_the_register(path: Path) -> None:
    s = _load(path)
    logit = [a for a in s.actors if a.decision.kind == "logit"]
    assert logit, "every built-in scenario has a logit actor"
    for actor in s.actors:
        rows = _rows(s, f"actors.{actor.id}")
        d = actor.decision
        if d.kind != "logit":
            # the engine never reads a doctrine or scripted actor's lambda or weights
            assert not any(name.startswith("decision.") for name in rows), actor.id
            continue
        assert rows["decision.lambda"].value == _shown(d.rationality)
        for var, weight in d.weights.items():
            assert rows[f"decision.weights.{var}"].value == _shown(weight), (actor.id, var)
        assert rows["decision.escalation_cost"].value == _shown(d.escalation_cost)
        assert rows["decision.perception_noise"].value == _shown(d.perception_noise)


@pytest.mark.parametrize("path", BUILTINS, ids=lambda p: p.stem)
def test_red_line_costs_are_in_the_register(path: Path) -> None:
    s = _load(path)
    for red_line in s.red_lines:
        rows = _rows(s, f"red_lines.{red_line.id}")
        if red_line.cost is None:
            assert "cost" not in rows
        else:
            assert rows["cost"].value == _shown(red_line.cost), red_line.id


@pytest.mark.parametrize("path", BUILTINS, ids=lambda p: p.stem)
def test_action_escalation_in_the_register_is_the_compiled_score(path: Path) -> None:
    """Each action a logit actor may choose shows its escalation score — the one given, or the
    one its rung implies — and that is the score the compiled program uses."""
    s = _load(path)
    compiled = {a.id: a.escalation for a in compile_scenario(s).actions}
    logit = {a.id for a in s.actors if a.decision.kind == "logit"}
    shown = 0
    for action in s.actions:
        rows = _rows(s, f"actions.{action.id}")
        choosable = bool(logit & set(action.actors)) and action.requires.strip() != "false"
        if not choosable:
            assert "escalation" not in rows, action.id
            continue
        value = rows["escalation"].value
        assert float(value.split()[0]) == pytest.approx(compiled[action.id], abs=1e-4)
        if action.escalation is None:
            assert "rung" in value
        shown += 1
    assert shown


def test_register_flags_an_unsupported_decision_parameter() -> None:
    """Control: an actor whose lambda and weights have neither evidence nor assumption is
    flagged, and one line of assumption on the actor covers all its decision parameters."""
    data = yaml.safe_load((BUILTIN / "convoy-strike.yaml").read_text(encoding="utf-8"))
    polish = next(a for a in data["actors"] if a["id"] == "POL")
    del polish["assumption"]
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "s.yaml"
        file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        s = _load(file)
        rows = _rows(s, "actors.POL")
        assert {r.status for r in rows.values()} == {"unsupported"}
        assert {"decision.lambda", "decision.weights.aid", "decision.weights.balance"} <= set(rows)
        polish["assumption"] = "a stated reason"
        file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        rows = _rows(_load(file), "actors.POL")
        assert {r.status for r in rows.values()} == {"assumption"}


def test_explain_shows_decision_parameters_and_their_reason() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=400, color_system=None)
    show_explanation(explain(redline.load("nato-russia")), console, full=True)
    text = buffer.getvalue()
    lines = text.splitlines()
    register_at = next(i for i, line in enumerate(lines) if "Assumptions register" in line)
    rows = lines[register_at:]

    def block(element: str) -> list[str]:
        """An element's rows: its heading, then its values (indented) up to the next element."""
        start = next(i for i, line in enumerate(rows) if line.startswith(f"│ {element} "))
        end = next(i for i in range(start + 1, len(rows)) if re.match(r"│ \S", rows[i]))
        return rows[start:end]

    russia = block("actors.RUS")
    lam = next(line for line in russia if "decision.lambda" in line)
    assert "40.0" in lam
    assert any("decision.weights.balance" in line and "5.0" in line for line in russia)
    assert any("cost_aircraft" in line for line in block("red_lines.rl_aircraft"))
    # a cited row also shows its stated assumption
    assert "lambda 40: close to best response" in " ".join(rows)
    assert "0 unsupported" in text


# --------------------------------------------------------------- direct NATO–Russia war


@pytest.mark.parametrize(
    ("name", "lens", "article5", "war"),
    [
        ("nato-russia", "provocation_003", "article5", "nato_russia_war"),
        ("convoy-strike", "provocation", "article5", "war"),
    ],
)
def test_article5_invocation_is_not_war(
    name: str, lens: str | None, article5: str, war: str
) -> None:
    """Article 5 obliges "such action as it deems necessary": after an invocation the allies
    reinforce and may strike the launch sites, and war follows only if Russia answers those
    strikes. So invocation and war are different outcomes: some invocations never lead to war,
    and war never comes before the first invocation (Ukraine outside NATO)."""
    s = redline.load(name)
    program = compile_scenario(s, resolve(s, None, lens))
    ids = [o.id for o in program.outcomes]
    result = run_chunk(program, 3, np.arange(600, dtype=np.int64))
    invoked = result.first_hit[:, ids.index(article5)]
    at_war = result.first_hit[:, ids.index(war)]
    hit = invoked >= 0
    assert hit.sum() >= 5, "the check needs runs in which Article 5 is invoked"
    assert (at_war[hit] < 0).any(), "every invocation led to war"
    assert np.all(at_war[at_war >= 0] >= invoked[at_war >= 0])


def test_nato_war_outcome_reads_the_war_state() -> None:
    """War is a state (the variable war) that Russia's counterstrike on NATO or NATO fighting in
    Ukraine for a member Ukraine sets; allied strikes on the launch sites do not set it."""
    s = redline.load("nato-russia")
    war = next(o for o in s.outcomes if o.id == "nato_russia_war")
    assert war.when == "war >= 1" and not war.absorbing
    setters = {a.id for a in s.actions if "war" in a.effects}
    assert setters == {"counterstrike_nato", "defend_ukraine"}
    strike = next(a for a in s.actions if a.id == "strike_launch_sites")
    assert "attack:NATO->RUS" in strike.tags and "war" not in strike.effects
