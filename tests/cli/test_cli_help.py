"""``redline --help`` lists each command with one sentence, not its docstring's broken lines."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer
from typer.core import TyperGroup
from typer.main import get_command
from typer.testing import CliRunner

from redline.cli import app
from redline.cli.app import _first_sentence


def _commands(command: Any) -> Iterator[Any]:
    """Each command (not group) under ``command``, as the command line builds it."""
    if not isinstance(command, TyperGroup):
        yield command
        return
    ctx = typer.Context(command)
    for name in command.list_commands(ctx):
        yield from _commands(command.get_command(ctx, name))


def test_every_command_is_listed_with_one_sentence() -> None:
    commands = list(_commands(get_command(app)))
    assert len(commands) > 20
    for command in commands:
        summary = command.short_help
        assert summary, command.name
        assert "\n" not in summary and not summary.endswith((".", ":")), summary


def test_first_sentence_ends_outside_parentheses() -> None:
    assert _first_sentence("Run it (e.g. twice: or more). Then stop.") == (
        "Run it (e.g. twice: or more)"
    )
    assert _first_sentence("List the rungs: bottom to top") == "List the rungs"
    assert _first_sentence("No full stop") == "No full stop"


def test_help_lists_the_commands_sentences() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Tell one run (one configuration) as a story" in result.output
    # the rest of the story command's docstring is for `redline story --help`
    assert "what each actor did" not in result.output
