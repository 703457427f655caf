"""The scenarios a web page may read and write: the built-ins (read-only) and the files of one
workspace folder, under the same rules as a scenario's ``extends``: a plain file name, in the
folder, no ``..``, no absolute path, no symbolic link leading out of it."""

from __future__ import annotations

import functools
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from redline.errors import UserError
from redline.scenario.errors import ScenarioError
from redline.scenario.loader import MAX_EXTENDS, OutsideFolder, builtin_scenarios, resolve_path
from redline.scenario.yamlsource import MAX_FILE_BYTES, read_yaml

#: a workspace file's name: letters, digits, '-', '_' and '.', ending in .yaml or .yml
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\.ya?ml")

Kind = Literal["builtin", "workspace"]


@dataclass(frozen=True)
class ScenarioFile:
    """A scenario the page lists: where it is (``kind``, ``name``) and, read without checking,
    its id and title (empty when the file does not say)."""

    kind: Kind
    name: str
    id: str
    title: str
    description: str
    actors: tuple[str, ...] = ()
    levers: tuple[str, ...] = ()
    lenses: tuple[str, ...] = ()


class Workspace:
    """One folder of scenario files, and the built-ins beside them."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path(self, kind: str, name: str) -> Path:
        """The file of a built-in (by name) or of a workspace file (by file name), refused with
        a message when there is none or the name leads out of the workspace."""
        if kind == "builtin":
            found = builtin_scenarios().get(name)
            if found is None:
                raise NotFound(f"no built-in scenario named '{name}'")
            return found
        if kind != "workspace":
            raise UserError(f"a scenario is 'builtin' or 'workspace', got '{kind}'")
        if not FILE_NAME.fullmatch(name):
            raise UserError(
                f"'{name}' is not a workspace file name: letters, digits, '-', '_' and '.', "
                "ending in .yaml or .yml (no folders)"
            )
        try:  # the rule a scenario's extends follows: nothing outside the folder
            resolve_path(name, self.folder / ".workspace")
        except OutsideFolder as exc:
            raise UserError(f"'{name}': {exc}") from None
        return self.folder / name

    def read(self, kind: str, name: str) -> str:
        """A scenario file's text."""
        path = self.path(kind, name)
        if not path.is_file():
            raise NotFound(f"no scenario file '{name}' in the workspace")
        raw = path.read_bytes()
        if len(raw) > MAX_FILE_BYTES:
            raise UserError(f"'{name}' is larger than the limit of {MAX_FILE_BYTES:,} bytes")
        return raw.decode("utf-8", errors="replace")

    def write(self, name: str, text: str, *, new: bool = False) -> Path:
        """Save ``text`` as the workspace file ``name``, atomically (a crash leaves the old file
        or the new one, never half of one); ``new``: refused if the file exists."""
        path = self.path("workspace", name)
        data = text.encode("utf-8", errors="replace")
        if len(data) > MAX_FILE_BYTES:
            raise UserError(
                f"a scenario is at most {MAX_FILE_BYTES:,} bytes; this is {len(data):,}"
            )
        if new and (path.exists() or path.is_symlink()):
            raise UserError(f"'{name}' exists in the workspace; choose another name")
        if path.is_symlink():
            raise UserError(f"'{name}' is a symbolic link; redline writes only plain files")
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def listing(self) -> list[ScenarioFile]:
        """The built-ins, then the workspace's scenario files (by name)."""
        found = [
            _described("builtin", name, path, path.stat().st_mtime_ns)
            for name, path in builtin_scenarios().items()
        ]
        if self.folder.is_dir():
            for path in sorted(self.folder.iterdir()):
                if FILE_NAME.fullmatch(path.name) and path.is_file() and not path.is_symlink():
                    found.append(_described("workspace", path.name, path, path.stat().st_mtime_ns))
        return found


class NotFound(UserError):
    """A scenario or experiment the request names does not exist (a 404, not a 400)."""


@functools.lru_cache(maxsize=256)
def _described(kind: Kind, name: str, path: Path, mtime_ns: int) -> ScenarioFile:
    """What a listing shows of a file, read as YAML without checking (a broken file is listed
    with its name, so that it can be opened and mended), what it leaves out taken from the
    scenario it ``extends``; read again when the file changes (``mtime_ns``)."""
    info = _raw(path)
    return ScenarioFile(
        kind,
        name,
        str(info.get("id", "")),
        str(info.get("title", "")),
        str(info.get("description", "")),
        _ids(info.get("actors")),
        _ids(info.get("levers")),
        _ids(info.get("lenses")),
    )


def _raw(path: Path, depth: int = 0) -> dict[str, object]:
    """A scenario file's top-level keys as written, with those it leaves out from the file it
    extends (found under the loader's rules; at most :data:`MAX_EXTENDS` deep)."""
    info = dict(_top_level(path, path.stat().st_mtime_ns))
    base = info.get("extends")
    if isinstance(base, str) and depth < MAX_EXTENDS:
        try:
            parent = resolve_path(base, path)
        except OutsideFolder:
            return info
        if parent.is_file():
            return _raw(parent, depth + 1) | info
    return info


@functools.lru_cache(maxsize=256)
def _top_level(path: Path, mtime_ns: int) -> tuple[tuple[str, object], ...]:
    """A YAML file's top-level keys and values (none if it does not parse), read once for each
    version of the file (``mtime_ns``)."""
    try:
        data = read_yaml(path, path.name).data
    except ScenarioError:
        return ()
    return tuple((str(k), v) for k, v in data.items()) if isinstance(data, dict) else ()


def _ids(items: object) -> tuple[str, ...]:
    """The ids of a list of elements as written (what is not an element is left out)."""
    if not isinstance(items, list):
        return ()
    return tuple(str(x["id"]) for x in items if isinstance(x, dict) and "id" in x)
