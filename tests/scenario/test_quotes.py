"""Every evidence quote in a built-in scenario whose source is a file in the shared sources folder
(named directly, or by a record in ``sources`` whose ``file`` it is) appears in that file
verbatim (up to runs of whitespace)."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from redline.scenario.loader import load_scenario
from redline.scenario.model import EvidenceItem, Scenario
from redline.scenario.sources import find_record

from .support import BUILTIN, SOURCES

BUILTINS = sorted(BUILTIN.glob("*.yaml"))


def _squash(text: str) -> str:
    return " ".join(text.split())


def _citations(value: object, where: str) -> Iterator[tuple[str, EvidenceItem]]:
    """Every evidence item anywhere in a model: the top-level list and inline citations."""
    if isinstance(value, EvidenceItem):
        yield where, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _citations(getattr(value, name), f"{where}.{name}" if where else name)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _citations(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _citations(item, f"{where}.{key}")


def _file(s: Scenario, item: EvidenceItem) -> str:
    """The file a citation's quote is checked against: its record's ``file``, else its source."""
    record = find_record(s.sources, item.source)
    return record.file if record is not None and record.file is not None else item.source


def _sources() -> Path:
    """The source documents' folder. Where it is absent the quote checks are skipped, saying
    why — except in CI (``CI`` set), which must check them."""
    if not SOURCES.is_dir():
        message = (
            f"the source documents are not here ({SOURCES}): set REDLINE_SOURCES to their folder "
            "to check that every evidence quote is verbatim"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return SOURCES


def test_there_are_builtins() -> None:
    assert BUILTINS


@functools.cache
def _check(scenario: Path, sources: Path) -> tuple[int, list[str]]:
    """How many quotes cite a shared file, and those not found in it."""
    s = load_scenario(scenario).scenario
    checked, wrong = 0, []
    texts: dict[str, str] = {}
    for where, item in _citations(s, ""):
        name = _file(s, item)
        source = sources / name
        if Path(name).name != name or not source.is_file():
            continue  # a reference that is not one of the shared files
        if name not in texts:
            texts[name] = _squash(source.read_text(encoding="utf-8"))
        checked += 1
        if _squash(item.quote) not in texts[name]:
            wrong.append(f"{where} ({item.id or 'inline'}): {name} lacks {item.quote!r}")
    return checked, wrong


@pytest.mark.parametrize("scenario", BUILTINS, ids=lambda p: p.stem)
def test_quotes_are_verbatim(scenario: Path) -> None:
    sources = _sources()
    _checked, wrong = _check(scenario, sources)
    assert not wrong, "\n".join(wrong)


def test_quotes_are_checked_at_all() -> None:
    sources = _sources()
    assert sum(_check(path, sources)[0] for path in BUILTINS) > 0
    assert _check(BUILTIN / "convoy-strike.yaml", sources)[0] >= 8


def test_the_check_catches_a_misquote() -> None:
    """Control: a quote altered by one word is not found."""
    sources = _sources()
    s = load_scenario(BUILTINS[0]).scenario
    where, item = next((w, i) for w, i in _citations(s, "") if (sources / _file(s, i)).is_file())
    text = _squash((sources / _file(s, item)).read_text(encoding="utf-8"))
    words = _squash(item.quote).split(" ")
    altered = " ".join([*words[:-1], words[-1] + "x"])
    assert _squash(item.quote) in text
    assert altered not in text, where
