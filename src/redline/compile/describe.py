"""A plain-text listing of a core program (``redline explain --lowered``)."""

from __future__ import annotations

from redline.core.program import Effect, Program, Reaction


def _effect(p: Program, e: Effect) -> str:
    parts = [f"{p.variables[d.var].name} += {d.expr}" for d in e.deltas]
    parts += [f"emit {p.tags[t]}" for t in e.tags]
    if e.level >= 0:
        parts.append(f"level ≥ {p.rungs[e.level]}")
    return "; ".join(parts) or "nothing"


def _rule(p: Program, r: Reaction) -> list[str]:
    at = f" at step {r.at_step}" if r.at_step is not None else ""
    return [
        f"  rule {r.kind}:{r.id}{at}",
        f"    when {r.trigger}",
        f"    with probability {r.probability}",
        f"    fire: {_effect(p, r.fire)}",
        f"    fail: {_effect(p, r.fail)}",
    ]


def describe_program(p: Program) -> str:
    """Every variable, parameter, action, decider, rule, dynamic and outcome of the core."""
    lines = [
        f"program {p.scenario_id}: horizon {p.horizon}, {len(p.tags)} event tags, "
        f"cascade depth ≤ {p.max_depth}",
        "variables:",
    ]
    lines += [f"  {v.name} = {v.initial}  in [{v.lo}, {v.hi}]" for v in p.variables]
    lines.append("parameters:")
    lines += [
        f"  {q.name} = {q.value if q.distribution is None else q.distribution}" for q in p.params
    ]
    lines.append("actions:")
    for a in p.actions:
        lines.append(f"  {a.actor}:{a.id}  requires {a.requires}  escalation {a.escalation:.2f}")
        lines.append(f"    {_effect(p, a.effect)}")
    lines.append("decision-makers:")
    for d in p.deciders:
        names = ["hold"] + [p.actions[c].id for c in d.candidates[1:]]
        lines.append(f"  {d.actor}: {d.kind} λ={d.rationality} over {', '.join(names)}")
    lines.append("schedule:")
    for r in p.schedule:
        lines += _rule(p, r)
    lines.append("dynamics:")
    lines += [f"  {p.variables[d.var].name} := {d.value}" for d in p.dynamics]
    lines.append("rules (cascade order):")
    for r in p.rules:
        lines += _rule(p, r)
    lines.append("outcomes:")
    lines += [f"  {o.id}: {o.when}{'  (ends the run)' if o.absorbing else ''}" for o in p.outcomes]
    return "\n".join(lines)
