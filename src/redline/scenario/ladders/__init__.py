"""The built-in escalation ladders and the typed model they load into.

Two ladders ship with redline, as YAML data files next to this module:

``kahn``
    Herman Kahn's 44 rungs in seven groups separated by six thresholds (*On Escalation:
    Metaphors and Scenarios*, 1965, ch. II). Names are Kahn's; see ``kahn.yaml`` for the
    sources they were checked against and for how ``category`` and ``cow`` were assigned.
``condensed``
    Eleven levels, from peace to general nuclear war, each naming the range of Kahn rungs it
    stands for (``Rung.kahn``). It is a scenario's default ladder.

>>> ladder = builtin_ladder("kahn")
>>> len(ladder), ladder.rung(44).name
(44, 'Spasm or Insensate War')
>>> kahn_to_condensed("show_of_force").id
'show_of_force'

Every rung carries its Correlates of War Militarized Interstate Dispute hostility level
(``cow``: 1 no militarized action, 2 threat to use force, 3 display of force, 4 use of force,
5 war).
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    model_validator,
)

__all__ = [
    "BUILTIN_LADDERS",
    "Category",
    "Ladder",
    "Rung",
    "Threshold",
    "builtin_ladder",
    "kahn_to_condensed",
]

#: the names :func:`builtin_ladder` accepts, one YAML file each in this package
BUILTIN_LADDERS: tuple[str, ...] = ("kahn", "condensed")

#: the instrument that defines a rung
Category = Literal["diplomatic", "economic", "proxy", "conventional", "nuclear"]

#: a rung id: a snake_case slug
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")]
Name = Annotated[str, StringConstraints(min_length=1)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rung(_Frozen):
    """One rung of a ladder.

    ``rung`` is the 1-based number of the rung on its ladder; ``kahn`` is the inclusive range
    ``(first, last)`` of Kahn rungs the rung stands for (``None`` on Kahn's ladder itself and on
    levels below Kahn's first rung).
    """

    id: Slug
    name: Name
    rung: Annotated[int, Field(ge=1)]
    group: Name
    category: Category
    cow: Annotated[int, Field(ge=1, le=5)]
    kahn: tuple[Annotated[int, Field(ge=1)], Annotated[int, Field(ge=1)]] | None = None

    @model_validator(mode="after")
    def _kahn_range(self) -> Rung:
        if self.kahn is not None and self.kahn[0] > self.kahn[1]:
            raise ValueError(f"rung {self.id!r}: kahn range {list(self.kahn)} runs backwards")
        return self


class Threshold(_Frozen):
    """A named firebreak between two adjacent groups of a ladder (``below`` comes first)."""

    name: Name
    below: Name
    above: Name


class Ladder(_Frozen):
    """An ordered escalation ladder: its rungs, their groups, and the thresholds between them.

    Rungs are numbered 1..n in order, ids are unique, every group is a non-empty contiguous
    run of rungs listed in ``groups`` order, and each threshold stands between two adjacent
    groups. Rungs are looked up by id or by 1-based rung number (:meth:`index`, :meth:`rung`).
    """

    name: Name
    rungs: Annotated[tuple[Rung, ...], Field(min_length=1)]
    groups: tuple[Name, ...]
    thresholds: tuple[Threshold, ...] = ()
    title: str | None = None
    source: str | None = None
    verification: str | None = None
    pre_escalation: str | None = None
    post_escalation: str | None = None

    _by_id: dict[str, int] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Ladder:
        where = f"ladder {self.name!r}"
        for position, rung in enumerate(self.rungs):
            if rung.rung != position + 1:
                raise ValueError(
                    f"{where}: rung {rung.id!r} is number {rung.rung}, expected {position + 1}"
                )
        ids = [rung.id for rung in self.rungs]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"{where}: duplicate rung ids {duplicates}")
        self._check_groups(where)
        self._check_thresholds(where)
        self._check_kahn_ranges(where)
        return self

    def _check_groups(self, where: str) -> None:
        if len(set(self.groups)) != len(self.groups):
            raise ValueError(f"{where}: duplicate group names")
        runs: list[str] = []
        for rung in self.rungs:
            if rung.group not in self.groups:
                raise ValueError(f"{where}: rung {rung.id!r} has unknown group {rung.group!r}")
            if not runs or runs[-1] != rung.group:
                runs.append(rung.group)
        if runs != list(self.groups):
            raise ValueError(
                f"{where}: groups must be non-empty contiguous runs of rungs in the order "
                f"{list(self.groups)}; the rungs run through {runs}"
            )

    def _check_thresholds(self, where: str) -> None:
        last = -1
        for threshold in self.thresholds:
            if threshold.below not in self.groups or threshold.above not in self.groups:
                raise ValueError(f"{where}: threshold {threshold.name!r} names an unknown group")
            below = self.groups.index(threshold.below)
            if self.groups.index(threshold.above) != below + 1:
                raise ValueError(
                    f"{where}: threshold {threshold.name!r} must stand between adjacent groups"
                )
            if below <= last:
                raise ValueError(f"{where}: thresholds out of order at {threshold.name!r}")
            last = below

    def _check_kahn_ranges(self, where: str) -> None:
        previous = 0
        for rung in self.rungs:
            if rung.kahn is None:
                continue
            if rung.kahn[0] <= previous:
                raise ValueError(f"{where}: kahn range of {rung.id!r} overlaps or runs backwards")
            previous = rung.kahn[1]

    def model_post_init(self, context: Any, /) -> None:
        self._by_id = {rung.id: position for position, rung in enumerate(self.rungs)}

    def __len__(self) -> int:
        return len(self.rungs)

    @property
    def ids(self) -> tuple[str, ...]:
        """The rung ids, bottom to top."""
        return tuple(rung.id for rung in self.rungs)

    def index(self, key: str | int) -> int:
        """The 0-based position of a rung given its id or its 1-based rung number.

        Raises :class:`KeyError` for an unknown id or a number outside ``1..len(self)``.
        """
        if isinstance(key, bool) or not isinstance(key, str | int):
            raise TypeError(f"a rung is named by its id or its number, not {key!r}")
        if isinstance(key, str):
            try:
                return self._by_id[key]
            except KeyError:
                raise KeyError(f"ladder {self.name!r} has no rung with id {key!r}") from None
        if 1 <= key <= len(self.rungs):
            return key - 1
        raise KeyError(f"ladder {self.name!r} has rungs 1..{len(self.rungs)}, not {key}")

    def rung(self, key: str | int) -> Rung:
        """The rung with this id or 1-based rung number (see :meth:`index`)."""
        return self.rungs[self.index(key)]

    def group_of(self, key: str | int) -> str:
        """The group of the rung with this id or number."""
        return self.rung(key).group

    def rungs_in(self, group: str) -> tuple[Rung, ...]:
        """The rungs of one group, bottom to top; :class:`KeyError` for an unknown group."""
        if group not in self.groups:
            raise KeyError(f"ladder {self.name!r} has no group {group!r}")
        return tuple(rung for rung in self.rungs if rung.group == group)

    def threshold_index(self, name: str) -> int:
        """The 0-based position of the first rung above the named threshold.

        A move from position ``a`` to ``b`` crosses the threshold upwards when
        ``a < threshold_index(name) <= b``. :class:`KeyError` for an unknown threshold.
        """
        for threshold in self.thresholds:
            if threshold.name == name:
                return self.index(self.rungs_in(threshold.above)[0].id)
        known = [threshold.name for threshold in self.thresholds]
        raise KeyError(f"ladder {self.name!r} has no threshold {name!r}; it has {known}")


@functools.lru_cache(maxsize=8)
def builtin_ladder(name: str) -> Ladder:
    """Load (once) and return the built-in ladder ``name``, one of :data:`BUILTIN_LADDERS`.

    Raises :class:`KeyError`, listing the known ladders, for any other name.
    """
    if name not in BUILTIN_LADDERS:
        raise KeyError(
            f"unknown ladder {name!r}; the built-in ladders are {', '.join(BUILTIN_LADDERS)}"
        )
    text = resources.files(__name__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    ladder = Ladder.model_validate(data)
    if ladder.name != name:
        raise ValueError(f"{name}.yaml declares the ladder name {ladder.name!r}")
    return ladder


def kahn_to_condensed(rung: int | str) -> Rung:
    """The level of the condensed ladder that Kahn's rung ``rung`` (number or id) falls in.

    Raises :class:`KeyError` when ``rung`` is not a rung of Kahn's ladder.
    """
    number = builtin_ladder("kahn").rung(rung).rung
    for level in builtin_ladder("condensed").rungs:
        if level.kahn is not None and level.kahn[0] <= number <= level.kahn[1]:
            return level
    raise LookupError(f"the condensed ladder does not cover Kahn rung {number}")  # pragma: no cover
