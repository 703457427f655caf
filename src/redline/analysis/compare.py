"""Differences in outcome probabilities between configurations, with intervals, beside the
probabilities they are differences of."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from redline.tables import RecordTable, percent_cell


@dataclass(frozen=True)
class Difference:
    """p(a) − p(b) for one outcome, with a 95% Newcombe interval."""

    outcome: str
    a: str
    b: str
    p_a: float
    p_b: float
    diff: float
    lo: float
    hi: float


def difference(
    outcome: str,
    a: str,
    hits_a: int,
    runs_a: int,
    b: str,
    hits_b: int,
    runs_b: int,
    confidence: float = 0.95,
) -> Difference:
    """The difference of two proportions with Newcombe's hybrid score interval.

    Configurations share run indices (common random numbers), so their results are positively
    correlated and an interval for independent samples is conservative."""
    from statsmodels.stats.proportion import confint_proportions_2indep  # slow to import

    lo, hi = confint_proportions_2indep(
        hits_a, runs_a, hits_b, runs_b, method="newcomb", compare="diff", alpha=1.0 - confidence
    )
    p_a, p_b = hits_a / runs_a, hits_b / runs_b
    return Difference(outcome, a, b, p_a, p_b, p_a - p_b, float(lo), float(hi))


@dataclass(frozen=True)
class PointCounts:
    """One stored design point: its lever options, lens, and per-outcome (name, hits, runs)."""

    levers: dict[str, str]
    lens: str | None
    counts: list[tuple[str, int, int]]


@dataclass(frozen=True)
class Comparison:
    """The differences of one option from the first option of its group, the rest held equal."""

    option: str
    baseline: str
    held: str
    pooled: int
    differences: list[Difference]
    #: the lens both sides are under (None when lenses are compared, or there are none)
    lens: str | None = None


def compare_along(
    points: list[PointCounts], axis: str, reference: str | None = None
) -> list[Comparison]:
    """Compare the options of one axis (a lever's id, or "lens"), everything else held equal,
    each with ``reference`` (default: the first option of its group; a group without the
    reference is left out).

    Design points that differ only in sampled uncertainty values (lhs, sobol, grid) are pooled,
    so a difference is averaged over the design's sample; ``pooled`` says over how many."""
    groups: dict[tuple[tuple[str, str | None], ...], dict[str, list[PointCounts]]] = {}
    for pt in points:
        value = pt.lens if axis == "lens" else pt.levers.get(axis)
        if value is None:
            continue
        rest = tuple(sorted((k, v) for k, v in pt.levers.items() if k != axis))
        held: tuple[tuple[str, str | None], ...] = rest + (
            () if axis == "lens" else (("lens", pt.lens),)
        )
        groups.setdefault(held, {}).setdefault(value, []).append(pt)
    comparisons = []
    for held, options in groups.items():
        pooled = {value: _pool(pts) for value, pts in options.items()}
        if reference is not None and reference not in pooled:
            continue
        base_value = next(iter(pooled)) if reference is None else reference
        base = pooled[base_value]
        text = ", ".join(f"{k}={v}" for k, v in held if v is not None)
        for value, counts in pooled.items():
            if value == base_value:
                continue
            diffs = [
                difference(name, value, hits, runs, base_value, b_hits, b_runs)
                for (name, hits, runs), (_, b_hits, b_runs) in zip(counts, base, strict=True)
            ]
            lens = None if axis == "lens" else dict(held).get("lens")
            comparisons.append(
                Comparison(value, base_value, text, len(options[value]), diffs, lens)
            )
    return comparisons


def percent(x: float) -> str:
    """A signed percentage to one decimal; one that rounds to zero is ``+0.0%``, whatever its
    sign (never ``-0.0%``)."""
    text = f"{x:+.1%}"
    return "+0.0%" if text == "-0.0%" else text


def format_difference(d: Difference) -> str:
    """``+1.2% [-0.3%, +2.7%]``: the difference and its interval."""
    return f"{percent(d.diff)} [{percent(d.lo)}, {percent(d.hi)}]"


@dataclass(frozen=True)
class OptionDifference:
    """One outcome's probability under one option (of a lever, or a lens) and under the
    baseline option, everything else held equal, and their difference with a 95% Newcombe
    interval (probabilities as fractions, 0–1)."""

    #: the lever's id, or "lens"
    axis: str
    #: the outcome's name
    outcome: str
    option: str
    baseline: str
    #: what is held equal (``lens=baseline``, ``nato_response=none``; empty: nothing else)
    held: str
    #: the lens both options are under (None where lenses are compared, or there are none)
    lens: str | None
    #: how many sampled design points each probability pools (1 where none were sampled)
    pooled: int
    p_option: float
    p_baseline: float
    difference: float
    lo: float
    hi: float


class Comparisons(RecordTable[OptionDifference]):
    """Differences in outcome probabilities between the options of each lever (or between
    lenses), each beside both probabilities, a row per outcome × option compared; ``axes`` are
    the levers (or "lens") examined, in order, whether or not they had options to compare."""

    ROW = OptionDifference
    FORMATS: ClassVar[Mapping[str, Callable[[object], str]]] = {
        "p_option": percent_cell,
        "p_baseline": percent_cell,
        "difference": lambda x: percent(x) if isinstance(x, float) else str(x),
        "lo": lambda x: percent(x) if isinstance(x, float) else str(x),
        "hi": lambda x: percent(x) if isinstance(x, float) else str(x),
    }

    __slots__ = ("axes",)

    def __init__(
        self, rows: Iterable[OptionDifference], caption: str = "", axes: Iterable[str] = ()
    ) -> None:
        super().__init__(rows, caption)
        self.axes = tuple(axes)

    def along(self, axis: str) -> list[OptionDifference]:
        """The rows of one axis (a lever's id, or "lens")."""
        return [row for row in self if row.axis == axis]


def compare_axes(
    points: list[PointCounts], axes: Iterable[str], reference: str | None = None, caption: str = ""
) -> Comparisons:
    """:func:`compare_along` each axis in turn, as one table."""
    axes = list(axes)
    rows = [
        OptionDifference(
            axis,
            d.outcome,
            c.option,
            c.baseline,
            c.held,
            c.lens,
            c.pooled,
            d.p_a,
            d.p_b,
            d.diff,
            d.lo,
            d.hi,
        )
        for axis in axes
        for c in compare_along(points, axis, reference)
        for d in c.differences
    ]
    return Comparisons(rows, caption, axes)


def _pool(points: list[PointCounts]) -> list[tuple[str, int, int]]:
    return [
        (cells[0][0], sum(c[1] for c in cells), sum(c[2] for c in cells))
        for cells in zip(*(pt.counts for pt in points), strict=True)
    ]
