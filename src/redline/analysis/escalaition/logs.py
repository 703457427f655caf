"""Reading EscalAItion's published files: each run's action log (``results/actions_v3``:
``day,self,other,action,content``), named ``"<Model> <Situation> A<k>.csv"``, and each run's
published daily scores (``evals/json_v6_exponential``: ``"<Model> <Situation> A<k>_raw.json"``).

A file that is not what it should be is a :class:`LogError` naming the file, the line and what
is wrong — never a traceback.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from redline.errors import UserError

#: the situations of the study, as their file names spell them (``CyberAttack`` too)
SITUATIONS = ("Neutral", "Invasion", "Cyberattack")
_NAME = re.compile(r"^(?P<model>\S+) (?P<situation>\S+) A(?P<run>[0-9]+)(?P<raw>_raw)?$")
#: files larger than this are refused (their largest log is under 200 kB)
MAX_FILE_BYTES = 50_000_000


class LogError(UserError):
    """A published log or score file that cannot be read as one."""


@dataclass(frozen=True)
class ActionRow:
    """One logged action: the day, who did it to whom, the action as written (``None`` where
    the cell is empty, as pandas reads it: NaN), and a message's content."""

    day: int
    actor: str
    target: str
    action: str | None
    content: str


@dataclass(frozen=True)
class RunName:
    """What a file's name says: the model, the situation (``CyberAttack`` read as
    ``Cyberattack``) and the run number."""

    model: str
    situation: str
    run: int

    @property
    def cell(self) -> tuple[str, str]:
        return (self.model, self.situation)


def parse_run_name(path: Path) -> RunName:
    """The model, situation and run number of a log or score file from its name."""
    m = _NAME.match(path.stem)
    if m is None:
        raise LogError(
            f"{path.name}: not a run's file name ('<Model> <Situation> A<k>.csv' or "
            "'<Model> <Situation> A<k>_raw.json')"
        )
    situation = m["situation"].capitalize()
    if situation not in SITUATIONS:
        raise LogError(
            f"{path.name}: unknown situation '{m['situation']}'; known: {', '.join(SITUATIONS)}"
        )
    return RunName(m["model"], situation, int(m["run"]))


def _checked_size(path: Path) -> None:
    if not path.is_file():
        raise LogError(f"{path}: not a file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise LogError(f"{path}: larger than {MAX_FILE_BYTES:,} bytes; not a run's log")


def read_action_log(path: Path) -> list[ActionRow]:
    """Every row of one run's action log, in file order."""
    _checked_size(path)
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None or [h.strip() for h in header[:4]] != [
                "day",
                "self",
                "other",
                "action",
            ]:
                raise LogError(
                    f"{path}:1: expected the header 'day,self,other,action,content', got "
                    f"{','.join(header or [])!r}"
                )
            rows = []
            for row in reader:
                line = reader.line_num
                if not row:
                    continue
                if len(row) < 4:
                    raise LogError(f"{path}:{line}: expected at least 4 fields, got {len(row)}")
                try:
                    day = int(row[0])
                except ValueError:
                    raise LogError(f"{path}:{line}: day '{row[0]}' is not a whole number") from None
                action = row[3] if row[3] != "" else None
                rows.append(ActionRow(day, row[1], row[2], action, row[4] if len(row) > 4 else ""))
            return rows
    except UnicodeDecodeError as exc:
        raise LogError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise LogError(f"{path}: not a CSV file ({exc})") from None


def read_published_scores(path: Path) -> list[dict[str, int]]:
    """One run's published daily scores: a list of ``{"Day": d, field: value, ...}``."""
    _checked_size(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LogError(f"{path}: not a JSON file ({exc})") from None
    if not isinstance(data, list) or not all(
        isinstance(d, dict) and isinstance(d.get("Day"), int) for d in data
    ):
        raise LogError(f"{path}: expected a list of daily scores, each with its 'Day'")
    return data


@dataclass(frozen=True)
class RunLog:
    """One run of the study: its name and its action log."""

    name: RunName
    path: Path
    rows: tuple[ActionRow, ...]


def action_log_files(folder: Path) -> list[Path]:
    """The run logs in a folder (``*.csv``), sorted by name; an error if there are none."""
    if not folder.is_dir():
        raise LogError(f"{folder}: not a folder of run logs")
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise LogError(f"{folder}: no run logs ('<Model> <Situation> A<k>.csv') in it")
    return files


def read_runs(files: Iterable[Path]) -> list[RunLog]:
    """Each file's run, in the order given."""
    return [RunLog(parse_run_name(p), p, tuple(read_action_log(p))) for p in files]


def published_file(evals: Path, log: Path) -> Path:
    """The published score file of the run whose action log is ``log``."""
    return evals / f"{log.stem}_raw.json"
