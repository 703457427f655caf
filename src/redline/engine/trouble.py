"""Silent numerical trouble, counted: NaN and out-of-range probabilities, and NaN state.

A reaction's probability is compared with a uniform draw ``u`` in [0, 1): it fires when
``u < p``. A probability above 1 therefore always fires, one below 0 never does, and a NaN
never does (every comparison with NaN is false) — the same as clipping it to [0, 1] with NaN
taken as 0. That behaviour is kept (a result does not change because it is now watched), but
every such probability is counted, and so is every state variable that is NaN at the end of a
step, so a scenario whose arithmetic went wrong (``x * 3`` as a probability, ``1 / (x - x)``, a
dynamic that divides by zero) is reported rather than quietly simulated.

The checks of a program, each a column of the counts (:func:`checks`): for each scheduled
reaction and then each rule (program order), "its probability is NaN" and "its probability is
outside [0, 1]"; then for each state variable, "it is NaN at the end of a step". A
probability is checked each time it is evaluated (when its trigger holds, at most once a step);
a variable once a step, after the rule cascade, in every run still going.

Every backend fills the same :class:`Trouble` for a chunk — the same counts and the same first
occurrences — and chunks merge into the trouble of a whole experiment whatever their size
(:meth:`Trouble.merge`). The first occurrence is the earliest by run index, then step, then
check: the same whichever backend, chunk size or order computed it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from redline.core.program import Program
from redline.errors import UserError

#: what went wrong at a check
NAN_PROBABILITY = "nan probability"
OUT_OF_RANGE = "probability outside [0, 1]"
NAN_STATE = "nan state"


@dataclass(frozen=True)
class Check:
    """One column of the counts: what went wrong (``problem``) at which element of the
    program (``kind``: a reaction's kind, ``schedule`` or ``variable``; ``element``: its id or
    name)."""

    problem: str
    kind: str
    element: str

    @property
    def label(self) -> str:
        """The element as a user knows it: ``red line 'nato.art5'``, ``variable 'tension'``."""
        return f"{self.kind.replace('_', ' ')} '{self.element}'"


def checks(program: Program) -> list[Check]:
    """The program's checks in column order (see the module's docstring)."""
    out: list[Check] = []
    for rule in (*program.schedule, *program.rules):
        kind = "scheduled event" if rule.kind == "schedule" else rule.kind
        out += [Check(NAN_PROBABILITY, kind, rule.id), Check(OUT_OF_RANGE, kind, rule.id)]
    out += [Check(NAN_STATE, "variable", var.name) for var in program.variables]
    return out


def scheduled_column(r: int) -> int:
    """The NaN column of scheduled reaction ``r`` (its out-of-range column is the next)."""
    return 2 * r


def rule_column(program: Program, r: int) -> int:
    """The NaN column of rule ``r`` (its out-of-range column is the next)."""
    return 2 * len(program.schedule) + 2 * r


def variable_column(program: Program, j: int) -> int:
    """The column of state variable ``j``."""
    return 2 * (len(program.schedule) + len(program.rules)) + j


def is_bad_probability(p: float) -> bool:
    """Whether a probability is NaN or outside [0, 1] (one test for the common path)."""
    return not (0.0 <= p <= 1.0)


@dataclass
class Trouble:
    """A chunk's (or merged chunks') numerical trouble, one entry per check (:func:`checks`).

    ``occurrences``: how many times the check failed (a probability evaluated, a variable at
    the end of a step); ``runs``: in how many runs it failed at least once; ``first_run``,
    ``first_step``, ``first_value``: its earliest occurrence by run index, then step (-1, -1,
    NaN where none); ``per_run``: the failures of all checks in each run of the chunk, in the
    chunk's order (empty once chunks are merged)."""

    occurrences: NDArray[np.int64]
    runs: NDArray[np.int64]
    first_run: NDArray[np.int64]
    first_step: NDArray[np.int64]
    first_value: NDArray[np.float64]
    per_run: NDArray[np.int32]

    @classmethod
    def empty(cls, size: int, runs: int = 0) -> Trouble:
        """No trouble at ``size`` checks in a chunk of ``runs`` runs."""
        return cls(
            occurrences=np.zeros(size, dtype=np.int64),
            runs=np.zeros(size, dtype=np.int64),
            first_run=np.full(size, -1, dtype=np.int64),
            first_step=np.full(size, -1, dtype=np.int64),
            first_value=np.full(size, np.nan),
            per_run=np.zeros(runs, dtype=np.int32),
        )

    @property
    def any(self) -> bool:
        return bool(self.occurrences.any())

    def total(self) -> int:
        return int(self.occurrences.sum())

    def first(self) -> tuple[int, int, int, float] | None:
        """The earliest failure of any check: (check, run, step, value) — by run, then step,
        then check — or None."""
        at = np.flatnonzero(self.occurrences)
        if not len(at):
            return None
        c = min(at, key=lambda k: (self.first_run[k], self.first_step[k], k))
        return int(c), int(self.first_run[c]), int(self.first_step[c]), float(self.first_value[c])

    @staticmethod
    def merge(parts: Iterable[Trouble]) -> Trouble:
        """The trouble of several chunks of disjoint runs, as one (``per_run`` dropped)."""
        items = list(parts)
        if not items:
            return Trouble.empty(0)
        out = Trouble.empty(len(items[0].occurrences))
        for part in items:
            out.occurrences += part.occurrences
            out.runs += part.runs
            for c in np.flatnonzero(part.occurrences):
                if out.first_run[c] < 0 or (part.first_run[c], part.first_step[c]) < (
                    out.first_run[c],
                    out.first_step[c],
                ):
                    out.first_run[c] = part.first_run[c]
                    out.first_step[c] = part.first_step[c]
                    out.first_value[c] = part.first_value[c]
        return out


