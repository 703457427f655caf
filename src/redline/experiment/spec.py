"""An experiment: which scenario, which lever options × lenses, how uncertainties are sampled,
how many runs, which seed. Given on the command line or as a YAML file."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from redline.engine.simulate import DEFAULT_CHUNK, MAX_CHUNK, MAX_RUNS
from redline.errors import RedlineValueError
from redline.scenario.errors import Issue, ScenarioError
from redline.scenario.loader import OutsideFolder, pydantic_issues, resolve_path
from redline.scenario.yamlsource import read_yaml
from redline.version import __version__

Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")]
SAMPLE_PATTERN = re.compile(r"^(per_run|grid|(lhs|sobol):[1-9][0-9]{0,5})$")


def _sample(value: str) -> str:
    if not SAMPLE_PATTERN.match(value):
        raise ValueError(f"'{value}' must be per_run, grid, lhs:K or sobol:K (K ≥ 1)")
    return value


Sample = Annotated[str, AfterValidator(_sample)]


class ExperimentSpec(BaseModel):
    """What a sweep runs. ``levers``/``lenses`` left out mean every option / every lens.

    ``sample``: ``per_run`` draws each uncertainty per run (the default); ``lhs:K`` and
    ``sobol:K`` fix uncertainties at K design points from a Latin hypercube or Sobol sequence;
    ``grid`` at their 10th, 50th and 90th percentiles (or every value of a choice).
    ``levers_design``: every combination of lever options, or one lever at a time with the
    others at their defaults. ``final_state``: store each run's final state too (every state
    variable: most of a stored run's size; see :mod:`redline.experiment.layout`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    scenario: str
    levers: dict[str, list[str]] | None = None
    lenses: list[str] | None = None
    levers_design: Literal["factorial", "one_at_a_time"] = "factorial"
    sample: Sample = "per_run"
    runs: Annotated[int, Field(ge=1, le=MAX_RUNS)] = 20_000
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    chunk_size: Annotated[int, Field(ge=1, le=MAX_CHUNK)] = DEFAULT_CHUNK
    final_state: bool = False

    def fingerprint(self, scenario_digest: str) -> str:
        """What must match for a stored experiment to be resumed: everything but the name and
        the scenario's path, plus the scenario's content."""
        body = self.model_dump(exclude={"name", "scenario"})
        body["scenario_digest"] = scenario_digest
        body["version"] = __version__
        text = json.dumps(body, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_spec(path: Path) -> ExperimentSpec:
    """Read an experiment file; errors name the file, the line and the key."""
    doc = read_yaml(path)
    if not isinstance(doc.data, dict):
        raise ScenarioError([Issue(doc.file, 1, "", "an experiment file must be a mapping")])
    data = dict(doc.data)
    if isinstance(data.get("scenario"), str):
        # a built-in name, or a file in this file's folder or below it (symbolic links
        # followed): an experiment file from a stranger must not make redline read other files
        try:
            data["scenario"] = str(resolve_path(data["scenario"], path))
        except OutsideFolder as exc:
            file, line = doc.where(("scenario",))
            raise ScenarioError([Issue(file, line, "scenario", str(exc))]) from None
    try:
        return ExperimentSpec.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(pydantic_issues(exc, doc)) from None


def is_experiment_file(path: Path) -> bool:
    """Whether ``path`` is an experiment file (YAML with ``scenario:``, not a scenario)."""
    if path.suffix not in (".yaml", ".yml") or not path.is_file():
        return False
    data = read_yaml(path).data
    return isinstance(data, dict) and "scenario" in data and "actors" not in data


def sweep_spec(
    source: str | Path,
    *,
    name: str | None = None,
    runs: int | None = None,
    seed: int | None = None,
    levers: Mapping[str, Sequence[str]] | None = None,
    lenses: Sequence[str] | None = None,
    sample: str | None = None,
    chunk_size: int | None = None,
    levers_design: str | None = None,
    final_state: bool | None = None,
) -> ExperimentSpec:
    """The experiment ``redline sweep`` and :func:`redline.sweep` run: an experiment file's,
    with what is given replacing its values, or one made of a scenario (a file or a built-in
    name) and what is given (``name`` required then). ``None`` leaves a value as it is."""
    if sample is not None and not SAMPLE_PATTERN.match(sample):
        raise RedlineValueError(
            f"sample must be per_run, grid, lhs:K or sobol:K, got '{sample}'", parameter="sample"
        )
    given: dict[str, object] = {
        "name": name,
        "runs": runs,
        "seed": seed,
        "sample": sample,
        "chunk_size": chunk_size,
        "levers": {k: list(v) for k, v in levers.items()} if levers else None,
        "lenses": list(lenses) if lenses else None,
        "levers_design": levers_design,
        "final_state": final_state,
    }
    path = Path(source)
    if is_experiment_file(path):
        spec = load_spec(path)
        spec = spec.model_copy(update={k: v for k, v in given.items() if v is not None})
        return ExperimentSpec.model_validate(spec.model_dump())
    if name is None:
        raise RedlineValueError(
            "name is required when sweeping a scenario (an experiment's name in the store)",
            parameter="name",
        )
    # where the scenario is (a built-in's file); the sweep loads and checks it before anything
    # is stored
    given["scenario"] = str(resolve_path(str(source)))
    return ExperimentSpec.model_validate({k: v for k, v in given.items() if v is not None})
