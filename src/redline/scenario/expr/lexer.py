"""Tokenizer: turns source text into tokens with their offsets, rejecting anything else."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from redline.core.expr import ExprError

TokenKind = Literal["num", "name", "str", "op", "kw", "end"]

#: words that cannot be names; ``True``/``False`` are spellings of ``true``/``false``
KEYWORDS = {"and": "and", "or": "or", "not": "not", "true": "true", "false": "false"}
KEYWORDS |= {"True": "true", "False": "false"}

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
NAME_RE = re.compile(rf"{IDENT}(?:\.{IDENT})*", re.ASCII)
NUMBER_RE = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)

_TOKEN_RE = re.compile(
    rf"""
    (?P<ws>[ \t\r\n]+)
    |(?P<num>{NUMBER_RE.pattern})
    |(?P<name>{NAME_RE.pattern})
    |(?P<str>'[^'\r\n]*'|"[^"\r\n]*")
    |(?P<op>\*\*|<=|>=|==|!=|[-+*/%<>(),])
    """,
    re.VERBOSE | re.ASCII,
)

_HINTS = {
    "&": "; use 'and'",
    "|": "; use 'or'",
    "!": "; use 'not'",
    "=": "; use '==' to compare",
    "[": "; subscripts are not part of the language",
    "^": "; use '**' for powers",
    ".": "; names are letters, digits and '_' joined by single dots",
}


@dataclass(frozen=True)
class Token:
    """One token: its kind, its text (normalised for keywords) and its offset."""

    kind: TokenKind
    text: str
    pos: int


def describe_char(ch: str) -> str:
    """A readable rendering of one character for error messages."""
    if ch.isascii() and ch.isprintable():
        return f"'{ch}'"
    return f"character U+{ord(ch):04X}"


def tokenize(source: str) -> list[Token]:
    """Split ``source`` into tokens, ending with an ``end`` token; raise ExprError otherwise."""
    tokens: list[Token] = []
    pos = 0
    size = len(source)
    while pos < size:
        match = _TOKEN_RE.match(source, pos)
        if match is None:
            ch = source[pos]
            if ch in "'\"":
                raise ExprError("unterminated string (strings end on the same line)", pos)
            raise ExprError(f"unexpected {describe_char(ch)}{_HINTS.get(ch, '')}", pos)
        kind = match.lastgroup
        text = match.group()
        if kind == "num":
            end = match.end()
            if end < size and (source[end].isalnum() or source[end] in "._"):
                raise ExprError(f"malformed number '{text}{source[end]}'", pos)
            tokens.append(Token("num", text, pos))
        elif kind == "name":
            tokens.append(_name_token(text, pos))
        elif kind == "str":
            tokens.append(Token("str", text[1:-1], pos))
        elif kind == "op":
            tokens.append(Token("op", text, pos))
        pos = match.end()
    tokens.append(Token("end", "", size))
    return tokens


def _name_token(text: str, pos: int) -> Token:
    """A keyword token, or a name token whose parts are not keywords."""
    if text in KEYWORDS:
        return Token("kw", KEYWORDS[text], pos)
    offset = 0
    for part in text.split("."):
        if part in KEYWORDS:
            raise ExprError(f"'{part}' is a keyword and cannot be part of a name", pos + offset)
        offset += len(part) + 1
    return Token("name", text, pos)