class TroubleCounter:
    """Fills a chunk's :class:`Trouble` from the vectorised engine: each call notes one check
    failing in some runs of one step; the runs each check has already failed in are kept only
    for the checks that failed (nothing is allocated while all is well)."""

    def __init__(self, size: int, runs: int) -> None:
        self.trouble = Trouble.empty(size, runs)
        self.seen: dict[int, NDArray[np.bool_]] = {}

    def note(
        self,
        check: int,
        positions: NDArray[np.intp],
        run_ids: NDArray[np.int64],
        step: int,
        values: NDArray[np.float64],
    ) -> None:
        """Check ``check`` failed at ``step`` in the runs at chunk ``positions`` (distinct),
        whose run indices are ``run_ids``, with ``values``."""
        if not len(positions):
            return
        t = self.trouble
        t.occurrences[check] += len(positions)
        t.per_run[positions] += 1
        seen = self.seen.get(check)
        if seen is None:
            seen = self.seen[check] = np.zeros(len(t.per_run), dtype=np.bool_)
        t.runs[check] += int(np.count_nonzero(~seen[positions]))
        seen[positions] = True
        k = int(np.argmin(run_ids))
        run = int(run_ids[k])
        # steps only grow, so a later step wins only in a run of a lower index
        if t.first_run[check] < 0 or run < t.first_run[check]:
            t.first_run[check] = run
            t.first_step[check] = step
            t.first_value[check] = float(values[k])

    def note_one(self, check: int, position: int, run: int, step: int, value: float) -> None:
        """Check ``check`` failed at ``step`` in one run (the reference interpreter's way)."""
        self.note(
            check,
            np.array([position], dtype=np.intp),
            np.array([run], dtype=np.int64),
            step,
            np.array([value], dtype=np.float64),
        )


class NumericalTrouble(UserError):
    """Strict mode: a probability was NaN or outside [0, 1], or a state variable NaN; the
    message names the step, the run, the element and the value."""


def describe(check: Check, run: int, step: int, value: float) -> str:
    """One occurrence in words: ``step 3 of run 17: the probability of rule 'x' is nan``."""
    shown = "nan" if math.isnan(value) else repr(value)
    if check.problem == NAN_STATE:
        what = f"{check.label} is nan at the end of the step"
    elif check.problem == NAN_PROBABILITY:
        what = f"the probability of {check.label} is nan (it never fires)"
    else:
        fate = "always fires" if value > 1 else "never fires"
        what = f"the probability of {check.label} is {shown}, outside [0, 1] (it {fate})"
    return f"step {step} of run {run}: {what}"


def strict_check(program: Program, trouble: Trouble | None, where: str = "") -> None:
    """Strict mode: raise :class:`NumericalTrouble` naming the earliest occurrence, if any."""
    if trouble is None:
        return
    first = trouble.first()
    if first is None:
        return
    c, run, step, value = first
    more = trouble.total() - 1
    also = f", and {more:,} more in the same chunk of runs" if more else ""
    raise NumericalTrouble(
        f"numerical trouble{' in ' + where if where else ''} at "
        f"{describe(checks(program)[c], run, step, value)}{also} (--strict)"
    )


@dataclass(frozen=True)
class TroubleRow:
    """One check that failed, summed over some runs: for tables, reports and JSON."""

    problem: str
    kind: str
    element: str
    occurrences: int
    runs: int
    first_run: int
    first_step: int
    first_value: float

    def values(self) -> tuple[str, str, str, int, int, int, int, float]:
        """The fields in order (a store row's last eight columns)."""
        return (
            self.problem,
            self.kind,
            self.element,
            self.occurrences,
            self.runs,
            self.first_run,
            self.first_step,
            self.first_value,
        )

    def to_json(self) -> dict[str, object]:
        value: float | str = (
            self.first_value if math.isfinite(self.first_value) else str(self.first_value)
        )
        return {
            "problem": self.problem,
            "kind": self.kind,
            "element": self.element,
            "occurrences": self.occurrences,
            "runs": self.runs,
            "first": {"run": self.first_run, "step": self.first_step, "value": value},
        }


def rows(program: Program | Sequence[Check], trouble: Trouble) -> list[TroubleRow]:
    """The checks that failed, in column order."""
    names = checks(program) if isinstance(program, Program) else list(program)
    return [
        TroubleRow(
            names[c].problem,
            names[c].kind,
            names[c].element,
            int(trouble.occurrences[c]),
            int(trouble.runs[c]),
            int(trouble.first_run[c]),
            int(trouble.first_step[c]),
            float(trouble.first_value[c]),
        )
        for c in np.flatnonzero(trouble.occurrences)
    ]


def merge_rows(parts: Iterable[TroubleRow]) -> list[TroubleRow]:
    """Rows of disjoint runs (units of one configuration) summed per problem and element,
    the first occurrence the earliest by run, then step; in the order first met."""
    merged: dict[tuple[str, str, str], TroubleRow] = {}
    for row in parts:
        key = (row.problem, row.kind, row.element)
        had = merged.get(key)
        if had is None:
            merged[key] = row
            continue
        first = min(had, row, key=lambda r: (r.first_run, r.first_step))
        merged[key] = TroubleRow(
            row.problem,
            row.kind,
            row.element,
            had.occurrences + row.occurrences,
            had.runs + row.runs,
            first.first_run,
            first.first_step,
            first.first_value,
        )
    return list(merged.values())
