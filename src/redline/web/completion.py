"""What the editor offers as the user types: the scenario language's keys at each level (read
from the scenario model, so it never falls out of step with ``validate``) and the scenario's
own names (its actors, actions, outcomes, …, as ``redline explain`` lists them)."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

#: a level of the language: its keys, each with the level below it ({} for a plain value);
#: ``"*"`` stands for any name (a mapping whose keys are the user's names)
KeyTree = dict[str, Any]


def key_tree(model: type[BaseModel], depth: int = 8) -> KeyTree:
    """The keys of ``model`` and, under each, the keys its value may have (lists and unions
    looked through)."""
    tree: KeyTree = {}
    for name, field in model.model_fields.items():
        key = field.alias or name
        tree[key] = _below(field.annotation, depth - 1)
    return tree


def _below(annotation: Any, depth: int) -> KeyTree:
    if depth <= 0:
        return {}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return key_tree(annotation, depth)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (dict, typing.Mapping) or (origin is not None and _is_mapping(origin)):
        value = _below(args[1], depth - 1) if len(args) == 2 else {}
        return {"*": value} if value else {}
    merged: KeyTree = {}
    if origin in (list, tuple, typing.Union, types.UnionType, typing.Annotated) or args:
        for arg in args:
            merged.update(_below(arg, depth))
    return merged


def _is_mapping(origin: Any) -> bool:
    try:
        import collections.abc

        return isinstance(origin, type) and issubclass(origin, collections.abc.Mapping)
    except TypeError:
        return False


def known_names(scenario: BaseModel | None) -> list[str]:
    """The scenario's names — the ids of its actors, actions, red lines, outcomes, levers and
    their options, lenses, parameters, variables, sources, … — sorted, without repeats."""
    if scenario is None:
        return []
    names: set[str] = set()
    _collect(scenario, names, 4)
    return sorted(names)


def _collect(value: Any, names: set[str], depth: int) -> None:
    if depth <= 0:
        return
    if isinstance(value, BaseModel):
        ident = getattr(value, "id", None)
        if isinstance(ident, str) and ident:
            names.add(ident)
        for name in type(value).model_fields:
            _collect(getattr(value, name), names, depth - 1)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect(item, names, depth)
