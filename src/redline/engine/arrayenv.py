"""What compiled expressions read at run time: the arrays of one chunk of runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray


class DrawSource(Protocol):
    """The keyed generator bound to a seed, a step and the chunk's runs (rng.KeyedDraws)."""

    def uniform(self, site: int, sub: int = 0) -> NDArray[np.float64]: ...

    def normal(self, site: int) -> NDArray[np.float64]: ...


class ArrayEnv(Protocol):
    """The state of every run of a chunk, one row per run.

    Number names map to float64 arrays (or floats); bool-typed names to bool arrays (or bools).
    ``now``, ``ever`` and ``count`` have one column per tag of the Layout.
    """

    @property
    def values(self) -> Mapping[str, NDArray[Any] | float | bool]: ...

    @property
    def now(self) -> NDArray[np.bool_]: ...

    @property
    def ever(self) -> NDArray[np.bool_]: ...

    @property
    def count(self) -> NDArray[Any]: ...

    @property
    def draws(self) -> DrawSource: ...

    def choice(self, actor: str, action: str) -> NDArray[np.bool_] | np.bool_: ...

    def belief(self, actor: str, action: str) -> NDArray[np.float64] | float: ...
