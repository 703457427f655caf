"""Load a scenario file: safe YAML, ``extends`` resolved, typed model, then every check.

``load_scenario`` either returns a fully checked :class:`LoadedScenario` or raises
:class:`ScenarioError` listing every problem with its file, line and element path.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from redline.scenario.errors import Issue, ScenarioError
from redline.scenario.model import Scenario
from redline.scenario.salvage import salvage
from redline.scenario.structure import pydantic_issues
from redline.scenario.validate import validate
from redline.scenario.yamlsource import PathKey, SourceDoc, parse_yaml, read_yaml

__all__ = [
    "MAX_EXTENDS",
    "LoadedScenario",
    "OutsideFolder",
    "builtin_dir",
    "builtin_scenarios",
    "load_scenario",
    "load_scenario_text",
    "merge_docs",
    "pydantic_issues",
    "resolve_path",
    "scenario_of",
]

#: how many ``extends`` a chain may have
MAX_EXTENDS = 8


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with where each of its values came from."""

    scenario: Scenario
    source: SourceDoc
    path: Path

    @property
    def digest(self) -> str:
        """A hash of the resolved scenario's content (``extends`` included)."""
        text = json.dumps(self.scenario.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def builtin_dir() -> Path:
    """The folder holding the built-in scenarios."""
    return Path(str(resources.files("redline") / "scenarios"))


def builtin_scenarios() -> dict[str, Path]:
    """Built-in scenario names (file stems) and their paths."""
    return {p.stem: p for p in sorted(builtin_dir().glob("*.yaml"))}


class OutsideFolder(ValueError):
    """A file named from another file (``extends``, an experiment's ``scenario``) that is not
    in that file's folder or below it."""


def resolve_path(name: str, relative_to: Path | None = None) -> Path:
    """A scenario path from a file name, a path relative to another file, or a built-in name.

    Relative to another file (its ``extends``, or an experiment file's ``scenario``), only a
    built-in name or a path inside that file's folder is accepted, symbolic links resolved: a
    scenario from a stranger must not make redline read other files (:class:`OutsideFolder`,
    raised before the other file is looked at)."""
    candidate = Path(name)
    if relative_to is not None:
        rule = (
            "must name a built-in scenario or a file in this file's folder or below it (no "
            "absolute paths, no '..'"
        )
        if candidate.is_absolute() or ".." in candidate.parts:
            builtins = builtin_scenarios()
            if candidate.stem in builtins and candidate.name in (name, f"{candidate.stem}.yaml"):
                return builtins[candidate.stem]
            raise OutsideFolder(rule + ")")
        folder = relative_to.parent
        candidate = folder / candidate
        # the real path, every symbolic link followed (the file, or a folder on the way)
        real, root = Path(os.path.realpath(candidate)), Path(os.path.realpath(folder))
        if not real.is_relative_to(root):
            raise OutsideFolder(
                f"{rule}, no symbolic links out of it): '{name}' leads outside the folder"
            )
    if candidate.exists():
        return candidate
    builtins = builtin_scenarios()
    stem = Path(name).stem if name.endswith((".yaml", ".yml")) else name
    if "/" not in name and stem in builtins:
        return builtins[stem]
    return candidate


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path.name if path.parent == builtin_dir() else str(path)


def _read_chain(path: Path, text: bytes | None = None) -> SourceDoc:
    """Read a file and, recursively, the scenarios it extends; return the merged document.
    ``text``: the first file's content as given (an editor's unsaved text), not as on disk."""
    chain: list[SourceDoc] = []
    seen: list[Path] = []
    current: Path | None = path
    while current is not None:
        resolved = current.resolve()
        if resolved in seen:
            names = " -> ".join(_display(p) for p in [*seen, resolved])
            raise ScenarioError(
                [
                    Issue(
                        chain[-1].file,
                        chain[-1].where(("extends",))[1],
                        "extends",
                        f"extends cycle: {names}",
                    )
                ]
            )
        if len(seen) >= MAX_EXTENDS:
            raise ScenarioError(
                [
                    Issue(
                        chain[-1].file,
                        chain[-1].where(("extends",))[1],
                        "extends",
                        f"more than {MAX_EXTENDS} levels of extends",
                    )
                ]
            )
        seen.append(resolved)
        shipped = resolved.parent == builtin_dir().resolve()  # a built-in: composed by libyaml
        doc = (
            parse_yaml(text, _display(current))
            if text is not None and not chain
            else read_yaml(current, _display(current), trusted=shipped)
        )
        if not isinstance(doc.data, dict):
            raise ScenarioError([Issue(doc.file, 1, "", "a scenario must be a YAML mapping")])
        chain.append(doc)
        parent = doc.data.get("extends")
        if parent is None:
            current = None
        elif not isinstance(parent, str):
            file, line = doc.where(("extends",))
            raise ScenarioError([Issue(file, line, "extends", "must be a file name")])
        else:
            try:
                nxt = resolve_path(parent, current)
            except ValueError as exc:
                file, line = doc.where(("extends",))
                raise ScenarioError([Issue(file, line, "extends", str(exc))]) from None
            if not nxt.exists():
                file, line = doc.where(("extends",))
                raise ScenarioError(
                    [Issue(file, line, "extends", f"base scenario '{parent}' not found")]
                )
            current = nxt
    merged = chain[-1]
    for child in reversed(chain[:-1]):
        merged = merge_docs(merged, child)
    return merged


def _is_element_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) and "id" in v for v in value)


