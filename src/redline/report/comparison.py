"""Compare a stored experiment's configurations: what ``redline compare`` prints and
:func:`redline.compare` returns, from the same counts."""

from __future__ import annotations

from redline.analysis.compare import Comparisons, PointCounts, compare_axes
from redline.errors import RedlineValueError
from redline.experiment.runner import stored_summaries
from redline.experiment.store import Store
from redline.scenario.errors import suggest


def compare_experiment(
    store: Store, name: str, by: str = "lever", lens: str | None = None
) -> Comparisons:
    """The differences in outcome probabilities between the options of each lever (``by``
    "lever") or between lenses (``by`` "lens") of experiment ``name``, everything else held
    equal, each against the first option of its group, with both probabilities beside the
    difference. ``lens``: with ``by`` "lever", compare under this lens only; with ``by``
    "lens", compare every other lens with this one. Counts come from DuckDB, so memory does
    not grow with the runs stored."""
    if by not in ("lever", "lens"):
        raise RedlineValueError(f"by must be 'lever' or 'lens', got '{by}'", parameter="by")
    s = store.scenario(name)  # as it was swept, whatever became of its file
    outcomes = [(o.id, o.label) for o in s.outcomes]
    points = [
        PointCounts(
            {str(k): str(v) for k, v in point["levers"].items()},
            point["lens"],
            [(x.name, x.hits, x.runs) for x in summ],
        )
        for _, point, summ in stored_summaries(store, name, outcomes)
    ]
    reference = None
    if lens is not None:
        lenses = list(dict.fromkeys(pt.lens for pt in points if pt.lens is not None))
        if not lenses:
            raise RedlineValueError(
                f"lens: experiment '{name}' has no lenses; leave it out", parameter="lens"
            )
        if lens not in lenses:
            known = suggest(lens, lenses, "lens").replace("known:", f"lenses of '{name}':", 1)
            raise RedlineValueError(f"lens: {known}", parameter="lens")
        if by == "lever":
            points = [pt for pt in points if pt.lens == lens]
        else:
            reference = lens
    axes = [lv.id for lv in s.levers] if by == "lever" else ["lens"]
    under = f" under lens {lens}" if lens is not None and by == "lever" else ""
    caption = f"{name}: by {'lever' if by == 'lever' else 'lens'}{under}"
    return compare_axes(points, axes, reference, caption)
