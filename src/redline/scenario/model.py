"""The typed scenario model: every element of DESIGN §2 as a validated pydantic model.

The model checks the shape of each element (types, required keys, ranges of literal numbers);
cross-references and expressions are checked afterwards by :mod:`redline.scenario.validate`,
which needs the whole scenario in view.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

#: an element id: letters, digits and underscores, dotted segments allowed (``support.USA``)
Id = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
]
#: a scenario id: like an element id, hyphens allowed (``nato-russia``)
ScenarioId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_-]*$")]
#: an expression in the scenario language (docs/expressions.md)
ExprText = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
#: a literal number or an expression that evaluates to one
NumOrExpr = float | ExprText
Category = Literal["diplomatic", "economic", "proxy", "conventional", "nuclear"]


class Strict(BaseModel):
    """Base of every model: unknown keys are errors, values are immutable once loaded."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )


#: a number a quote states: a plain number (``0.08`` or ``8``) or a percentage (``"8%"``; the
#: text's form is checked by :mod:`redline.scenario.validate`)
StatedNumber = float | str


class SourceRecord(Strict):
    """A bibliographic record of one source the scenario quotes: what a reader needs to find it
    (title, author or publisher, date, URL) and, where redline has its text, the ``file`` whose
    words the quotes are checked against. Evidence names it by ``id`` (or by that file name).

    ``date`` is ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` (checked by
    :mod:`redline.scenario.validate`); ``note`` says what is uncertain about the record."""

    id: Id
    title: Annotated[str, StringConstraints(min_length=1)]
    author: Annotated[str, StringConstraints(min_length=1)] | None = None
    publisher: Annotated[str, StringConstraints(min_length=1)] | None = None
    date: dt.date | int | str | None = None
    url: Annotated[str, StringConstraints(min_length=1)] | None = None
    file: Annotated[str, StringConstraints(min_length=1)] | None = None
    note: str | None = None


class EvidenceItem(Strict):
    """A citation: a source (a record's id in ``sources``, that record's file name, or free text
    naming a public record) and a verbatim quote. ``states`` lists the numbers the quote itself
    states (each must occur in the quote): a value of the scenario equal to one of them is
    stated by the source, not merely supported by it."""

    id: Id | None = None
    source: Annotated[str, StringConstraints(min_length=1)]
    quote: Annotated[str, StringConstraints(min_length=1)]
    supports: str | None = None
    states: list[StatedNumber] = Field(default_factory=list)


#: an element's evidence: an inline citation or the id of one in the top-level ``evidence`` list
EvidenceRef = Id | EvidenceItem


class Element(Strict):
    """What every scenario element has: an id, a readable name, its evidence and its
    ``assumption`` (the reason for its numbers: with evidence, the reasoning from quote to
    number). ``numbers: assumption`` says that the evidence shows the mechanism but not its
    numbers, so the register counts them as assumptions rather than as supported by a quote."""

    id: Id
    name: str | None = None
    description: str | None = None
    evidence: list[EvidenceRef] = Field(default_factory=list)
    assumption: str | None = None
    numbers: Literal["assumption"] | None = None

    @property
    def label(self) -> str:
        return self.name or self.id


class TimeSpec(Strict):
    """The step unit, the calendar date of step 0, and the number of steps."""

    step: Literal["day", "week", "month", "quarter", "year"] = "month"
    start: dt.date | None = None
    horizon: Annotated[int, Field(ge=1, le=10_000)]


class RungSpec(Strict):
    """One rung of an inline ladder."""

    id: Id
    name: str
    category: Category
    group: str | None = None


class PlanItem(Strict):
    """One dated entry of a scripted decision-maker's plan."""

    step: Annotated[int, Field(ge=0)] | None = None
    at: dt.date | None = None
    action: Id

    @model_validator(mode="after")
    def _one_time(self) -> PlanItem:
        if (self.step is None) == (self.at is None):
            raise ValueError("give exactly one of 'step' or 'at'")
        return self


#: keys that would send a scenario's data somewhere: a scenario names a model, never a host or key
HOST_KEYS = ("endpoint", "base_url", "url", "host", "api_key", "key", "api_key_env")
#: the keys only a language-model decision-maker (``kind: llm``) reads
LLM_KEYS = ("model", "temperature", "persona", "fallback", "retries", "max_tokens")


