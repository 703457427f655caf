"""The answer a language model must give: one available action and a reason, as JSON. Whatever
text comes back, validation either gives a choice among the available actions or says what is
wrong (InvalidAnswer); it never fails otherwise."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from redline.llm.answer import MAX_REASON, InvalidAnswer, answer_schema, parse_answer

ids = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(st.lists(ids, min_size=1, max_size=6, unique=True), st.data())
def test_a_valid_answer_is_the_choice_it_names(actions: list[str], data: st.DataObject) -> None:
    pick = data.draw(st.sampled_from(actions))
    reason = data.draw(st.text(min_size=1, max_size=800).filter(lambda t: t.strip()))
    fenced = data.draw(st.booleans())
    text = json.dumps({"action": pick, "reason": reason})
    choice = parse_answer(f"```json\n{text}\n```" if fenced else text, actions)
    assert choice.action == pick
    assert choice.reason == " ".join(reason.split())[:MAX_REASON]


@settings(max_examples=60, deadline=None)
@given(st.lists(ids, min_size=1, max_size=6, unique=True), st.text(max_size=300))
def test_any_other_text_is_an_invalid_answer_or_a_choice_among_the_actions(
    actions: list[str], text: str
) -> None:
    try:
        choice = parse_answer(text, actions)
    except InvalidAnswer as exc:
        assert str(exc)
    else:
        assert choice.action in actions


def test_what_is_wrong_is_said() -> None:
    actions = ["hold", "strike"]
    cases = {
        "": "empty",
        "not json": "not JSON",
        "[1, 2]": "JSON object",
        '{"reason": "x"}': "no 'action'",
        '{"action": "nuke", "reason": "x"}': "'nuke' is not one of the available actions "
        "(hold, strike)",
        '{"action": "hold"}': "no 'reason'",
        '{"action": "hold", "reason": "x", "mood": 1}': "keys other than",
    }
    for text, words in cases.items():
        try:
            parse_answer(text, actions)
        except InvalidAnswer as exc:
            assert words in str(exc), (text, str(exc))
        else:
            raise AssertionError(f"{text!r} was accepted")


def test_the_schema_offers_only_the_available_actions() -> None:
    schema = answer_schema(["hold", "wait_out"])
    assert schema["properties"]["action"]["enum"] == ["hold", "wait_out"]
    assert schema["required"] == ["action", "reason"]
    assert schema["additionalProperties"] is False
