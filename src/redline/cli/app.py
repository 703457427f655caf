"""The typer app, its consoles, and how user mistakes become messages and exit codes."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

from redline.errors import UserError
from redline.scenario.errors import ScenarioError

app = typer.Typer(
    name="redline",
    help="Model, simulate and analyse escalation between states and alliances.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
#: width for output that goes to a file or pipe (a terminal uses its own width)
PIPE_WIDTH = 240
out = Console(highlight=False, emoji=False, width=None if sys.stdout.isatty() else PIPE_WIDTH)
err = Console(
    stderr=True, highlight=False, emoji=False, width=None if sys.stderr.isatty() else PIPE_WIDTH
)

#: exit status for invalid input (scenario, options, files)
EXIT_INVALID = 2


def fail(message: str) -> NoReturn:
    """Print a message for a user's mistake and exit with status 2."""
    err.print("[bold red]error:[/] ", end="")
    err.print(message, markup=False, soft_wrap=True)
    raise typer.Exit(EXIT_INVALID)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a user can cause into messages and exit 2 — never a traceback."""
    try:
        yield
    except ScenarioError as exc:
        for issue in exc.issues:
            err.print(str(issue), markup=False, soft_wrap=True)
        n = len(exc.issues)
        err.print(f"[bold red]{n} problem{'s' if n != 1 else ''} found[/]")
        raise typer.Exit(EXIT_INVALID) from None
    except UserError as exc:
        fail(str(exc))
    except ValidationError as exc:  # options that build a validated model (experiment specs)
        fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None


def guarded(func: Callable[..., None]) -> Callable[..., None]:
    """Decorator form of :func:`user_errors` for command functions."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: object, **kwargs: object) -> None:
        with user_errors():
            func(*args, **kwargs)

    return wrapper


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()
