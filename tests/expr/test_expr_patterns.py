"""Event patterns: '*' and '{A,B}' against a brute-force reference matcher."""

from __future__ import annotations

import functools

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from redline.scenario.expr import ExprError, compile_pattern, match_tags, validate_pattern

TAGS = ("attack:RUS->POL", "attack:RUS->LTU", "strike:USA->RUS", "ceasefire", "a.b(c)+[d]")


def reference(pattern: str, tag: str) -> bool:
    """Slow but obviously right: expand braces, then match '*' by recursion."""
    if "{" in pattern:
        start = pattern.index("{")
        end = pattern.index("}", start)
        return any(
            reference(pattern[:start] + option + pattern[end + 1 :], tag)
            for option in pattern[start + 1 : end].split(",")
        )

    @functools.cache
    def match(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(tag)
        if pattern[i] == "*":
            return match(i + 1, j) or (j < len(tag) and match(i, j + 1))
        return j < len(tag) and pattern[i] == tag[j] and match(i + 1, j + 1)

    return match(0, 0)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("attack:*", (0, 1)),
        ("*->POL", (0,)),
        ("{attack,strike}:*", (0, 1, 2)),
        ("*:{RUS,USA}->{POL,RUS}", (0, 2)),
        ("ceasefire", (3,)),
        ("cease", ()),
        ("*", (0, 1, 2, 3, 4)),
        ("a.b(c)+[d]", (4,)),
        ("a.b*", (4,)),
        ("a?b*", ()),
        ("{attack:*,cease*}", (0, 1, 3)),
    ],
)
def test_examples(pattern: str, expected: tuple[int, ...]) -> None:
    assert match_tags(pattern, TAGS) == expected


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "empty event pattern"),
        ("{a,b", "'{' is never closed"),
        ("a}", "'}' without a matching '{'"),
        ("{a,{b}}", "cannot be nested"),
        ("{a,}", "empty alternative"),
        ("{}", "empty alternative"),
        ("{a,b,c,d}" * 5, "too many alternatives"),
    ],
)
def test_invalid_patterns(pattern: str, message: str) -> None:
    with pytest.raises(ExprError, match=message) as info:
        validate_pattern(pattern, pos=7)
    assert info.value.pos == 7
    with pytest.raises(ExprError):
        compile_pattern(pattern)


piece = st.one_of(
    st.sampled_from(["a", "b", "*", "ab", "."]),
    st.lists(st.sampled_from(["a", "b", "ab", "*", "a*"]), min_size=1, max_size=3).map(
        lambda options: "{" + ",".join(options) + "}"
    ),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(piece, min_size=1, max_size=7).map("".join), st.text("ab.", max_size=9))
def test_agrees_with_the_reference_matcher(pattern: str, tag: str) -> None:
    try:
        compiled = compile_pattern(pattern)
    except ExprError as exc:  # seven groups can exceed the cap on alternatives: that is refused
        assert "too many alternatives" in exc.message
        assume(False)
    assert bool(compiled.fullmatch(tag)) == reference(pattern, tag)