class DecisionSpec(Strict):
    """How an actor decides: quantal response (logit), doctrine only, a scripted plan, or a
    language model (``llm``) behind an OpenAI-compatible endpoint.

    A language model's ``model`` is the name its endpoint serves; ``persona`` says who the actor
    is, in the prompt; ``weights`` become its goals; ``fallback`` (an action of the actor, or
    ``hold``) is taken when ``retries`` further answers are still not a valid choice. The
    endpoint and key are never part of a scenario (a file from a stranger must not send data to
    a host the user did not configure): they come from the command line or the environment."""

    kind: Literal["logit", "doctrine", "scripted", "llm"] = "logit"
    rationality: NumOrExpr = Field(default=1.0, alias="lambda")
    weights: dict[Id, NumOrExpr] = Field(default_factory=dict)
    escalation_cost: NumOrExpr = 0.0
    perception_noise: NumOrExpr = 0.0
    plan: list[PlanItem] = Field(default_factory=list)
    model: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 1.0
    persona: Annotated[str, StringConstraints(max_length=4000)] | None = None
    fallback: Id = "hold"
    retries: Annotated[int, Field(ge=0, le=10)] = 2
    max_tokens: Annotated[int, Field(ge=16, le=8192)] = 400

    @model_validator(mode="before")
    @classmethod
    def _no_host(cls, data: object) -> object:
        if isinstance(data, dict):
            named = [k for k in HOST_KEYS if k in data]
            if named:
                raise ValueError(
                    f"'{named[0]}': a scenario may name a model, never an endpoint or key (a "
                    "file from someone else must not send data to a host you did not choose); "
                    "give them with --llm-endpoint and --llm-key-env, or OPENAI_BASE_URL and "
                    "OPENAI_API_KEY"
                )
        return data


class Actor(Element):
    """A state or organisation that decides."""

    kind: Literal["state", "organisation"] = "state"
    nuclear: bool = False
    decision: DecisionSpec = Field(default_factory=DecisionSpec)


class Clause(Element):
    """A treaty clause: when its trigger holds it is invoked with a probability, then responds."""

    kind: Literal["consultation", "collective_defence", "other"] = "other"
    trigger: ExprText
    invocation: NumOrExpr = 1.0
    response: Id | None = None
    effects: dict[Id, NumOrExpr] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)


class Alliance(Element):
    """A set of member actors bound by treaty clauses."""

    members: Annotated[list[Id], Field(min_length=1)]
    clauses: list[Clause] = Field(default_factory=list)


class Parameter(Element):
    """A named constant that expressions read and levers or lenses may override."""

    value: float


class Variable(Element):
    """A state variable: its initial value and optional bounds (values are clipped to them)."""

    initial: NumOrExpr = 0.0
    min: float | None = None
    max: float | None = None


class Action(Element):
    """Something an actor can do in a step: requirements, effects (deltas), events it emits."""

    actors: Annotated[list[Id], Field(min_length=1)]
    requires: ExprText = "true"
    effects: dict[Id, NumOrExpr] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    level: Id | Annotated[int, Field(ge=1)] | None = None
    escalation: Annotated[float, Field(ge=0.0, le=1.0)] | None = None


class Credibility(Strict):
    """How a red line's credibility starts and moves: rises when enforced, decays when not."""

    initial: NumOrExpr = 0.5
    rise: NumOrExpr = 0.2
    decay: NumOrExpr = 0.8
    spillover: NumOrExpr = 0.0


class RedLine(Element):
    """An owner's declared threshold: crossing it threatens a response, enforced or not."""

    owner: Id
    against: list[Id] = Field(default_factory=list)
    crossing: Annotated[str, StringConstraints(min_length=1)]
    when: ExprText = "true"
    response: Id
    enforce: NumOrExpr | None = None
    cost: NumOrExpr | None = None
    credibility: Credibility = Field(default_factory=Credibility)


class Doctrine(Element):
    """An actor's standing rule: under a condition, take an action with a probability."""

    actor: Id
    when: ExprText
    action: Id
    probability: NumOrExpr = 1.0


class ScheduledEvent(Element):
    """A dated event (summit, election …) that may change the state with a probability."""

    kind: Literal["election", "summit", "event"] = "event"
    at: dt.date | None = None
    step: Annotated[int, Field(ge=0)] | None = None
    actor: Id | None = None
    when: ExprText = "true"
    probability: NumOrExpr = 1.0
    effects: dict[Id, NumOrExpr] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_time(self) -> ScheduledEvent:
        if (self.step is None) == (self.at is None):
            raise ValueError("give exactly one of 'step' or 'at'")
        return self


class Dynamic(Element):
    """A per-step update of one variable: its new value as an expression of the state."""

    variable: Id
    value: ExprText


class Rule(Element):
    """A generic reaction: when the condition holds, with a probability, apply effects and emit."""

    when: ExprText
    probability: NumOrExpr = 1.0
    effects: dict[Id, NumOrExpr] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)


class Outcome(Element):
    """A named condition recorded at its first hit; an absorbing one ends the run."""

    when: ExprText
    absorbing: bool = False


class LeverOption(Strict):
    """One option of a lever and the parameter values it sets."""

    id: Id
    name: str | None = None
    description: str | None = None
    set: dict[Id, float] = Field(default_factory=dict)
    evidence: list[EvidenceRef] = Field(default_factory=list)


class Lever(Element):
    """A policy choice the user compares; its options set parameters."""

    options: Annotated[list[LeverOption], Field(min_length=1)]
    default: Id | None = None


