"""What can go wrong with the store's file, said as a user can act on it.

DuckDB reports a damaged file, a full disk, a read-only file system and a file another process
holds as exceptions whose text is meant for a developer (``IO Error: Could not set lock on
file ...``, ``Corrupt database file: computed checksum ...``, ``Failed to commit: Could not
write file ...: No space left on device``). :func:`store_failure` turns each into a
:class:`StoreUnavailable` whose one-line message names the store, says what is wrong with it
and what to do; anything else is left alone (it is not about the file).
"""

from __future__ import annotations

import re
from pathlib import Path

from redline.errors import UserError

#: DuckDB's way of naming the process that holds a database file
_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")
#: what DuckDB says about a file that is not (or no longer) a whole DuckDB database
_DAMAGED = (
    "corrupt database file",
    "could not read enough bytes",
    "not a valid duckdb database file",
    "invalid database file",
    "checksum",
)
_FULL = ("no space left on device", "disk full", "disk quota exceeded")
_READ_ONLY = ("read-only file system", "permission denied", "operation not permitted")


class StoreUnavailable(UserError):
    """The store's file cannot be used as asked (damaged, full, read-only, held)."""


class StoreDamaged(StoreUnavailable):
    """The file is not a whole DuckDB database: truncated, overwritten, or never one."""


class StoreFull(StoreUnavailable):
    """The device holding the store has no room for what a command had to write."""


class StoreReadOnly(StoreUnavailable):
    """The store cannot be written (a read-only file system, or no permission)."""


class StoreHeld(StoreUnavailable):
    """Another process has the store open and did not let go in time."""


def is_lock_conflict(exc: BaseException) -> bool:
    """Whether DuckDB refused to open a file because another process holds it."""
    return "lock" in str(exc).lower() and "conflicting" in str(exc).lower()


def holder(exc: BaseException) -> str:
    """Who holds the store, as DuckDB names it: ``another redline (PID 12, redline sweep …)``
    when that process is a redline, else ``another program (PID 12, /usr/bin/duckdb)``; just
    ``another process`` when DuckDB does not say."""
    found = _HOLDER.search(str(exc))
    if found is None:
        return "another process"
    pid, program = found["pid"], found["program"]
    command = _command_line(int(pid)) or program
    kind = "redline" if "redline" in command else "program"
    if len(command) > 80:
        command = command[:77] + "..."
    return f"another {kind} (PID {pid}: {command})"


def _command_line(pid: int) -> str | None:
    """A process's command line, where the system shows it (Linux's /proc)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    words = [w for w in raw.decode(errors="replace").split("\0") if w]
    # a console script runs as "python .../bin/redline ARGS": show it as "redline ARGS"
    for i, word in enumerate(words):
        if Path(word).name == "redline":
            return " ".join(["redline", *words[i + 1 :]])
    return " ".join(words) or None


def held(path: Path, exc: BaseException, waited: float) -> StoreHeld:
    """The store is held by another process and did not come free within ``waited`` s."""
    return StoreHeld(
        f"store {path} is held by {holder(exc)} and did not come free within {waited:.0f} s; "
        "wait for that command to finish and run this one again, or name another file with "
        "--store"
    )


def store_failure(path: Path, exc: BaseException, writing: bool = True) -> StoreUnavailable | None:
    """What an error from DuckDB (or the OS) says about the store file ``path``, opened to write
    it or (``writing`` false) only to read it, as a message a user can act on; ``None`` when it
    is not about the file."""
    text = str(exc)
    lowered = text.lower()
    detail = _detail(text)
    if any(word in lowered for word in _FULL):
        return StoreFull(
            f"no space left on the device of store {path} ({detail}); free some space, then "
            "run the same command again (what is stored is kept)"
        )
    if any(word in lowered for word in _DAMAGED):
        return StoreDamaged(
            f"{path} is not a redline store: the file is damaged or is not a DuckDB database "
            f"({detail}); restore it from a copy, or name another file with --store"
        )
    if any(word in lowered for word in _READ_ONLY) and not writing:
        return StoreReadOnly(f"cannot read store {path} ({detail})")
    if any(word in lowered for word in _READ_ONLY):
        return StoreReadOnly(
            f"cannot write to store {path} ({detail}); commands that only read it (results "
            "list, show, export, compare) still can; to store results, name a file you can "
            "write with --store"
        )
    return None


def _detail(text: str) -> str:
    """DuckDB's message without its category prefix and its advice links, on one line."""
    text = " ".join(text.split())
    text = re.sub(r"^(IO|TransactionContext|Invalid Input|Serialization) Error: ", "", text)
    text = re.sub(r"\s*See also https?://\S+", "", text)
    text = re.sub(
        r"computed checksum \d+ does not match stored checksum \d+ in block at location (\d+)",
        r"a checksum does not match at byte \1",
        text,
    )
    return text.rstrip(".") if len(text) <= 200 else text[:197] + "..."
