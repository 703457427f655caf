"""Safe YAML loading that remembers the line of every value.

PyYAML's safe composer builds a node graph (no Python objects, no tags beyond the core schema);
we turn it into plain data ourselves so that we can record each value's line, refuse duplicate
keys, and cap the size of what aliases may expand to (the "billion laughs" bomb).
"""

from __future__ import annotations

import os
import stat
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

#: the only tags a mapping or sequence may carry (the implicit ones)
_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


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


def read_yaml(path: Path, display: str | None = None, *, trusted: bool = False) -> SourceDoc:
    """Read and compose one YAML file safely; raise :class:`ScenarioError` on any problem.
    ``trusted``: a file shipped with redline (see :func:`parse_yaml`)."""
    name = display or str(path)
    try:
        # opened without waiting (a named pipe would block until a writer came), then refused
        # unless it is a regular file: a pipe, a device (/dev/zero …) or a socket is not one
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as stream:
            mode = os.fstat(stream.fileno()).st_mode
            if stat.S_ISDIR(mode):
                raise IsADirectoryError(path)
            if not stat.S_ISREG(mode):
                raise ScenarioError(
                    [Issue(name, 0, "", "not a regular file (a named pipe, a device or a socket)")]
                )
            # never read more than the cap (a huge file …)
            raw = stream.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError([Issue(name, 0, "", "file not found")]) from None
    except IsADirectoryError:
        raise ScenarioError([Issue(name, 0, "", "is a directory, not a scenario file")]) from None
    except OSError as exc:
        raise ScenarioError([Issue(name, 0, "", f"cannot read: {exc.strerror}")]) from None
    return parse_yaml(raw, name, trusted=trusted)


def parse_yaml(raw: bytes, name: str, *, trusted: bool = False) -> SourceDoc:
    """Compose YAML bytes into a :class:`SourceDoc`. ``trusted`` text (a built-in scenario,
    shipped with redline) is composed by libyaml where PyYAML has it, about five times faster
    (0.05 s for ``nato-russia`` against 0.24 s); anything else by the pure-Python composer,
    whose errors (problem, context, marks) the messages here are worded from and which refuses
    nesting beyond :data:`MAX_DEPTH` as it composes (libyaml words its errors otherwise and
    allows deeper nesting). Both give the same nodes and lines."""
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(
            [Issue(name, 0, "", f"file is larger than the limit of {MAX_FILE_BYTES:,} bytes")]
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
        node = yaml.compose(text, Loader=_TRUSTED if trusted else _DepthLimitedLoader)
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        message = f"invalid YAML: character U+{exc.character:04X} is not allowed ({exc.reason})"
        raise ScenarioError([Issue(name, line, "", message)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        problem = exc.problem or exc.context or "invalid YAML"
        context = exc.context_mark
        if exc.problem and exc.context and context is not None and context.line + 1 != line:
            # e.g. "expected ',' or '}' ... (while parsing a flow mapping started on line 94)"
            problem += f" ({exc.context} started on line {context.line + 1})"
        if mark is not None:
            problem += _expression_hint(text, mark.line)
        raise ScenarioError([Issue(name, line, "", f"invalid YAML: {problem}")]) from None
    except yaml.YAMLError as exc:
        message = " ".join(str(exc).split())
        raise ScenarioError([Issue(name, 0, "", f"invalid YAML: {message}")]) from None
    if node is None:
        raise ScenarioError([Issue(name, 0, "", "file holds no YAML document")])
    doc = SourceDoc(data=None, file=name)
    builder = _Builder(doc)
    doc.data = builder.build(node, (), 0)
    return doc


def _expression_hint(text: str, line: int) -> str:
    """Where the line YAML stumbled on holds an expression (a call in parentheses), how to
    quote it: an unquoted ``happened(blockade: CHN)`` is a mapping to YAML, and
    ``"happened("blockade:CHN")"`` ends at its second quote."""
    lines = text.splitlines()
    if not 0 <= line < len(lines) or "(" not in lines[line]:
        return ""
    return (
        "; an expression with ': ' or quotes in it is quoted as a whole, in single quotes: "
        """when: 'happened("blockade:CHN")'"""
    )


class _DepthLimitedLoader(yaml.SafeLoader):
    """The safe loader, refusing nesting deeper than :data:`MAX_DEPTH` while composing (PyYAML's
    composer recurses once per level, so a deep document would otherwise exhaust the stack)."""

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH + 1:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(
                    None, None, f"nesting deeper than {MAX_DEPTH} levels", mark
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


#: the composer for trusted text: libyaml's where PyYAML was built with it
_TRUSTED: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(
    yaml, "CSafeLoader", _DepthLimitedLoader
)


class _Builder:
    """Turns a composed node graph into plain data, recording lines and enforcing limits."""

    def __init__(self, doc: SourceDoc) -> None:
        self.doc = doc
        self.count = 0
        self.open: set[int] = set()  # the collections being built, to catch recursive aliases
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
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in _PLAIN_TAGS:
            # the safe constructor is bypassed for collections, so refuse tags here
            raise self._fail(node, path, f"YAML tag '{node.tag}' is not allowed")
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            if id(node) in self.open:
                raise self._fail(node, path, "recursive alias (a value that contains itself)")
            self.open.add(id(node))
            try:
                return self._collection(node, path, depth)
            finally:
                self.open.discard(id(node))
        return self._scalar(node, path)

    def _collection(self, node: yaml.Node, path: PathKey, depth: int) -> Any:
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise self._fail(key_node, path, "YAML merge keys ('<<') are not supported")
                key = self._scalar(key_node, path)
                if not isinstance(key, str | int | float | bool) or key is None:
                    raise self._fail(key_node, path, "mapping keys must be plain scalars")
                skey = str(key)
                if skey in out:
                    raise self._fail(key_node, (*path, skey), f"duplicate key '{skey}'")
                # a value's line is its key's (a block value starts on the line below it)
                key_line = key_node.start_mark.line + 1
                self.doc.lines.setdefault((*path, skey), (self.doc.file, key_line))
                out[skey] = self.build(value_node, (*path, skey), depth + 1)
            return out
        return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]

    def _scalar(self, node: yaml.Node, path: PathKey) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self._fail(node, path, "mapping keys must be plain scalars")
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            raise self._fail(node, path, f"invalid value: {exc.problem}") from None
        except (ValueError, TypeError, OverflowError) as exc:
            # e.g. a timestamp like 2024-02-30 or an explicitly tagged !!int that is not one
            raise self._fail(node, path, f"invalid value '{node.value}': {exc}") from None
