"""Structural problems — unknown keys, wrong types, missing keys — as issues at their lines.

pydantic checks the shape of a document against a model; :func:`located_errors` places each of
its errors at the value in the YAML it is about (pydantic's location also names union members
and discriminator tags, which are not keys of the data) and words it in the scenario's terms
(:mod:`redline.scenario.wording`). :func:`pydantic_issues` is what a loader reports.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from redline.scenario.errors import Issue
from redline.scenario.wording import must_be, say, shown_value
from redline.scenario.yamlsource import PathKey, SourceDoc


def _members(tp: Any) -> list[Any]:
    """The members of a union type, nested unions flattened, ``Annotated`` unwrapped."""
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    if get_origin(tp) in (Union, UnionType):
        return [m for arg in get_args(tp) for m in _members(arg)]
    return [tp]


def _is_member(member: Any, name: str) -> bool:
    """Whether pydantic's union-member ``name`` (class name or ``kind`` tag) means ``member``."""
    if not (isinstance(member, type) and issubclass(member, BaseModel)):
        return False
    kind = member.model_fields.get("kind")
    return member.__name__ == name or (kind is not None and name in get_args(kind.annotation))


def _model_keys(tp: Any) -> list[str] | None:
    """The keys a model accepts (the one model among a union's members), else None."""
    models = [m for m in _members(tp) if isinstance(m, type) and issubclass(m, BaseModel)]
    if len(models) != 1:
        return None
    return [f.alias or name for name, f in models[0].model_fields.items()]


def keys_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str] | None:
    """The keys the model accepts at pydantic location ``loc`` (None when it cannot tell)."""
    tp: Any = model
    for part in loc:
        while get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = next(
                (f for name, f in tp.model_fields.items() if part in (name, f.alias)), None
            )
            if field is None:
                return None
            tp = field.annotation
        elif get_origin(tp) is list and isinstance(part, int):
            tp = get_args(tp)[0]
        elif get_origin(tp) is dict and isinstance(part, str):
            tp = get_args(tp)[1]
        elif get_origin(tp) in (Union, UnionType) and isinstance(part, str):
            # pydantic names the union member: a class name, a discriminator tag, or a wrapper
            if part.startswith("tagged-union["):
                continue
            found = next((m for m in _members(tp) if _is_member(m, part)), None)
            if found is None:
                return None
            tp = found
        elif get_origin(tp) in (Union, UnionType) and isinstance(part, int):
            lists = [m for m in _members(tp) if get_origin(m) is list]
            if not lists:
                return None
            tp = get_args(lists[0])[0]
        else:
            return None
    return _model_keys(tp)


@dataclass(frozen=True)
class Located:
    """One pydantic error placed in the data: its issue, pydantic's error type, the path of the
    value (or, for a missing or unknown key, of that key) in the data, and whether it is a
    union member's complaint of the wrong type (noise when another member got further)."""

    issue: Issue
    kind: str
    loc: PathKey
    wrong_member: bool


def _data_loc(err: Any, data: Any) -> tuple[PathKey, bool]:
    """The path in ``data`` that ``err`` is about, and whether pydantic's location passed
    through a union member (names that are not keys of the data)."""
    loc: list[str | int] = []
    node: Any = data
    in_union = False
    # a missing or unknown key is the last part of the location, not in (or not wanted in) the
    # data; walk to its mapping first
    keyed = err["type"] in ("missing", "extra_forbidden")
    walk = err["loc"][:-1] if keyed else err["loc"]
    for part in walk:
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        if in_dict or (isinstance(node, list) and isinstance(part, int) and part < len(node)):
            loc.append(part)
            node = node[part]
        else:
            in_union = True
    if keyed:
        loc.append(err["loc"][-1])
    return tuple(loc), in_union


def _message(err: Any, model: type[BaseModel] | None) -> str:
    """An error in the scenario's words; an unknown key with the keys allowed there and a close
    match, a mapping of the wrong type with the keys it takes."""
    if err["type"] == "extra_forbidden":
        key = str(err["loc"][-1])
        message = f"unknown key '{key}'"
        allowed = keys_at(model, tuple(err["loc"][:-1])) if model is not None else None
        if allowed:
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            message += f"; did you mean '{close[0]}'?" if close else ";"
            message += f" allowed: {', '.join(allowed)}"
        return message
    keys = None
    if model is not None and err["type"] in ("model_type", "model_attributes_type"):
        keys = keys_at(model, tuple(err["loc"]))
    return say(err, keys)


def located_errors(
    error: ValidationError, doc: SourceDoc, model: type[BaseModel] | None = None
) -> list[Located]:
    """Every error of ``error`` placed at its value in ``doc`` and worded for the scenario."""
    found = []
    for err in error.errors():
        loc, in_union = _data_loc(err, doc.data)
        file, line = doc.where(loc)
        issue = Issue(file, line, loc, _message(err, model))
        wrong_member = in_union and must_be(err) is not None
        found.append(Located(issue, err["type"], loc, wrong_member))
    return _merged_members(found, error)


def _merged_members(found: list[Located], error: ValidationError) -> list[Located]:
    """A union whose members all refused a value of the wrong type says once what it takes
    (``must be a number or text, got a list``)."""
    wanted: dict[PathKey, list[str]] = {}
    given: dict[PathKey, Any] = {}
    for item, err in zip(found, error.errors(), strict=True):
        words = must_be(err)
        if item.wrong_member and words is not None:
            wanted.setdefault(item.loc, []).append(words)
            given[item.loc] = err.get("input")
    out = []
    for item in found:
        kinds = list(dict.fromkeys(wanted.get(item.loc, [])))
        if item.wrong_member and len(kinds) > 1:
            message = f"must be {' or '.join(kinds)}, got {shown_value(given[item.loc])}"
            issue = Issue(item.issue.file, item.issue.line, item.issue.path, message)
            item = Located(issue, item.kind, item.loc, item.wrong_member)
        out.append(item)
    return out


def pydantic_issues(
    error: ValidationError, doc: SourceDoc, model: type[BaseModel] | None = None
) -> list[Issue]:
    """pydantic errors as issues at the line of the offending value, in the scenario's words.

    With ``model`` (the class that was validated), an unknown key comes with the keys allowed
    there and a close match, a value that should be a mapping with the keys it takes.
    """
    return [item.issue for item in kept(located_errors(error, doc, model))]


def kept(found: list[Located]) -> list[Located]:
    """The errors worth reporting: a union member's complaint of the wrong type is dropped
    when another member got further into the value, and one issue is kept per place."""
    # the places some error is inside of (a look-up each, however many errors there are)
    holding = {item.loc[:cut] for item in found for cut in range(len(item.loc))}
    useful = [item for item in found if not (item.wrong_member and item.loc in holding)]
    # a union failing on every member reports once per member: keep the first per place
    unique: dict[tuple[str, int, PathKey], Located] = {}
    for item in useful:
        unique.setdefault((item.issue.file, item.issue.line, item.loc), item)
    return list(unique.values())
