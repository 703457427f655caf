"""Check the rest of a scenario whose shape is wrong, so that one pass reports every problem.

pydantic refuses a document with an unknown key or a value of the wrong type, and without a typed
scenario no name, range or expression can be checked: a typo in an actor list would hide behind
an unknown key elsewhere until the author fixed that and ran again. :func:`salvage` removes what
pydantic refuses — the unknown key, the value of the wrong type, and where a required key is
missing or wrong, the smallest list item holding it (the element) — until the rest validates, and
says what it removed. The names of removed elements are still known (a reference to an action
whose ``requires`` has the wrong type is not an unknown action), and a check whose subject lost a
part is not reported (:class:`~redline.scenario.validate.Leniency`).

It gives up — reporting the structural problems only — where what is left is no scenario (a
required top-level key such as ``time`` is wrong), or after :data:`MAX_ROUNDS` rounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from redline.scenario.errors import Issue
from redline.scenario.model import Scenario
from redline.scenario.structure import kept, located_errors
from redline.scenario.validate import Leniency
from redline.scenario.yamlsource import PathKey, SourceDoc

#: rounds of removing what pydantic refuses (each removes at least one value; a round uncovers
#: a model's own checks, which run once its fields are valid)
MAX_ROUNDS = 8
#: sections whose elements emit events: removing part of one may hide an event a pattern needs
_EMITTERS = frozenset({"actions", "alliances", "red_lines", "doctrines", "schedule", "rules"})
#: keys of an emitting element whose loss may hide one of its events
_EVENT_KEYS = frozenset(
    {"id", "kind", "tags", "actors", "owner", "response", "action", "clauses", "members"}
)
#: required top-level keys no check reads: a stand-in lets the rest be checked
_STAND_INS: dict[PathKey, str] = {("id",): "scenario", ("title",): "untitled"}


@dataclass(frozen=True)
class Salvaged:
    """What is left of a document once the parts pydantic refuses are removed: the typed
    scenario, the document it was read from (each value at its original line) and what a check
    of it must allow for."""

    scenario: Scenario
    doc: SourceDoc
    leniency: Leniency


def _under(path: PathKey, removed: set[PathKey]) -> bool:
    """Whether ``path`` is a removed path or inside one (a look-up per prefix: however many
    values were removed, each check costs the path's length)."""
    return any(path[:cut] in removed for cut in range(1, len(path) + 1))


def _item_of(path: PathKey) -> PathKey | None:
    """The innermost list item holding ``path`` (an element, a clause, an option), if any."""
    for cut in range(len(path), 0, -1):
        if isinstance(path[cut - 1], int):
            return path[:cut]
    return None


class _Rebuilt:
    """The original document without the removed paths, with the original path of each value
    (list items after a removed one move up: their paths change, their lines do not)."""

    def __init__(self, doc: SourceDoc, removed: list[PathKey]) -> None:
        self.source = doc
        self.removed = set(removed)
        self.origin: dict[PathKey, PathKey] = {}
        self.doc = SourceDoc(data=None, file=doc.file)
        self.doc.data = self._copy(doc.data, (), ())
        for path, stand_in in _STAND_INS.items():
            if path in self.removed:
                self.doc.data[path[0]] = stand_in

    def _copy(self, value: Any, new: PathKey, old: PathKey) -> Any:
        self.origin[new] = old
        if old in self.source.lines:
            self.doc.lines[new] = self.source.lines[old]
        if isinstance(value, dict):
            return {
                key: self._copy(item, (*new, key), (*old, key))
                for key, item in value.items()
                if (*old, key) not in self.removed
            }
        if isinstance(value, list):
            kept_items = [(i, v) for i, v in enumerate(value) if (*old, i) not in self.removed]
            return [self._copy(v, (*new, j), (*old, i)) for j, (i, v) in enumerate(kept_items)]
        return value

    def original(self, path: PathKey) -> PathKey:
        """The original path of ``path`` in the rebuilt document (a key below a recorded value,
        such as a missing key, keeps its name)."""
        for cut in range(len(path), -1, -1):
            found = self.origin.get(path[:cut])
            if found is not None:
                return (*found, *path[cut:])
        return path


def _node(doc: SourceDoc, path: PathKey) -> Any:
    """The value at ``path`` of the original document (None for a key it does not have)."""
    node: Any = doc.data
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _ids(doc: SourceDoc, removed: list[PathKey]) -> frozenset[str]:
    """The ids of the list items removed whole (or of every item of a section removed whole):
    their names are still known."""
    found: set[str] = set()
    for path in removed:
        if len(path) == 1 or isinstance(path[-1], int):
            node = _node(doc, path)
            items = node if len(path) == 1 and isinstance(node, list) else [node]
            found.update(
                item["id"]
                for item in items
                if isinstance(item, dict) and isinstance(item.get("id"), str)
            )
    return frozenset(found)


def _lost(doc: SourceDoc, removed: list[PathKey]) -> frozenset[str]:
    """The top-level sections removed whole (a list of the wrong type), or that lost an element
    whose id cannot be read: no reference to an element of theirs can be checked."""
    lost: set[str] = set()
    for path in removed:
        if len(path) == 1 and path not in _STAND_INS:
            lost.add(str(path[0]))
        elif len(path) == 2 and isinstance(path[1], int):
            node = _node(doc, path)
            if not (isinstance(node, dict) and isinstance(node.get("id"), str)):
                lost.add(str(path[0]))
    return frozenset(lost)


def salvage(doc: SourceDoc) -> tuple[list[Issue], Salvaged | None]:
    """The structural problems of ``doc`` (unknown keys, wrong types, missing keys) and, unless
    it cannot be typed without a required top-level part, what is left of it typed."""
    issues: dict[tuple[PathKey, str], Issue] = {}
    removed: list[PathKey] = []
    gone: set[PathKey] = set()  # the same, for look-ups
    current = _Rebuilt(doc, removed)
    for _ in range(MAX_ROUNDS):
        try:
            scenario = Scenario.model_validate(current.doc.data)
        except ValidationError as exc:
            found = located_errors(exc, current.doc, Scenario)
        else:
            emitters = any(
                path[0] in _EMITTERS and (len(path) <= 2 or bool(_EVENT_KEYS & set(path[2:])))
                for path in removed
            )
            leniency = Leniency(
                current.original, _ids(doc, removed), emitters, tuple(removed), _lost(doc, removed)
            )
            return list(issues.values()), Salvaged(scenario, current.doc, leniency)
        for item in kept(found):
            path = current.original(item.loc)
            if not _under(path, gone):
                file, line = doc.where(path)
                issues.setdefault(
                    (path, item.issue.message), Issue(file, line, path, item.issue.message)
                )
        targets: list[PathKey] = []
        chosen: set[PathKey] = set()
        for item in found:
            path = current.original(item.loc)
            target = _item_of(path) if item.kind == "missing" else path
            if target is None and path in _STAND_INS:
                target = path
            if not target:  # a required top-level key, or the whole document
                return list(issues.values()), None
            if not _under(target, gone) and target not in chosen:
                targets.append(target)
                chosen.add(target)
        if not targets:
            return list(issues.values()), None
        removed.extend(targets)
        gone.update(targets)
        current = _Rebuilt(doc, removed)
    return list(issues.values()), None
