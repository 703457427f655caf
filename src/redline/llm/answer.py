"""The answer a language model must give: one of the actions available to it and a short reason,
as a JSON object the request's schema describes; and its validation, which says what is wrong
with an answer that is not one (the message the model is shown when it is asked again)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: the longest reason kept (longer ones are cut, not refused)
MAX_REASON = 500


@dataclass(frozen=True)
class Choice:
    """A valid answer: the chosen action's id and the model's reason."""

    action: str
    reason: str


class InvalidAnswer(ValueError):
    """An answer that is not one available action with a reason; the message says why."""


def answer_schema(available: Sequence[str]) -> dict[str, Any]:
    """The JSON schema of an answer among ``available`` action ids (for ``response_format``)."""
    return {
        "type": "object",
        "properties": {
            "action": {"type": "string", "enum": list(available)},
            "reason": {"type": "string", "maxLength": MAX_REASON},
        },
        "required": ["action", "reason"],
        "additionalProperties": False,
    }


def response_format(available: Sequence[str]) -> dict[str, Any]:
    """The request's ``response_format``: a strict JSON schema of the answer."""
    return {
        "type": "json_schema",
        "json_schema": {"name": "decision", "strict": True, "schema": answer_schema(available)},
    }


def _unfenced(text: str) -> str:
    """The text inside a Markdown code fence, if the whole answer is one (some models add it
    even when asked for JSON)."""
    stripped = text.strip()
    if stripped.startswith("```") and stripped.endswith("```"):
        inner = stripped[3:-3]
        first, _, rest = inner.partition("\n")
        return rest if first.strip().lower() in ("", "json") else inner
    return stripped


def parse_answer(content: str | None, available: Sequence[str]) -> Choice:
    """The choice an answer makes, or :class:`InvalidAnswer` saying what is wrong with it."""
    if content is None or not content.strip():
        raise InvalidAnswer("the answer was empty")
    try:
        data = json.loads(_unfenced(content))
    except json.JSONDecodeError as exc:
        raise InvalidAnswer(f"the answer is not JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(data, dict):
        raise InvalidAnswer("the answer must be a JSON object with 'action' and 'reason'")
    action = data.get("action")
    reason = data.get("reason")
    if not isinstance(action, str):
        raise InvalidAnswer("the answer has no 'action' string")
    if action not in available:
        raise InvalidAnswer(
            f"'{action}' is not one of the available actions ({', '.join(available)})"
        )
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidAnswer("the answer has no 'reason' string")
    extra = sorted(set(data) - {"action", "reason"})
    if extra:
        raise InvalidAnswer(f"the answer has keys other than 'action' and 'reason': {extra}")
    return Choice(action, " ".join(reason.split())[:MAX_REASON])
