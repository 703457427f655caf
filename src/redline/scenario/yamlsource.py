"""Safe YAML loading that remembers the line of every value.

PyYAML's safe composer builds a node graph (no Python objects, no tags beyond the core schema);
we turn it into plain data ourselves so that we can record each value's line, refuse duplicate
keys, and cap the size of what aliases may expand to (the "billion laughs" bomb).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from redline.scenario.errors import Issue, ScenarioError

#: the largest scenario file accepted, in bytes
MAX_FILE_BYTES = 2_000_000
#: the most values a document may expand to (aliases included)
MAX_NODES = 200_000
#: the deepest nesting accepted
MAX_DEPTH = 64

PathKey = tuple[str | int, ...]


@dataclass
class SourceDoc:
    """Plain data from one YAML file, with the (file, line) of every value by its path."""

    data: Any
    file: str
    lines: dict[PathKey, tuple[str, int]] = field(default_factory=dict)

    def where(self, path: PathKey) -> tuple[str, int]:
        """The file and line of ``path``, or of its closest recorded ancestor."""
        for cut in range(len(path), -1, -1):
            hit = self.lines.get(path[:cut])
            if hit is not None:
                return hit
        return (self.file, 1)


def read_yaml(path: Path, display: str | None = None) -> SourceDoc:
    """Read and compose one YAML file safely; raise :class:`ScenarioError` on any problem."""
    name = display or str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError([Issue(name, 0, "", "file not found")]) from None
    except IsADirectoryError:
        raise ScenarioError([Issue(name, 0, "", "is a directory, not a scenario file")]) from None
    except OSError as exc:
        raise ScenarioError([Issue(name, 0, "", f"cannot read: {exc.strerror}")]) from None
    return parse_yaml(raw, name)


def parse_yaml(raw: bytes, name: str) -> SourceDoc:
    """Compose YAML bytes into a :class:`SourceDoc`."""
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(
            [Issue(name, 0, "", f"file is {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,}")]
        )
    if not raw.strip():
        raise ScenarioError([Issue(name, 0, "", "file is empty")])
    if b"\x00" in raw:
        raise ScenarioError([Issue(name, 0, "", "binary file (contains NUL bytes), not YAML")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError([Issue(name, line, "", "not UTF-8 text")]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        problem = exc.problem or exc.context or "invalid YAML"
        raise ScenarioError([Issue(name, line, "", f"invalid YAML: {problem}")]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([Issue(name, 0, "", f"invalid YAML: {exc}")]) from None
    if node is None:
        raise ScenarioError([Issue(name, 0, "", "file holds no YAML document")])
    doc = SourceDoc(data=None, file=name)
    builder = _Builder(doc)
    doc.data = builder.build(node, (), 0)
    return doc


class _Builder:
    """Turns a composed node graph into plain data, recording lines and enforcing limits."""

    def __init__(self, doc: SourceDoc) -> None:
        self.doc = doc
        self.count = 0
        self.constructor = yaml.SafeLoader("")

    def _fail(self, node: yaml.Node, path: PathKey, message: str) -> ScenarioError:
        return ScenarioError([Issue(self.doc.file, node.start_mark.line + 1, path, message)])

    def build(self, node: yaml.Node, path: PathKey, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self._fail(
                node, path, f"document expands to more than {MAX_NODES:,} values (alias bomb?)"
            )
        if depth > MAX_DEPTH:
            raise self._fail(node, path, f"nesting deeper than {MAX_DEPTH} levels")
        self.doc.lines.setdefault(path, (self.doc.file, node.start_mark.line + 1))
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self._scalar(key_node, path)
                if not isinstance(key, str | int | float | bool) or key is None:
                    raise self._fail(key_node, path, "mapping keys must be plain scalars")
                skey = str(key)
                if skey in out:
                    raise self._fail(key_node, (*path, skey), f"duplicate key '{skey}'")
                out[skey] = self.build(value_node, (*path, skey), depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _scalar(self, node: yaml.Node, path: PathKey) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self._fail(node, path, "mapping keys must be plain scalars")
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            raise self._fail(node, path, f"invalid value: {exc.problem}") from None
