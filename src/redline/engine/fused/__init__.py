"""The fused engine (``--backend numba``): a program compiled to one machine-code loop over runs
and steps.

The NumPy kernel makes a pass over a chunk's arrays for every operation of every expression;
this engine instead generates, from the core program, a module whose run loop takes each run
through all its steps with every expression written out, and compiles it with Numba. It has
the step semantics of :mod:`redline.engine.reference` statement for statement, and the same
keyed draws, so it gives the same per-run summaries exactly (tests check this).

The package has three parts around this module's chunk runner:

- :mod:`~redline.engine.fused.codegen`: the generator (program → module source) and the named
  structures the generated ``kernel(inp, FX, out)`` takes;
- :mod:`~redline.engine.fused.runtime`: the compiled helpers the generated code calls;
- :mod:`~redline.engine.fused.cache`: the cache folder, loading a generated module, and the
  in-process memo of compiled loops by program structure.

Only running a chunk imports Numba (through the cache and the runtime): :func:`source`, which
``redline explain FILE --fused`` prints, does not.

Programs whose actors' choices depend on each other (a quantal response equilibrium), runs with
plugged-in decision-makers, and traces are not run here: the registry
(:mod:`redline.engine.backends`) gives them to the NumPy kernel, as it does anything for which
this engine raises :class:`~redline.engine.semantics.Unsupported`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from redline.core.program import Program
from redline.engine import rng
from redline.engine.deciders import DecisionMaker
from redline.engine.fused.codegen import Inputs, Outputs, source, workspace
from redline.engine.params import sample_params
from redline.engine.semantics import ChunkResult, Unsupported, event_layout
from redline.engine.trouble import Trouble, checks

__all__ = ["run_chunk", "source"]


def run_chunk(
    program: Program,
    seed: int,
    runs: NDArray[np.int64],
    *,
    trace: bool = False,
    makers: Mapping[str, DecisionMaker] | None = None,
    events: bool = False,
) -> ChunkResult:
    """Simulate the given runs to the horizon with the fused engine; the same summaries as the
    other backends (and with ``events``, the same event record). Raises :class:`Unsupported`
    for traces, plugged-in decision-makers, choices that depend on each other, and whatever
    else the generator cannot write out."""
    if trace:
        raise Unsupported("traces")
    if makers or any(d.kind == "llm" for d in program.deciders):
        raise Unsupported("plugged-in decision-makers")
    if program.strategic:
        raise Unsupported("choices that depend on each other")
    if any(b == 0.0 and math.copysign(1.0, b) < 0 for v in program.variables for b in (v.lo, v.hi)):
        # a bound of -0.0 could clip a value to -0.0, which adding 0.0 (what the other
        # backends do to a variable no effect wrote) turns into 0.0: the loop skips those
        raise Unsupported("a variable bounded by -0.0")
    from redline.engine.fused.cache import compiled  # Numba starts here

    c = compiled(program)
    layout = event_layout(program)
    runs = np.asarray(runs, dtype=np.int64)
    n = len(runs)
    params = sample_params(program.params, seed, runs)
    names = list(params)
    drawn = [k for k, v in params.items() if isinstance(v, np.ndarray)]
    fixed = np.array([v if isinstance(v, float) else 0.0 for v in params.values()])
    drawn_values = np.zeros((max(len(drawn), 1), n))
    drawn_row = np.full(max(len(names), 1), -1, dtype=np.int64)
    for row, name in enumerate(drawn):
        drawn_values[row] = params[name]
        drawn_row[names.index(name)] = row
    plan = np.zeros((max(len(program.deciders), 1), program.horizon), dtype=np.int64)
    for i, d in enumerate(program.deciders):
        if d.kind != "scripted":
            continue
        for step, k in d.plan.items():
            if 0 <= step < program.horizon:
                plan[i, step] = k
    inputs = Inputs(
        runs=runs,
        fixed=np.resize(fixed, max(len(names), 1)),
        drawn=drawn_values,
        drawn_row=drawn_row,
        origins=origins(seed, program.horizon, c.slots),
        plan=plan,
    )
    out = Outputs(
        first_hit=np.full((n, len(program.outcomes)), -1, dtype=np.int32),
        peak_level=np.zeros(n, dtype=np.int32),
        steps=np.full(n, program.horizon, dtype=np.int32),
        final=np.zeros((n, len(program.variables))),
        occupancy=np.zeros((program.horizon, len(program.rungs)), dtype=np.int64),
        events=np.full((n if events else 0, layout.size), -1, dtype=layout.dtype),
        trouble=np.zeros((max(len(checks(program)), 1), 5), dtype=np.int64),
        trouble_value=np.full(max(len(checks(program)), 1), np.nan),
        trouble_runs=np.zeros(n, dtype=np.int32),
    )
    out.trouble[:, 3:] = -1
    args = (inputs, c.effects, out, workspace(program, c.counted, inputs.fixed))
    c.prepare(*args)
    c.kernel(*args)
    size = len(checks(program))
    return ChunkResult(
        runs=runs,
        first_hit=out.first_hit,
        peak_level=out.peak_level,
        steps=out.steps,
        final=out.final,
        params={k: np.asarray(params[k]) for k in drawn},
        occupancy=out.occupancy,
        events=out.events if events else None,
        trouble=Trouble(
            occurrences=out.trouble[:size, 0].copy(),
            runs=out.trouble[:size, 1].copy(),
            first_run=out.trouble[:size, 3].copy(),
            first_step=out.trouble[:size, 4].copy(),
            first_value=out.trouble_value[:size].copy(),
            per_run=out.trouble_runs,
        ),
    )


def origins(seed: int, horizon: int, slots: tuple[tuple[int, int], ...]) -> NDArray[np.uint64]:
    """Stream origins of every (step, draw site) the loop draws at."""
    if not slots:
        return np.zeros((horizon, 1), dtype=np.uint64)
    sites, subs = zip(*slots, strict=True)
    return rng.stream_origins(seed, horizon, sites, subs)
