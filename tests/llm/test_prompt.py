"""The prompt is built from the scenario, not written for it: the actor (name, persona, weights as
goals), the situation (date, rung, variables in words, what happened since its last decision in
the story's own sentences), the actions available with their descriptions, the red lines it
faces with their credibility as it perceives it, and the evidence quotes. The words come from a
Jinja2 template the user can replace; a broken one is refused with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

import redline
from redline.llm.prompt import TemplateProblem

from .conftest import NATO_RUSSIA_LLM, TINY, endpoint
from .fake_model import FakeModel


def _user_messages(fake: FakeModel) -> list[str]:
    return [b["messages"][1]["content"] for b in fake.policy.bodies]


def test_the_prompt_tells_the_actor_its_situation(fake: FakeModel) -> None:
    redline.simulate(TINY, 6, seed=1, llm=endpoint(fake))
    system = fake.policy.bodies[0]["messages"][0]["content"]
    assert "You are the decision-maker of Redland (RED)" in system
    assert "You lead Redland, a cautious regional power." in system
    assert "lower 'Tension' (how close the two are to war) (weight 1)" in system
    users = _user_messages(fake)
    first = users[0]
    assert first.startswith("It is step 0 (Jan 2024) (turn 1 of 4).")
    assert "rung 1 of 11 of the escalation ladder: Peace" in first
    assert "- Tension: 0.2 (from 0 to 1) — how close the two are to war" in first
    assert "- strike: Strike the depot — a missile strike on Blueland's fuel depot" in first
    assert "[crosses: No strike on the depot]" in first
    assert (
        "- No strike on the depot (Blueland): threatened response: Retaliate; credibility" in first
    )
    assert "as you see it 0.6" in first
    assert "source: a briefing: “Any strike on the depot will be answered.”" in first
    assert "Nothing has happened since your last decision." in first
    # later steps tell what happened since: the story's own sentences, the summit of step 1
    later = [u for u in users if u.startswith("It is step 1 ")]
    assert later and all("scheduled" in u or "summit: " in u for u in later)
    assert any('Blueland chose "Patrol the border"' in u for u in later)


def test_nato_russia_with_a_language_model_for_russia(fake: FakeModel) -> None:
    results = redline.simulate(NATO_RUSSIA_LLM, 1, seed=0, llm=endpoint(fake))
    assert results.table.num_rows == 1
    first = _user_messages(fake)[0]
    system = fake.policy.bodies[0]["messages"][0]["content"]
    assert "You are the decision-maker of Russia (RUS)" in system
    assert "You lead Russia's war against Ukraine." in system
    assert "raise 'battlefield balance (positive favours Russia)' (weight 5)" in system
    assert "raise 'NATO looks hollow (what Russia gains from an unanswered provocation)'" in system
    assert "Jul 2023" in first
    assert "Red lines of others that some of your actions would cross" in first
    assert "credibility as you see it" in first
    assert "Actions available to you now:" in first and "- hold: Hold" in first
    assert "“" in first  # evidence quoted
    assert any("What happened since your last decision:" in u for u in _user_messages(fake))


def test_a_template_of_ones_own(fake: FakeModel, tmp_path: Path) -> None:
    mine = tmp_path / "mine.j2"
    mine.write_text(
        "{% macro system() %}You are {{ actor.name }}.{% endmacro %}\n"
        "{% macro user() %}Pick from {{ actions | map(attribute='id') | join(', ') }}."
        "{% endmacro %}\n"
    )
    redline.simulate(TINY, 2, seed=1, llm=endpoint(fake, template=mine))
    body = fake.policy.bodies[0]["messages"]
    assert body[0]["content"] == "You are Redland."
    assert body[1]["content"] == "Pick from hold, strike, wait_out."
    broken = tmp_path / "broken.j2"
    broken.write_text("{% macro system() %}\n{% if %}\n{% endmacro %}\n")
    with pytest.raises(TemplateProblem, match=r"broken.j2:2: "):
        redline.simulate(TINY, 2, llm=endpoint(fake, template=broken))
    unknown = tmp_path / "unknown.j2"
    unknown.write_text(
        "{% macro system() %}{{ nothing.here }}{% endmacro %}{% macro user() %}x{% endmacro %}"
    )
    with pytest.raises(TemplateProblem, match=r"unknown\.j2.*'nothing' is undefined"):
        redline.simulate(TINY, 2, llm=endpoint(fake, template=unknown))