def merge_docs(base: SourceDoc, child: SourceDoc) -> SourceDoc:
    """Overlay ``child`` on ``base``: element lists merge by id, anything else is replaced."""
    data: dict[str, Any] = dict(base.data)
    lines: dict[PathKey, tuple[str, int]] = {
        k: v for k, v in base.lines.items() if not k or k[0] not in child.data
    }
    for key, value in child.data.items():
        old = base.data.get(key)
        if _is_element_list(value) and _is_element_list(old):
            merged: list[Any] = list(old)
            origin: list[tuple[SourceDoc, int]] = [(base, i) for i in range(len(old))]
            index = {item["id"]: i for i, item in enumerate(old)}
            for j, item in enumerate(value):
                if item["id"] in index:
                    merged[index[item["id"]]] = item
                    origin[index[item["id"]]] = (child, j)
                else:
                    merged.append(item)
                    origin.append((child, j))
            data[key] = merged
            lines[(key,)] = child.where((key,))
            for new_i, (doc, old_i) in enumerate(origin):
                for path, where in doc.lines.items():
                    if path[:2] == (key, old_i):
                        lines[(key, new_i, *path[2:])] = where
        else:
            data[key] = value
            lines.update({k: v for k, v in child.lines.items() if k and k[0] == key})
    data.pop("extends", None)
    lines[()] = child.lines.get((), (child.file, 1))
    return SourceDoc(data=data, file=child.file, lines=lines)


def load_scenario(path: str | Path) -> LoadedScenario:
    """Load, merge, type and check a scenario; raise :class:`ScenarioError` if anything is wrong."""
    resolved = resolve_path(str(path))
    return _checked(_read_chain(resolved), resolved)


def load_scenario_text(text: str, path: Path) -> LoadedScenario:
    """Check ``text`` as the content of the scenario file ``path`` (which need not exist): its
    ``extends`` is resolved from ``path``'s folder under the same rules as a file's, and every
    problem is reported as :func:`load_scenario` reports it, at its line (an editor's unsaved
    text, checked as ``redline validate`` would check it once saved)."""
    return _checked(_read_chain(path, text.encode("utf-8", "surrogatepass")), path)


def _checked(doc: SourceDoc, resolved: Path) -> LoadedScenario:
    """A merged document typed and checked."""
    return LoadedScenario(scenario=scenario_of(doc), source=doc, path=resolved)


def scenario_of(doc: SourceDoc) -> Scenario:
    """The typed, checked scenario of a document (``extends`` already resolved); raise
    :class:`ScenarioError` with every problem found in one pass: the structural ones (unknown
    keys, wrong types, missing keys) and those of names, ranges and expressions in the rest."""
    try:
        scenario = Scenario.model_validate(doc.data)
    except ValidationError:
        issues, rest = salvage(doc)
        if rest is not None:
            issues += validate(rest.scenario, rest.doc, rest.leniency)
        raise ScenarioError(issues) from None
    issues = validate(scenario, doc)
    if issues:
        raise ScenarioError(issues)
    return scenario
