"""Event patterns: ``*`` matches any run of characters, ``{A,B}`` any one alternative.

Patterns compile to regular expressions that cannot backtrack catastrophically: alternatives are
expanded (at most MAX_ALTERNATIVES plain globs) and each glob commits to the leftmost occurrence
of each middle segment, the classic linear-time glob match.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Sequence

from redline.core.expr import ExprError

#: the most plain globs a pattern may expand to
MAX_ALTERNATIVES = 256
#: the most characters its expansion may have in all
MAX_EXPANDED_CHARS = 20_000


def validate_pattern(pattern: str, pos: int = 0) -> None:
    """Raise ExprError if ``pattern`` is not a valid event pattern."""
    _expand(pattern, pos)


def _expand(pattern: str, pos: int) -> tuple[str, ...]:
    """The plain globs (only ``*`` special) that ``pattern`` stands for."""
    if not pattern:
        raise ExprError("empty event pattern", pos)
    globs = [""]
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "}":
            raise ExprError(f"pattern '{pattern}': '}}' without a matching '{{'", pos)
        if ch != "{":
            globs = [g + ch for g in globs]
            i += 1
            continue
        close = pattern.find("}", i + 1)
        if close < 0:
            raise ExprError(f"pattern '{pattern}': '{{' is never closed", pos)
        body = pattern[i + 1 : close]
        if "{" in body:
            raise ExprError(f"pattern '{pattern}': '{{...}}' groups cannot be nested", pos)
        options = body.split(",")
        if any(not option for option in options):
            raise ExprError(f"pattern '{pattern}': empty alternative in '{{{body}}}'", pos)
        if len(globs) * len(options) > MAX_ALTERNATIVES:
            raise ExprError(
                f"pattern '{pattern}' has too many alternatives (more than {MAX_ALTERNATIVES})",
                pos,
            )
        globs = [g + option for g in globs for option in dict.fromkeys(options)]
        if sum(len(g) for g in globs) > MAX_EXPANDED_CHARS:
            raise ExprError(f"pattern '{pattern}' is too large", pos)
        i = close + 1
    return tuple(dict.fromkeys(globs))


def _glob_regex(glob: str) -> str:
    """A backtracking-safe regex for one plain glob (anchored by the caller)."""
    segments = glob.split("*")
    if len(segments) == 1:
        return re.escape(glob)
    middle = "".join(f"(?>.*?{re.escape(s)})" for s in segments[1:-1] if s)
    return f"{re.escape(segments[0])}{middle}.*{re.escape(segments[-1])}"


@functools.lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a valid pattern to a regex whose ``fullmatch`` tells whether a tag matches."""
    body = "|".join(_glob_regex(glob) for glob in _expand(pattern, 0))
    return re.compile(rf"\A(?:{body})\Z", re.DOTALL)


def match_tags(pattern: str, tags: Sequence[str]) -> tuple[int, ...]:
    """Indices of the tags that ``pattern`` matches."""
    regex = compile_pattern(pattern)
    return tuple(i for i, tag in enumerate(tags) if regex.fullmatch(tag))


_WORD = re.compile(r"[A-Za-z0-9_]+")


def close_pattern(pattern: str, tags: Sequence[str]) -> str | None:
    """A pattern close to ``pattern`` that matches some of ``tags``, for "did you mean": each
    word no tag has replaced by the closest word the tags have (``atack:RED->*`` becomes
    ``attack:RED->*``), else the closest tag itself; None when nothing is close."""
    words = sorted({w for tag in tags for w in _WORD.findall(tag)})
    known = set(words)

    def fixed(match: re.Match[str]) -> str:
        word = match.group()
        if word in known:
            return word
        close = difflib.get_close_matches(word, words, n=1, cutoff=0.6)
        return close[0] if close else word

    candidate = _WORD.sub(fixed, pattern)
    if candidate != pattern:
        try:
            if match_tags(candidate, tags):
                return candidate
        except ExprError:
            pass
    close = difflib.get_close_matches(pattern, list(dict.fromkeys(tags)), n=1, cutoff=0.6)
    return close[0] if close else None
