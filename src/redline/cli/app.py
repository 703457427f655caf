"""The typer app, its consoles, and how user mistakes become messages and exit codes."""

from __future__ import annotations

import atexit
import gc
import inspect
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from typer.core import TyperGroup

from redline.cli.command_index import COMMANDS
from redline.cli.lazy_group import LazyGroup
from redline.errors import ArgumentError, UserError, is_interruption
from redline.scenario.errors import ScenarioError

if TYPE_CHECKING:
    from typer._click import Command, Context

#: width for output that goes to a file or pipe (a terminal uses its own width)
PIPE_WIDTH = 240
out = Console(highlight=False, emoji=False, width=None if sys.stdout.isatty() else PIPE_WIDTH)
err = Console(
    stderr=True, highlight=False, emoji=False, width=None if sys.stderr.isatty() else PIPE_WIDTH
)

#: exit status for invalid input (scenario, options, files)
EXIT_INVALID = 2
#: exit status after Ctrl-C (128 + SIGINT, as a shell reports a process killed by it)
EXIT_INTERRUPTED = 130


class _App(typer.Typer):
    """The typer app; Ctrl-C while it builds its command line (before a command runs, where
    no command's handling can see it) is a word and exit 130, not a traceback."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except KeyboardInterrupt:
            err.print("interrupted")
            raise SystemExit(EXIT_INTERRUPTED) from None


class _Commands(LazyGroup):
    """``redline``'s commands: listed from :data:`~redline.cli.command_index.COMMANDS`, each
    imported and built when used, and summarised in one sentence (:func:`summarise`)."""

    index = COMMANDS

    @classmethod
    def source(cls) -> typer.Typer:
        return app

    def prepare(self, command: Command) -> None:
        summarise(command)

    def invoke(self, ctx: Context) -> Any:
        """Run the command; Ctrl-C where its own handling cannot see it (while its module is
        imported, typer builds it from its signature or hands it its options) is said as
        everywhere else, where typer would exit 130 without a word."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            interrupted()


app = _App(
    name="redline",
    cls=_Commands,
    help="Model, simulate and analyse escalation between states and alliances.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    """``--version``: print redline's version and stop."""
    if value:
        from redline.version import __version__

        out.print(f"redline {__version__}", markup=False, highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print redline's version and exit.",
        ),
    ] = False,
) -> None:
    """Model, simulate and analyse escalation between states and alliances."""


def interrupted() -> NoReturn:
    err.print("interrupted")
    raise typer.Exit(EXIT_INTERRUPTED)


def _quiet_interrupt_hook(previous: Callable[..., object]) -> Callable[..., object]:
    """A ``sys.excepthook`` for Ctrl-C that reaches the top of the ``redline`` program (while
    Python is still importing its modules): a word and exit 130, not a traceback."""

    def hook(kind: type[BaseException], value: BaseException, tb: object) -> object:
        if issubclass(kind, KeyboardInterrupt):
            with suppress(Exception):
                sys.stdout.flush()
                sys.stderr.write("interrupted\n")
                sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)
        return previous(kind, value, tb)

    return hook


if Path(sys.argv[0]).name in ("redline", "redline.exe") and not hasattr(sys, "ps1"):
    sys.excepthook = _quiet_interrupt_hook(sys.excepthook)


def _leave_objects_to_the_system() -> None:
    """At exit, the objects made so far are left out of the interpreter's last garbage
    collections (``gc.freeze``), which would walk every one of them — Numba's, pydantic's,
    pandas' — to free memory the process is about to give back: half a second at the end of
    a command that simulates. They are still released as the interpreter tears its modules
    down; only garbage in reference cycles is not collected, as the operating system takes
    the memory back anyway (files are closed where they are written, not by a collection)."""
    gc.freeze()


atexit.register(_leave_objects_to_the_system)


#: the command-line flag for each Python parameter the library's errors name
FLAGS = {
    "runs": "--runs",
    "seed": "--seed",
    "run": "--run",
    "chunk_size": "--chunk-size",
    "workers": "--workers",
    "threads": "--threads",
    "backend": "--backend",
    "levers": "--lever",
    "by": "--by",
    "name": "--name",
    "sample": "--sample",
    "lens": "--lens",
    "particles": "--particles",
    "replicates": "--replicates",
}


def flag_message(exc: UserError) -> str:
    """A user error as the command line says it: a library error's leading parameter name
    (``runs must be ...``) becomes the flag that sets it (``--runs must be ...``)."""
    message = str(exc)
    if isinstance(exc, ArgumentError):
        flag = FLAGS.get(exc.parameter)
        rest = message.removeprefix(exc.parameter)
        if flag is not None and rest != message and rest[:1] in (" ", ":"):
            return flag + rest
    return message


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """A count with its noun in the right number: ``1 configuration``, ``2 configurations``,
    ``20,000 runs`` (``plural`` where adding an s is wrong)."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


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
        fail(flag_message(exc))
    except KeyboardInterrupt:
        interrupted()
    except Exception as exc:
        if _is_validation_error(exc):  # options that build a validated model (experiment specs)
            from redline.scenario.wording import say

            errors = exc.errors()  # type: ignore[attr-defined]
            fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {say(e)}" for e in errors))
        if is_interruption(exc):  # Ctrl-C in a DuckDB query outside the store's own handling
            interrupted()
        raise


def _is_validation_error(exc: Exception) -> bool:
    """Whether ``exc`` is pydantic's ``ValidationError`` — looked up where pydantic is already
    loaded (a command that built a model did), so that the command line's start does not
    import it."""
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(exc, pydantic.ValidationError)


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


def summarise(command: Command) -> None:
    """Give ``command`` (or each command of a group, recursively) without a ``short_help`` the
    first sentence of its help, on one line: the command lists of ``--help`` show that, where
    they would show the help's first paragraph with its line breaks. A group keeps its own
    help line."""
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            summarise(sub)
    elif command.short_help is None and command.help:
        first = inspect.cleandoc(command.help).split("\n\n")[0].replace("\n", " ")
        command.short_help = _first_sentence(first)


def _first_sentence(text: str) -> str:
    """``text`` up to its first ``.`` or ``:`` outside parentheses that ends a sentence."""
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if ch in ".:" and depth == 0 and text[i + 1 : i + 2] in (" ", ""):
            return text[:i]
    return text
