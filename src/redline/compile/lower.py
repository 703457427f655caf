"""Lower a scenario's domain front end to the core program.

Red lines, treaty clauses, doctrines, scheduled events and generic rules all become core
:class:`Reaction` objects; an action with several actors becomes one core action per actor. The
engine never sees a red line or a clause — only variables, actions, rules, dynamics, outcomes.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

from redline.compile.draws import draw_of
from redline.core.expr import Call, Expr, Name, Str, children
from redline.core.patterns import compile_pattern, match_tags
from redline.core.program import (
    ActorAction,
    Crossing,
    Decider,
    Delta,
    Effect,
    Expression,
    OutcomeTest,
    Program,
    Reaction,
    RunConstant,
    StateUpdate,
    StateVariable,
)
from redline.scenario import symbols as sym
from redline.scenario.calendar import step_of
from redline.scenario.expr import Symbols, Type, check_source
from redline.scenario.expr.fold import fold
from redline.scenario.ladders import builtin_ladder
from redline.scenario.model import EvidenceRef, Scenario
from redline.scenario.register import resolve_evidence
from redline.scenario.symbols import scope_symbols

#: how many rounds of rule reactions one step may have
MAX_CASCADE_DEPTH = 8


@dataclass
class _Lowering:
    s: Scenario

    def __post_init__(self) -> None:
        self.symbols = scope_symbols(self.s)
        self.tags = sym.all_tags(self.s)
        self.var_names = [v.id for v in self.s.variables] + [
            sym.credibility_name(r.id) for r in self.s.red_lines
        ]
        self.rungs = self._rungs()
        self.actions: list[ActorAction] = []
        self.action_index: dict[tuple[str, str], int] = {}
        # the same expression at the same draw site compiles once (responses recur per actor)
        self.compiled: dict[tuple[str, int, Type, str], Expression] = {}

    # -- expressions -------------------------------------------------------------------------
    def expr(
        self, value: float | str, site: str, expect: Type = Type.NUMBER, scope: str = "post"
    ) -> Expression:
        source = value if isinstance(value, str) else repr(float(value))
        return self._compile(source, self.symbols[scope], expect, site)

    def _compile(self, source: str, symbols: Symbols, expect: Type, site: str) -> Expression:
        key = (source, id(symbols), expect, site)
        if key not in self.compiled:
            self.compiled[key] = self._compile_new(source, symbols, expect, site)
        return self.compiled[key]

    def _compile_new(self, source: str, symbols: Symbols, expect: Type, site: str) -> Expression:
        tree = check_source(source, symbols, expect)
        return Expression(source=source, tree=tree, site=site, constant=fold(tree))

    def tag(self, name: str) -> int:
        return self.tags.index(name)

    def var(self, name: str) -> int:
        return self.var_names.index(name)

    def deltas(
        self, effects: dict[str, float | str], site: str, scope: str = "post"
    ) -> tuple[Delta, ...]:
        return tuple(
            Delta(self.var(var), self.expr(value, f"{site}.{var}", scope=scope))
            for var, value in effects.items()
        )

    # -- the ladder --------------------------------------------------------------------------
    def _rungs(self) -> tuple[str, ...]:
        if isinstance(self.s.ladder, str):
            return tuple(r.name for r in builtin_ladder(self.s.ladder).rungs)
        return tuple(r.name for r in self.s.ladder)

    def rung_index(self, level: str | int | None) -> int:
        if level is None:
            return -1
        if isinstance(level, int):
            return level - 1
        if isinstance(self.s.ladder, str):
            return builtin_ladder(self.s.ladder).index(level)
        return [r.id for r in self.s.ladder].index(level)

    # -- actions -----------------------------------------------------------------------------
    def lower_actions(self) -> None:
        top = max(len(self.rungs) - 1, 1)
        for action in self.s.actions:
            level = self.rung_index(action.level)
            escalation = action.escalation
            if escalation is None:
                escalation = max(level, 0) / top
            for actor in action.actors:
                self.action_index[(actor, action.id)] = len(self.actions)
                self.actions.append(
                    ActorAction(
                        id=action.id,
                        actor=actor,
                        requires=self.expr(
                            action.requires,
                            f"actions.{action.id}.requires@{actor}",
                            Type.BOOL,
                            "pre",
                        ),
                        effect=self.perform(actor, action.id, f"actions.{action.id}@{actor}"),
                        escalation=escalation,
                    )
                )

    def perform(self, actor: str, action_id: str, site: str) -> Effect:
        """The effect of ``actor`` performing ``action_id``, its draws keyed under ``site``."""
        action = next(a for a in self.s.actions if a.id == action_id)
        tags = (*action.tags, sym.action_tag(actor, action_id))
        return Effect(
            deltas=self.deltas(action.effects, f"{site}.effects"),
            tags=tuple(self.tag(t) for t in tags),
            level=self.rung_index(action.level),
            actions=(self.action_index.get((actor, action_id), -1),),
        )

    # -- rules -------------------------------------------------------------------------------
    def lower_rules(self) -> list[Reaction]:
        return [
            *self.red_line_rules(),
            *self.clause_rules(),
            *self.doctrine_rules(),
            *self.generic_rules(),
        ]

    def red_line_rules(self) -> list[Reaction]:
        rules = []
        lines = self.s.red_lines
        for r in lines:
            site = f"red_lines.{r.id}"
            cred = sym.credibility_name(r.id)
            c = r.credibility
            rise = f"({c.rise}) * (1 - {cred})"
            decay = f"{cred} * (({c.decay}) - 1)"
            peers = [sym.credibility_name(o.id) for o in lines if o.owner == r.owner and o is not r]
            fire_deltas = [(cred, rise)] + [(p, f"({c.spillover}) * {rise}") for p in peers]
            fail_deltas = [(cred, decay)] + [(p, f"({c.spillover}) * {decay}") for p in peers]
            response = self.perform(r.owner, r.response, f"{site}.response")
            fire = Effect(
                deltas=(*self.deltas(dict(fire_deltas), f"{site}.enforced"), *response.deltas),
                tags=(
                    self.tag(sym.crossed_tag(r.id)),
                    self.tag(sym.enforced_tag(r.id)),
                    *response.tags,
                ),
                level=response.level,
                actions=response.actions,
            )
            fail = Effect(
                deltas=self.deltas(dict(fail_deltas), f"{site}.unenforced"),
                tags=(self.tag(sym.crossed_tag(r.id)),),
            )
            rules.append(
                Reaction(
                    id=r.id,
                    kind="red_line",
                    trigger=self.expr(
                        f'now("{r.crossing}") and ({r.when})', f"{site}.when", Type.BOOL
                    ),
                    probability=self.expr(
                        r.enforce if r.enforce is not None else cred, f"{site}.enforce"
                    ),
                    fire=fire,
                    fail=fail,
                    evidence=self.evidence_quotes(r.evidence),
                )
            )
        return rules

    def clause_rules(self) -> list[Reaction]:
        rules = []
        for alliance in self.s.alliances:
            for clause in alliance.clauses:
                site = f"alliances.{alliance.id}.{clause.id}"
                triggered = self.tag(sym.triggered_tag(alliance.id, clause.id))
                response = (
                    self.perform(alliance.id, clause.response, f"{site}.response")
                    if clause.response
                    else Effect()
                )
                fire = Effect(
                    deltas=(*self.deltas(clause.effects, f"{site}.effects"), *response.deltas),
                    tags=(
                        triggered,
                        self.tag(sym.invoked_tag(alliance.id, clause.id)),
                        *(self.tag(t) for t in clause.tags),
                        *response.tags,
                    ),
                    level=response.level,
                    actions=response.actions,
                )
                trigger = sym.expand_members(clause.trigger, alliance.members)
                rules.append(
                    Reaction(
                        id=f"{alliance.id}.{clause.id}",
                        kind="clause",
                        trigger=self.expr(trigger, f"{site}.trigger", Type.BOOL),
                        probability=self.expr(clause.invocation, f"{site}.invocation"),
                        fire=fire,
                        fail=Effect(tags=(triggered,)),
                        evidence=self.evidence_quotes(clause.evidence),
                    )
                )
        return rules

    def doctrine_rules(self) -> list[Reaction]:
        return [
            Reaction(
                id=d.id,
                kind="doctrine",
                trigger=self.expr(d.when, f"doctrines.{d.id}.when", Type.BOOL),
                probability=self.expr(d.probability, f"doctrines.{d.id}.probability"),
                fire=self.perform(d.actor, d.action, f"doctrines.{d.id}.action"),
                fail=Effect(),
                evidence=self.evidence_quotes(d.evidence),
            )
            for d in self.s.doctrines
        ]

    def generic_rules(self) -> list[Reaction]:
        return [
            Reaction(
                id=r.id,
                kind="rule",
                trigger=self.expr(r.when, f"rules.{r.id}.when", Type.BOOL),
                probability=self.expr(r.probability, f"rules.{r.id}.probability"),
                fire=Effect(
                    deltas=self.deltas(r.effects, f"rules.{r.id}.effects"),
                    tags=tuple(self.tag(t) for t in (*r.tags, f"rule:{r.id}")),
                ),
                fail=Effect(),
                evidence=self.evidence_quotes(r.evidence),
            )
            for r in self.s.rules
        ]

    def schedule_rules(self) -> list[Reaction]:
        rules = []
        for e in self.s.schedule:
            step = e.step if e.step is not None else step_of(e.at, self.s.time)  # type: ignore[arg-type]
            site = f"schedule.{e.id}"
            rules.append(
                Reaction(
                    id=e.id,
                    kind="schedule",
                    trigger=self.expr(e.when, f"{site}.when", Type.BOOL, "pre"),
                    probability=self.expr(e.probability, f"{site}.probability", scope="pre"),
                    fire=Effect(
                        deltas=self.deltas(e.effects, f"{site}.effects", "pre"),
                        tags=tuple(self.tag(t) for t in (*e.tags, f"{e.kind}:{e.id}")),
                    ),
                    fail=Effect(),
                    at_step=step,
                    evidence=self.evidence_quotes(e.evidence),
                )
            )
        return rules

    def evidence_quotes(self, refs: list[EvidenceRef]) -> tuple[str, ...]:
        return tuple(f"{c.reference}: “{c.quote}”" for c in resolve_evidence(self.s, refs))

    # -- decision-makers ---------------------------------------------------------------------
    def deciders(self, rules: list[Reaction]) -> list[Decider]:
        red_rules = {r.id: i for i, r in enumerate(rules) if r.kind == "red_line"}
        out = []
        for actor in self.s.actors:
            d = actor.decision
            site = f"actors.{actor.id}.decision"
            # an action whose requirement is the constant false is only ever a response
            candidates = [-1] + [
                i
                for i, a in enumerate(self.actions)
                if a.actor == actor.id
                and (d.kind == "scripted" or a.requires.constant is not False)
            ]
            crossings = tuple(self.crossings(actor.id, c, red_rules) for c in candidates)
            plan: dict[int, int] = {}
            for item in d.plan:
                step = item.step if item.step is not None else step_of(item.at, self.s.time)  # type: ignore[arg-type]
                target = -1 if item.action == "hold" else self.action_index[(actor.id, item.action)]
                plan[step] = candidates.index(target)
            responses = {
                red_rules[r.id]: self.perform(r.owner, r.response, f"red_lines.{r.id}.response")
                for r in self.s.red_lines
            }
            out.append(
                Decider(
                    actor=actor.id,
                    kind=d.kind,
                    candidates=tuple(candidates),
                    rationality=self.expr(d.rationality, f"{site}.lambda", scope="pre"),
                    weights=tuple(
                        (self.var(v), self.expr(w, f"{site}.weights.{v}", scope="pre"))
                        for v, w in d.weights.items()
                    ),
                    escalation_cost=self.expr(
                        d.escalation_cost, f"{site}.escalation_cost", scope="pre"
                    ),
                    perception_noise=self.expr(
                        d.perception_noise, f"{site}.perception_noise", scope="pre"
                    ),
                    crossings=crossings,
                    responses=responses,
                    plan=plan,
                )
            )
        return out

    def crossings(
        self, actor: str, candidate: int, red_rules: dict[str, int]
    ) -> tuple[Crossing, ...]:
        if candidate < 0:
            return ()
        action = self.actions[candidate]
        tags = [self.tags[t] for t in action.effect.tags]
        found = []
        for r in self.s.red_lines:
            against = r.against or [a for a in sym.actors_of(self.s) if a != r.owner]
            pattern = compile_pattern(r.crossing)
            if actor in against and any(pattern.fullmatch(t) for t in tags):
                found.append(
                    Crossing(
                        red_line=red_rules[r.id],
                        owner=r.owner,
                        credibility_var=self.var(sym.credibility_name(r.id)),
                        when=self.expr(r.when, f"red_lines.{r.id}.when@{actor}", Type.BOOL),
                        cost=(
                            self.expr(r.cost, f"red_lines.{r.id}.cost@{actor}", scope="post")
                            if r.cost is not None
                            else None
                        ),
                    )
                )
        return tuple(found)

    # -- everything --------------------------------------------------------------------------
    def program(self) -> Program:
        s = self.s
        self.lower_actions()
        variables = [
            StateVariable(
                v.id,
                self.expr(v.initial, f"variables.{v.id}.initial", scope="static"),
                v.min if v.min is not None else float("-inf"),
                v.max if v.max is not None else float("inf"),
            )
            for v in s.variables
        ] + [
            StateVariable(
                sym.credibility_name(r.id),
                self.expr(
                    r.credibility.initial, f"red_lines.{r.id}.credibility.initial", scope="static"
                ),
                0.0,
                1.0,
            )
            for r in s.red_lines
        ]
        params = [RunConstant(p.id, p.value) for p in s.parameters] + [
            RunConstant(u.id, None, draw_of(u.distribution)) for u in s.uncertainties
        ]
        rules = [_watching(r, self.var_names, self.tags) for r in self.lower_rules()]
        deciders = self.deciders(rules)
        return Program(
            scenario_id=s.id,
            horizon=s.time.horizon,
            variables=tuple(variables),
            params=tuple(params),
            tags=self.tags,
            actions=tuple(self.actions),
            deciders=tuple(deciders),
            schedule=tuple(self.schedule_rules()),
            dynamics=tuple(
                StateUpdate(
                    self.var(d.variable), self.expr(d.value, f"dynamics.{d.id}", scope="pre")
                )
                for d in s.dynamics
            ),
            rules=tuple(rules),
            outcomes=tuple(
                OutcomeTest(
                    o.id, o.label, self.expr(o.when, f"outcomes.{o.id}", Type.BOOL), o.absorbing
                )
                for o in s.outcomes
            ),
            rungs=self.rungs,
            max_depth=MAX_CASCADE_DEPTH,
            strategic=any(_reads_choices(d, self.actions) for d in deciders),
            fingerprint=hashlib.blake2b(
                s.model_dump_json(by_alias=True).encode(), digest_size=12
            ).hexdigest(),
        )


def _reads(
    expr: Expr, variables: list[str], tags: tuple[str, ...]
) -> tuple[frozenset[int], frozenset[int]]:
    """The state variables and event tags an expression reads."""
    names: set[int] = set()
    seen: set[int] = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Name) and node.name in variables:
            names.add(variables.index(node.name))
        if isinstance(node, Call) and node.func in ("happened", "now", "count"):
            pattern = node.args[0]
            if isinstance(pattern, Str):
                seen.update(match_tags(pattern.value, tags))
        stack.extend(children(node))
    return frozenset(names), frozenset(seen)


def _watching(rule: Reaction, variables: list[str], tags: tuple[str, ...]) -> Reaction:
    watch_vars, watch_tags = _reads(rule.trigger.tree, variables, tags)
    return dataclasses.replace(rule, watch_vars=watch_vars, watch_tags=watch_tags)


def _calls_chose(expr: Expr) -> bool:
    if isinstance(expr, Call) and expr.func == "chose":
        return True
    return any(_calls_chose(child) for child in children(expr))


def _reads_choices(d: Decider, actions: list[ActorAction]) -> bool:
    """Whether a logit decider's utilities read what others choose this step."""
    if d.kind != "logit":
        return False
    exprs = [delta.expr for c in d.candidates[1:] for delta in actions[c].effect.deltas]
    exprs += [delta.expr for effect in d.responses.values() for delta in effect.deltas]
    exprs += [
        x for crossing in d.crossings for c in crossing for x in (c.when, c.cost) if x is not None
    ]
    return any(_calls_chose(x.tree) for x in exprs)


def lower(scenario: Scenario) -> Program:
    """Compile a validated scenario to its core program."""
    return _Lowering(scenario).program()
