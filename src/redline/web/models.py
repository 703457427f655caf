"""The JSON API's request and response bodies (pydantic models: FastAPI documents them in the
OpenAPI schema and checks requests against them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from redline.scenario.yamlsource import MAX_FILE_BYTES

#: the largest seed or run index (the engines key 64-bit random streams)
INDEX_MAX = 2**63 - 1
NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScenarioInfo(BaseModel):
    """A scenario the library lists: a built-in (by name) or a workspace file (by file name)."""

    kind: Literal["builtin", "workspace"]
    name: str
    id: str
    title: str
    description: str
    actors: list[str]
    levers: list[str]
    lenses: list[str]


class ScenarioText(BaseModel):
    kind: Literal["builtin", "workspace"]
    name: str
    text: str


class CheckRequest(_Closed):
    """A scenario's text to check, as the file ``name`` of ``kind`` (for its ``extends``)."""

    text: str = Field(max_length=MAX_FILE_BYTES)
    kind: Literal["builtin", "workspace"] = "workspace"
    name: str = Field(default="untitled.yaml", pattern=NAME)


class IssueOut(BaseModel):
    """One problem, as ``redline validate`` prints it: the line (0: the whole file), the
    element's path and the message (with its suggestion where there is one)."""

    line: int
    path: str
    message: str
    text: str


class CheckResult(BaseModel):
    valid: bool
    issues: list[IssueOut]
    summary: str | None = None


class SaveRequest(_Closed):
    text: str = Field(max_length=MAX_FILE_BYTES)
    #: refuse to overwrite an existing file (create, duplicate)
    new: bool = False


class SaveResult(BaseModel):
    name: str
    valid: bool
    issues: list[IssueOut]


class RunRequest(_Closed):
    """A run as ``redline run`` takes it: each option of every lever not fixed in ``levers``,
    under ``lens`` or every lens, ``runs`` runs each."""

    kind: Literal["builtin", "workspace"]
    name: str = Field(pattern=NAME)
    runs: int = Field(default=20_000, ge=1)
    seed: int = Field(default=0, ge=0, le=INDEX_MAX)
    levers: dict[str, str] = Field(default_factory=dict, max_length=64)
    lens: str | None = Field(default=None, max_length=200)
    backend: Literal["numpy", "numba", "reference"] = "numpy"


class RunStatus(BaseModel):
    """Where a run stands: ``position`` in the queue (0 once started), runs stored of
    ``total`` to compute."""

    id: str
    experiment: str
    label: str
    state: Literal["queued", "running", "done", "stopped", "failed", "cancelled"]
    position: int
    done: int
    total: int
    fraction: float
    message: str


class ExperimentInfo(BaseModel):
    name: str
    scenario: str
    status: str
    points: int
    runs: int
    units: int
    done_units: int
    created: str


class OutcomeOut(BaseModel):
    name: str
    p: float
    lo: float
    hi: float
    mean_first_step: float | None


class ConfigurationOut(BaseModel):
    """One configuration's results, as ``redline run --json`` prints them."""

    scenario: str
    horizon: int
    runs: int
    seed: int
    levers: dict[str, str]
    lens: str | None
    outcomes: dict[str, OutcomeOut]


class ExperimentResults(BaseModel):
    experiment: ExperimentInfo
    configurations: list[ConfigurationOut]


class DifferenceOut(BaseModel):
    outcome: str
    option: str
    baseline: str
    held: str
    p_option: float
    p_baseline: float
    diff: float
    lo: float
    hi: float


class AxisOut(BaseModel):
    axis: str
    under: str | None
    differences: list[DifferenceOut]


class StoryLineOut(BaseModel):
    when: str
    text: str
    why: str
    evidence: list[str]


class StoryOut(BaseModel):
    title: str
    header: list[str]
    lines: list[StoryLineOut]
    ending: str


class Problem(BaseModel):
    """What was wrong with a request, in one line."""

    detail: str
