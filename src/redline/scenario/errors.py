"""Scenario problems as data: each names the file, the line, the element path and what is wrong."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def format_path(path: Sequence[str | int] | str) -> str:
    """Render ``('red_lines', 2, 'response')`` as ``red_lines[2].response``."""
    if isinstance(path, str):
        return path
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclass(frozen=True)
class Issue:
    """One thing wrong with a scenario."""

    file: str
    line: int
    path: Sequence[str | int] | str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        path = format_path(self.path)
        return f"{where}: {path}: {self.message}" if path else f"{where}: {self.message}"


class ScenarioError(Exception):
    """A scenario was rejected; ``issues`` lists every problem found."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues = sorted(issues, key=lambda i: (i.file, i.line, format_path(i.path)))
        super().__init__("\n".join(str(i) for i in self.issues))


def suggest(name: str, known: Iterable[str], what: str) -> str:
    """``unknown action 'x'; did you mean 'y'? known: a, b`` with a close match if there is one."""
    options = sorted(set(known))
    message = f"unknown {what} '{name}'"
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    if close:
        message += f"; did you mean '{close[0]}'?"
    if not options:
        return message + f" (the scenario defines no {what}s)"
    shown = ", ".join(options[:12]) + (", …" if len(options) > 12 else "")
    return message + f" known: {shown}" if close else message + f"; known: {shown}"
