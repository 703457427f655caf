"""Files redline writes besides the store — exports and reports — and what they may replace.

Checked before any work is done:

- the store itself (named any way: another path, a symbolic or hard link) and its write-ahead
  log are never written over, ``--force`` or not;
- an existing file is written over only if redline wrote it as the same kind of output: a
  report (its ``generator`` tag says redline), a Parquet export (its metadata says redline), a
  CSV export (its header starts with redline's ``"point","run"``); anything else — a DuckDB
  file, notes, another program's data — only with ``--force``;
- a folder, a device, a named pipe, or a file in a folder that does not exist or that cannot
  be written (``/proc``, a read-only disk) is refused.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Literal

from redline.errors import UserError

Kind = Literal["csv", "parquet", "report"]

#: the store a command uses unless told another (here, where the CLI's options read it without
#: loading the store's DuckDB and Arrow)
DEFAULT_STORE = Path("redline.duckdb")

#: the key of redline's entry in a Parquet export's metadata
PARQUET_KEY = b"redline"
#: how an HTML report of redline says so near its top
REPORT_TAG = b'<meta name="generator" content="redline'
#: how a CSV export of redline starts
CSV_HEADER = b'"point","run"'

_WHAT = {"csv": "CSV export", "parquet": "Parquet export", "report": "report"}


def is_store_file(target: Path, store: Path) -> bool:
    """Whether ``target`` names the store or its write-ahead log, however it is spelled."""
    for path in (store, store.with_name(store.name + ".wal")):
        if os.path.realpath(target) == os.path.realpath(path):
            return True
        try:
            if os.path.samefile(target, path):
                return True
        except OSError:
            continue
    return False


def written_by_redline(target: Path, kind: Kind) -> bool:
    """Whether an existing file is an output of this kind that redline wrote."""
    try:
        with open(target, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    if head[8:12] == b"DUCK":  # a DuckDB database is never an output
        return False
    if kind == "report":
        return REPORT_TAG in head
    if kind == "csv":
        return head.startswith(CSV_HEADER)
    if not head.startswith(b"PAR1"):
        return False
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(target).metadata or {}
    except (OSError, ValueError):
        return False
    return PARQUET_KEY in metadata


def _check_writable(target: Path, folder: Path) -> None:
    """Refuse a folder this process cannot create files in (``/proc``, a read-only disk, no
    permission): outputs are written next to their destination under a temporary name and
    moved into place, so that is what is tried — with an empty file, removed at once."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{target.name}.", suffix=".tmp"):
            pass
    except OSError as exc:
        raise UserError(
            f"cannot write {target}: cannot create files in {folder} ({exc.strerror or exc}); "
            "name a file in a folder you can write"
        ) from None


def check_output(target: Path, kind: Kind, store: Path | None, force: bool = False) -> None:
    """Refuse to write ``target`` where that would destroy what is not ours to replace."""
    if store is not None and is_store_file(target, store):
        raise UserError(
            f"refusing to write the {_WHAT[kind]} to {target}: it is the store {store}, and "
            "every experiment in it would be lost; name another file"
        )
    if target.is_dir():
        raise UserError(f"cannot write {target}: it is a folder; give a file name")
    if target.exists() and not target.is_file():
        raise UserError(
            f"cannot write {target}: it is not a regular file (a device, a named pipe or a "
            "socket); give a file name"
        )
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(f"cannot write {target}: folder {folder} does not exist")
    _check_writable(target, folder)
    if force or not os.path.lexists(target):
        return
    if not written_by_redline(target, kind):
        raise UserError(
            f"{target} already exists and is not a {_WHAT[kind]} written by redline; name "
            "another file, or add --force to write over it"
        )
