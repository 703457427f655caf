"""What the command line says about itself and about counts: ``redline --version``, and nouns in
the number their count asks for (``1 configuration``, never ``1 configurations``)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import redline
from redline.cli import app
from redline.cli.app import counted


def test_version_prints_the_package_version_and_exits() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"redline {redline.__version__}\n"


def test_version_comes_before_any_command() -> None:
    """Eager: it answers even where a command would be missing or wrong."""
    result = CliRunner().invoke(app, ["--version", "no-such-command"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("redline ")


@pytest.mark.parametrize(
    ("n", "noun", "plural", "said"),
    [
        (1, "configuration", None, "1 configuration"),
        (2, "configuration", None, "2 configurations"),
        (0, "run", None, "0 runs"),
        (20_000, "run", None, "20,000 runs"),
        (1, "month", None, "1 month"),
        (36, "month", None, "36 months"),
        (1, "red line", None, "1 red line"),
        (3, "analysis", "analyses", "3 analyses"),
    ],
)
def test_a_count_names_its_noun_in_the_right_number(
    n: int, noun: str, plural: str | None, said: str
) -> None:
    assert counted(n, noun, plural) == said


def test_validate_counts_in_words(tmp_path: object) -> None:
    """``redline validate`` on a built-in scenario: its counts with their nouns."""
    result = CliRunner(env={"NO_COLOR": "1"}).invoke(app, ["validate", "convoy-strike"])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.stdout.split())
    assert "valid — " in flat
    assert "actors" in flat and "1 actors" not in flat and "horizon 24 months" in flat