class Uniform(Strict):
    kind: Literal["uniform"]
    low: float
    high: float


class Normal(Strict):
    kind: Literal["normal"]
    mean: float
    sd: Annotated[float, Field(ge=0.0)]


class Triangular(Strict):
    kind: Literal["triangular"]
    low: float
    mode: float
    high: float


class Beta(Strict):
    kind: Literal["beta"]
    alpha: Annotated[float, Field(gt=0.0)]
    beta: Annotated[float, Field(gt=0.0)]
    low: float = 0.0
    high: float = 1.0


class Choice(Strict):
    kind: Literal["choice"]
    values: Annotated[list[float], Field(min_length=1)]
    weights: list[Annotated[float, Field(ge=0.0)]] | None = None


Distribution = Annotated[Uniform | Normal | Triangular | Beta | Choice, Field(discriminator="kind")]


class Uncertainty(Element):
    """A parameter drawn per run from a distribution."""

    distribution: Distribution


class Lens(Element):
    """A named worldview: parameter values or priors taken from one source's argument."""

    set: dict[Id, float | Distribution] = Field(default_factory=dict)


def _month(text: str) -> str:
    if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", text):
        raise ValueError(f"a month is written YYYY-MM (2024-05), got '{text}'")
    return text


#: a calendar month, ``2024-05``
Month = Annotated[str, AfterValidator(_month)]
#: one outcome id, or several (any of them)
OutcomeRef = Id | Annotated[list[Id], Field(min_length=1)]


class Observation(Element):
    """A dated fact of the record, with its evidence (a public record, quoted).

    Its subject is exactly one of: an ``event`` (a tag pattern), an ``outcome`` (or a list: any
    of them), a ``variable``, or an ``action`` with the ``actor`` who took it. Its timing:
    for an event or outcome ``first_between: [FROM, TO]`` (it happened first within the window),
    ``by: DATE`` or ``not_by: DATE``; for a variable ``at: DATE`` and ``range: [LO, HI]`` (a
    hard constraint, or with ``tolerance`` edges that fall off as a Gaussian of that width);
    for an action ``at: DATE``, ``in_month: YYYY-MM`` or ``between: [FROM, TO]``. A date stands
    for the step that contains it, observed at the end of that step. Cross-references, dates and
    the combinations of keys are checked by :mod:`redline.scenario.validate`."""

    event: Annotated[str, StringConstraints(min_length=1)] | None = None
    outcome: OutcomeRef | None = None
    variable: Id | None = None
    action: Id | None = None
    actor: Id | None = None
    first_between: tuple[dt.date, dt.date] | None = None
    by: dt.date | None = None
    not_by: dt.date | None = None
    at: dt.date | None = None
    range: tuple[float, float] | None = None
    tolerance: Annotated[float, Field(gt=0.0)] | None = None
    in_month: Month | None = None
    between: tuple[dt.date, dt.date] | None = None


class Forecast(Element):
    """A published probability statement: who made it, when, the question as an outcome (or
    event) by a date, the probability or a range, and its source (``evidence``, quoted).
    ``resolved_by`` names the observation that says how the question resolved."""

    forecaster: Annotated[str, StringConstraints(min_length=1)]
    made: dt.date
    question: Annotated[str, StringConstraints(min_length=1)]
    event: Annotated[str, StringConstraints(min_length=1)] | None = None
    outcome: OutcomeRef | None = None
    by: dt.date
    probability: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    range: (
        tuple[Annotated[float, Field(ge=0.0, le=1.0)], Annotated[float, Field(ge=0.0, le=1.0)]]
        | None
    ) = None
    resolved_by: Id | None = None


class Scenario(Strict):
    """A whole scenario: the typed form of one YAML file (after ``extends`` is resolved)."""

    id: ScenarioId
    title: str
    description: str | None = None
    extends: str | None = None
    time: TimeSpec
    ladder: str | list[RungSpec] = "condensed"
    actors: Annotated[list[Actor], Field(min_length=1)]
    alliances: list[Alliance] = Field(default_factory=list)
    parameters: list[Parameter] = Field(default_factory=list)
    variables: list[Variable] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)
    red_lines: list[RedLine] = Field(default_factory=list)
    doctrines: list[Doctrine] = Field(default_factory=list)
    schedule: list[ScheduledEvent] = Field(default_factory=list)
    dynamics: list[Dynamic] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    outcomes: list[Outcome] = Field(default_factory=list)
    levers: list[Lever] = Field(default_factory=list)
    uncertainties: list[Uncertainty] = Field(default_factory=list)
    lenses: list[Lens] = Field(default_factory=list)
    sources: list[SourceRecord] = Field(default_factory=list)
    evidence: list[EvidenceItem] = Field(default_factory=list)
    observations: list[Observation] = Field(default_factory=list)
    forecasts: list[Forecast] = Field(default_factory=list)
