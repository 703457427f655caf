"""pydantic's complaints in the scenario's words.

pydantic says ``Input should be a valid dictionary or instance of Credibility``; a scenario
author wrote YAML, not Python, and needs ``must be a mapping with keys initial, rise, decay,
spillover; got the number 0.5``. :func:`say` turns one pydantic error into such a message: what
the value must be (in YAML terms: text, a number, a list, a mapping with these keys, one of these
words), what was written instead, and a close match where one is likely meant. No class name,
error code or documentation URL of pydantic's reaches the user.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Any

#: what a value of each of pydantic's type errors must be, in YAML's words
_MUST_BE = {
    "string_type": "text",
    "string_sub_type": "text",
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "int_parsing_size": "a whole number of reasonable size",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list ('- item' lines, or [a, b])",
    "tuple_type": "a list of two values, [first, second]",
    "dict_type": "a mapping (key: value lines, or {key: value})",
    "model_type": "a mapping (key: value lines, or {key: value})",
    "model_attributes_type": "a mapping (key: value lines, or {key: value})",
    "date_type": "a date, YYYY-MM-DD",
    "date_parsing": "a date, YYYY-MM-DD",
    "date_from_datetime_parsing": "a date, YYYY-MM-DD",
    "date_from_datetime_inexact": "a date without a time of day, YYYY-MM-DD",
    "datetime_type": "a date, YYYY-MM-DD",
    "finite_number": "a finite number (not inf or nan)",
    "none_required": "empty",
}

#: the bounds of pydantic's range errors, as words
_BOUND = {
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "above"),
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "below"),
}

#: the keys of a mapping a message lists at most
_KEYS_SHOWN = 12


def shown_value(value: Any) -> str:
    """What was written, as a message shows it: ``the number 0.5``, ``'high'``, ``a list``."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return f"the number {value:g}"
    if isinstance(value, str):
        text = " ".join(value.split())
        return f"'{text[:60]}…'" if len(text) > 60 else f"'{text}'"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}" if value else "an empty list"
    if isinstance(value, dict):
        return "a mapping" if value else "an empty mapping"
    return "a value of another kind"


def _got(err: Any) -> str:
    return f", got {shown_value(err.get('input'))}" if "input" in err else ""


def _with_keys(keys: Sequence[str] | None) -> str:
    if not keys:
        return ""
    shown = ", ".join(keys[:_KEYS_SHOWN]) + (", …" if len(keys) > _KEYS_SHOWN else "")
    return f" with keys {shown}"


def _choices(expected: str) -> list[str]:
    """The quoted words of pydantic's ``'a', 'b' or 'c'``."""
    return re.findall(r"'([^']*)'", expected)


def _one_of(words: Sequence[str], given: Any) -> str:
    listed = ", ".join(f"'{w}'" for w in words)
    message = f"must be one of {listed}"
    if isinstance(given, str):
        close = difflib.get_close_matches(given, list(words), n=1, cutoff=0.6)
        message += f", got '{given}'" + (f"; did you mean '{close[0]}'?" if close else "")
    else:
        message += _got({"input": given})
    return message


def must_be(err: Any) -> str | None:
    """What a type error says the value must be (``a number``), else None."""
    return _MUST_BE.get(err["type"])


def say(err: Any, keys: Sequence[str] | None = None) -> str:
    """One pydantic error (an item of ``ValidationError.errors()``) in the scenario's words;
    ``keys``: the keys the mapping at the error's place accepts, where known."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    given = err.get("input")
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping{_with_keys(keys) or ' (key: value lines, or {key: value})'}" + (
            _got(err)
        )
    if kind in _MUST_BE:
        return f"must be {_MUST_BE[kind]}{_got(err)}"
    if kind in _BOUND:
        key, words = _BOUND[kind]
        bound = ctx.get(key)
        shown = f"{bound:g}" if isinstance(bound, int | float) else str(bound)
        return f"must be {words} {shown}{_got(err)}"
    if kind == "multiple_of":
        return f"must be a multiple of {ctx.get('multiple_of')}{_got(err)}"
    if kind == "string_too_short":
        return (
            "must not be empty"
            if ctx.get("min_length") == 1
            else (f"must be at least {ctx.get('min_length')} characters long")
        )
    if kind == "string_too_long":
        return f"is too long: at most {ctx.get('max_length')} characters"
    if kind == "string_pattern_mismatch":
        return (
            f"'{given}' is not a valid id (letters, digits and underscores, dotted segments "
            "allowed)"
            if isinstance(given, str)
            else f"must be an id{_got(err)}"
        )
    if kind == "too_short":
        least = ctx.get("min_length")
        return f"needs at least {least} item{'s' if least != 1 else ''}{_got(err)}"
    if kind == "too_long":
        most = ctx.get("max_length")
        return f"takes at most {most} item{'s' if most != 1 else ''}{_got(err)}"
    if kind in ("literal_error", "enum"):
        return _one_of(_choices(str(ctx.get("expected", ""))), given)
    if kind == "union_tag_invalid":
        tags = _choices(str(ctx.get("expected_tags", "")))
        return f"'{_discriminator(ctx)}' " + _one_of(tags, ctx.get("tag"))
    if kind == "union_tag_not_found":
        return f"needs '{_discriminator(ctx)}', which says what kind of value this is"
    if kind in ("value_error", "assertion_error"):
        error = ctx.get("error")
        text = str(error) if error is not None else str(err.get("msg", ""))
        return re.sub(r"^(Value error|Assertion failed), ", "", text)
    return _plain(str(err.get("msg", "is not valid")))


def _discriminator(ctx: Any) -> str:
    """The key that says which kind a value is (pydantic quotes it: ``"'kind'"``)."""
    return str(ctx.get("discriminator", "kind")).strip("'")


def _plain(msg: str) -> str:
    """pydantic's own wording with its Python names taken out: the last resort for an error
    kind this module does not know (none the scenario model raises today)."""
    msg = re.sub(r"^Input should be", "must be", msg)
    msg = re.sub(r"\s*or instance of \w+", "", msg)
    msg = re.sub(r"\s*\[type=[^\]]*\]", "", msg)
    msg = re.sub(r"\s*For further information visit \S+", "", msg)
    return msg
