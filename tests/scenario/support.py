"""Shared helpers for the scenario tests: paths, the corpus and a CLI runner."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import yaml
from typer.testing import CliRunner

from redline.cli import app
from redline.cli.scenario_cmds import err, out
from redline.scenario.errors import Issue, format_path

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "corpus"
INVALID = CORPUS / "invalid"
VALID = CORPUS / "valid"
BASE = VALID / "base.yaml"
BUILTIN = REPO / "src" / "redline" / "scenarios"
#: the source documents the built-in scenarios quote: $REDLINE_SOURCES, else the shared folder
#: beside the repository (where this repository's CI has it)
SOURCES = Path(os.environ.get("REDLINE_SOURCES") or REPO.parent / "shared" / "sources")

T = TypeVar("T")


class WorkExceeded(BaseException):
    """Raised inside work that made more calls than its budget. A BaseException, so that no
    ``except Exception`` in the code under test can swallow it."""


def calls_made(work: Callable[[], T], budget: int) -> tuple[int, T | BaseException]:
    """How many Python and C function calls ``work`` makes, and what it returned or raised.

    A measure of work that, unlike seconds, does not depend on the machine or its load: hostile
    input is refused within a budget of calls, never "within N seconds". Work still going past
    ``budget`` is stopped (:class:`WorkExceeded`), so a regression fails instead of hanging."""
    count = 0

    def profile(_frame: FrameType, event: str, _arg: object) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1
            if count > budget:
                raise WorkExceeded(f"more than {budget:,} calls")

    outcome: T | BaseException
    saved = sys.getprofile()
    sys.setprofile(profile)
    try:
        outcome = work()
    except WorkExceeded:
        raise
    except Exception as error:  # the refusal under test, returned for the caller to inspect
        outcome = error
    finally:
        sys.setprofile(saved)
    return count, outcome


#: how many times the calls of loading the valid base a refusal may make: hostile input (an alias
#: bomb stopped at its node limit is the costliest, about 22 times) is refused within it, where
#: unbounded work (the bomb expanded: 387 million values) would exceed it many times over
REFUSAL_FACTOR = 40


@functools.cache
def refusal_budget() -> int:
    """The calls a refusal may make: :data:`REFUSAL_FACTOR` times loading the valid base (imports
    and caches warmed by a first load)."""
    from redline.scenario.loader import load_scenario

    load_scenario(BASE)
    count, outcome = calls_made(lambda: load_scenario(BASE), 10**9)
    assert not isinstance(outcome, BaseException), outcome
    return REFUSAL_FACTOR * count


@dataclass(frozen=True)
class Expected:
    """One issue a corpus file must produce: its line, printed path and a message substring."""

    line: int
    path: str
    message: str
    file: str | None = None  # where the issue is, when not in the file that was loaded

    def prefix(self, file: str) -> str:
        """``FILE:LINE: path: `` exactly as printed (no path part when the path is empty)."""
        file = self.file or file
        where = f"{file}:{self.line}" if self.line else file
        return f"{where}: {self.path}: " if self.path else f"{where}: "

    def found_in(self, file: str, lines: list[str]) -> bool:
        head = self.prefix(file)
        return any(line.startswith(head) and self.message in line[len(head) :] for line in lines)


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    count: int
    issues: tuple[Expected, ...]


def corpus_cases() -> list[Case]:
    """Every entry of tests/corpus/expected.yaml."""
    data: dict[str, Any] = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))
    return [
        Case(
            name,
            entry["description"],
            entry["count"],
            tuple(
                Expected(i["line"], i["path"], i["message"], i.get("file")) for i in entry["issues"]
            ),
        )
        for name, entry in sorted(data.items())
    ]


def issue_lines(issues: list[Issue]) -> list[str]:
    return [str(issue) for issue in issues]


def describe(issue: Issue) -> str:
    return f"{issue.file}:{issue.line}: {format_path(issue.path)}: {issue.message}"


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(*args: str, width: int | None = None) -> CliResult:
    """Run ``redline ARGS`` in-process; ``width`` widens the consoles (so tables do not wrap)."""
    runner = CliRunner(env={"NO_COLOR": "1"})
    saved = [console._width for console in (out, err)]
    try:
        if width is not None:
            out.width = err.width = width
        result = runner.invoke(app, list(args), catch_exceptions=True)
    finally:
        out._width, err._width = saved
    exception = result.exception
    if isinstance(exception, SystemExit):
        exception = None
    return CliResult(result.exit_code, result.stdout, result.stderr, exception)
