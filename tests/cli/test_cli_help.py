"""``redline --help`` lists each command with one sentence, not its docstring's broken lines."""

from __future__ import annotations

from collections.abc import Iterator

import typer
from typer.models import CommandInfo
from typer.testing import CliRunner

from redline.cli import app
from redline.cli.app import _first_sentence


def _commands(typer_app: typer.Typer) -> Iterator[CommandInfo]:
    yield from typer_app.registered_commands
    for group in typer_app.registered_groups:
        assert group.typer_instance is not None
        yield from _commands(group.typer_instance)


def test_every_command_is_listed_with_one_sentence() -> None:
    for command in _commands(app):
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
