"""Load a scenario file: safe YAML, ``extends`` resolved, typed model, then every check.

``load_scenario`` either returns a fully checked :class:`LoadedScenario` or raises
:class:`ScenarioError` listing every problem with its file, line and element path.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from redline.scenario.errors import Issue, ScenarioError
from redline.scenario.model import Scenario
from redline.scenario.yamlsource import PathKey, SourceDoc, read_yaml

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


def resolve_path(name: str, relative_to: Path | None = None) -> Path:
    """A scenario path from a file name, a path relative to another file, or a built-in name."""
    candidate = Path(name)
    if relative_to is not None and not candidate.is_absolute():
        candidate = relative_to.parent / candidate
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


def _read_chain(path: Path) -> SourceDoc:
    """Read a file and, recursively, the scenarios it extends; return the merged document."""
    chain: list[SourceDoc] = []
    seen: list[Path] = []
    current: Path | None = path
    while current is not None:
        resolved = current.resolve()
        if resolved in seen:
            names = " -> ".join(_display(p) for p in [*seen, resolved])
            raise ScenarioError([Issue(chain[-1].file, chain[-1].where(("extends",))[1],
                                       "extends", f"extends cycle: {names}")])
        if len(seen) >= MAX_EXTENDS:
            raise ScenarioError([Issue(chain[-1].file, chain[-1].where(("extends",))[1],
                                       "extends", f"more than {MAX_EXTENDS} levels of extends")])
        seen.append(resolved)
        doc = read_yaml(current, _display(current))
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
            nxt = resolve_path(parent, current)
            if not nxt.exists():
                file, line = doc.where(("extends",))
                raise ScenarioError([Issue(file, line, "extends",
                                           f"base scenario '{parent}' not found")])
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


def pydantic_issues(error: ValidationError, doc: SourceDoc) -> list[Issue]:
    """pydantic errors as issues at the line of the offending value."""
    issues = []
    for err in error.errors():
        loc: list[str | int] = []
        node: Any = doc.data
        for part in err["loc"]:
            # pydantic adds union-member and discriminator names that are not data keys
            if (isinstance(node, dict) and isinstance(part, str) and part in node) or (isinstance(node, list) and isinstance(part, int) and part < len(node)):
                loc.append(part)
                node = node[part]
            elif err["type"] in ("missing", "extra_forbidden") and isinstance(part, str):
                loc.append(part)
                break
        file, line = doc.where(tuple(loc))
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "missing":
            message = "required key is missing"
        elif err["type"] == "string_pattern_mismatch":
            message = (f"'{err['input']}' is not a valid id (letters, digits and underscores, "
                       "dotted segments allowed)")
        issues.append(Issue(file, line, tuple(loc), message))
    # a union failing on every member reports once per member: keep the first per place
    unique: dict[tuple[str, int, str], Issue] = {}
    for issue in issues:
        unique.setdefault((issue.file, issue.line, str(issue.path)), issue)
    return list(unique.values())


def load_scenario(path: str | Path) -> LoadedScenario:
    """Load, merge, type and check a scenario; raise :class:`ScenarioError` if anything is wrong."""
    from redline.scenario.validate import validate

    resolved = resolve_path(str(path))
    doc = _read_chain(resolved)
    try:
        scenario = Scenario.model_validate(doc.data)
    except ValidationError as exc:
        raise ScenarioError(pydantic_issues(exc, doc)) from None
    loaded = LoadedScenario(scenario=scenario, source=doc, path=resolved)
    issues = validate(loaded)
    if issues:
        raise ScenarioError(issues)
    return loaded
