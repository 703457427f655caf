"""The JSON API: the operations of the command line (validate, run, results, compare, story,
export, delete) over HTTP, documented by the OpenAPI schema at ``/openapi.json``."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from redline.errors import UserError
from redline.web import service
from redline.web.context import Context
from redline.web.jobs import FINISHED, RunJob
from redline.web.models import (
    NAME,
    AxisOut,
    CheckRequest,
    CheckResult,
    ExperimentInfo,
    ExperimentResults,
    Problem,
    RunRequest,
    RunStatus,
    SaveRequest,
    SaveResult,
    ScenarioInfo,
    ScenarioText,
    StoryOut,
)
from redline.web.workspace import NotFound

Kind = Literal["builtin", "workspace"]
ExperimentName = Annotated[str, Query(pattern=NAME)]
PROBLEMS: dict[int | str, dict[str, object]] = {
    400: {"model": Problem, "description": "a mistake in the request, said in one line"},
    404: {"model": Problem, "description": "no such scenario, run or experiment"},
}

router = APIRouter(prefix="/api", responses=PROBLEMS)


def context(request: Request) -> Context:
    ctx = request.app.state.redline
    assert isinstance(ctx, Context)
    return ctx


def status(ctx: Context, job: RunJob) -> RunStatus:
    return RunStatus(
        id=job.id,
        experiment=job.experiment,
        label=job.label,
        state=job.state,
        position=ctx.queue.position(job),
        done=job.done,
        total=job.total,
        fraction=job.fraction,
        message=job.message,
    )


@router.get("/scenarios", response_model=list[ScenarioInfo], tags=["scenarios"])
def list_scenarios(request: Request) -> list[ScenarioInfo]:
    """The built-in scenarios and the workspace's scenario files (``redline scenarios``)."""
    return [ScenarioInfo(**vars(f)) for f in context(request).workspace.listing()]


@router.get("/scenarios/{kind}/{name}", response_model=ScenarioText, tags=["scenarios"])
def read_scenario(request: Request, kind: Kind, name: str) -> ScenarioText:
    """A scenario file's text."""
    return ScenarioText(kind=kind, name=name, text=context(request).workspace.read(kind, name))


@router.put("/scenarios/workspace/{name}", response_model=SaveResult, tags=["scenarios"])
def save_scenario(request: Request, name: str, body: SaveRequest) -> SaveResult:
    """Save a scenario file in the workspace (checked too: a file with problems is saved, and
    the problems are said)."""
    ctx = context(request)
    checked = service.check_text(ctx.workspace, "workspace", name, body.text)
    ctx.workspace.write(name, body.text, new=body.new)
    return SaveResult(name=name, valid=checked.valid, issues=checked.issues)


@router.post("/check", response_model=CheckResult, tags=["scenarios"])
def check_scenario(request: Request, body: CheckRequest) -> CheckResult:
    """Check a scenario's text as ``redline validate`` checks a file: every problem at its
    line, with its element and message."""
    return service.check_text(context(request).workspace, body.kind, body.name, body.text)


@router.post("/runs", response_model=RunStatus, status_code=202, tags=["runs"])
def start_run(request: Request, body: RunRequest) -> RunStatus:
    """Queue a run (``redline run``): each option of every lever not fixed, under the lens
    given or every lens, into the store."""
    ctx = context(request)
    loaded = service.load(ctx.workspace, body.kind, body.name)
    spec = service.run_spec(
        loaded, body.runs, body.seed, body.levers, body.lens, ctx.settings.limits
    )
    label = f"{loaded.scenario.id}: {body.runs:,} runs a configuration, seed {body.seed}"
    return status(ctx, ctx.queue.submit(spec, body.backend, label))


@router.get("/runs", response_model=list[RunStatus], tags=["runs"])
def list_runs(request: Request) -> list[RunStatus]:
    """The runs this server was asked for, newest first."""
    ctx = context(request)
    return [status(ctx, job) for job in ctx.queue.jobs()]


def _job(ctx: Context, ident: str) -> RunJob:
    job = ctx.queue.get(ident)
    if job is None:
        raise NotFound(f"no run '{ident}' on this server")
    return job


@router.get("/runs/{ident}", response_model=RunStatus, tags=["runs"])
def run_status(request: Request, ident: str) -> RunStatus:
    """Where a run stands."""
    ctx = context(request)
    return status(ctx, _job(ctx, ident))


@router.delete("/runs/{ident}", response_model=RunStatus, tags=["runs"])
def cancel_run(request: Request, ident: str) -> RunStatus:
    """Cancel a run: a waiting one at once, a running one once the unit it computes is stored
    (only whole units are stored; the same run started again goes on from there)."""
    ctx = context(request)
    _job(ctx, ident)
    job = ctx.queue.cancel(ident)
    assert job is not None
    return status(ctx, job)


@router.get(
    "/runs/{ident}/events",
    tags=["runs"],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "RunStatus events"}},
)
async def run_events(request: Request, ident: str) -> StreamingResponse:
    """A run's progress as server-sent events: a ``RunStatus`` JSON object each time it
    changes, the last when it has finished."""
    ctx = context(request)
    job = _job(ctx, ident)

    async def events() -> AsyncIterator[str]:
        last = ""
        while True:
            now = status(ctx, job).model_dump_json()
            if now != last:
                yield f"data: {now}\n\n"
                last = now
            if job.state in FINISHED or await request.is_disconnected():
                return
            await asyncio.sleep(0.2)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


@router.get("/experiments", response_model=list[ExperimentInfo], tags=["experiments"])
def list_experiments(request: Request) -> list[ExperimentInfo]:
    """The store's experiments with their status (``redline results list``)."""
    return [service.experiment_info(r) for r in service.experiments(context(request).store)]


@router.get("/experiments/{name}", response_model=ExperimentResults, tags=["experiments"])
def experiment_results(request: Request, name: str) -> ExperimentResults:
    """An experiment's outcome probabilities with 95% intervals per configuration, as
    ``redline run --json`` prints them."""
    store = context(request).store
    info = service.experiment_info(service.record(store, name))
    return ExperimentResults(experiment=info, configurations=service.configurations(store, name))


@router.delete("/experiments/{name}", response_model=ExperimentInfo, tags=["experiments"])
def delete_experiment(request: Request, name: str) -> ExperimentInfo:
    """Delete an experiment and its results (``redline results delete``); refused while this
    server runs it."""
    ctx = context(request)
    info = service.experiment_info(service.record(ctx.store, name))
    if any(j.experiment == name and j.state in ("queued", "running") for j in ctx.queue.jobs()):
        raise UserError(f"experiment '{name}' is being run here; cancel its run first")
    ctx.store.delete(name)
    return info


@router.post(
    "/experiments/{name}/resume", response_model=RunStatus, status_code=202, tags=["experiments"]
)
def resume_experiment(request: Request, name: str) -> RunStatus:
    """Queue a stopped experiment's missing units (as running the same command again does)."""
    ctx = context(request)
    rec = service.record(ctx.store, name)
    label = f"{rec.scenario_id}: resume {name}"
    return status(ctx, ctx.queue.submit(rec.spec, "numpy", label))


@router.get("/experiments/{name}/compare", response_model=list[AxisOut], tags=["experiments"])
def compare_experiment(
    request: Request,
    name: str,
    by: Literal["lever", "lens"] = "lever",
    lens: Annotated[str | None, Query(max_length=200)] = None,
) -> list[AxisOut]:
    """Differences in outcome probabilities between lever options or lenses with 95%
    intervals, everything else held equal (``redline compare``)."""
    return service.comparisons(context(request).store, name, by, lens)


@router.get("/experiments/{name}/story", response_model=StoryOut, tags=["experiments"])
def experiment_story(
    request: Request,
    name: str,
    point: Annotated[int, Query(ge=0, le=2**31)] = 0,
    run: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    seed: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
    verbose: bool = False,
) -> StoryOut:
    """One run of one configuration told as a story (``redline story``)."""
    return service.experiment_story(context(request).store, name, point, seed, run, verbose)


@router.get(
    "/experiments/{name}/rows.csv",
    tags=["experiments"],
    response_class=FileResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "one row per run"}},
)
def export_csv(request: Request, name: str) -> FileResponse:
    """An experiment's rows as CSV (``redline results export --format csv``)."""
    store = context(request).store
    folder = Path(tempfile.mkdtemp(prefix="redline-export-"))
    try:
        path = service.export_rows(store, name, folder)
    except BaseException:
        _remove(folder)
        raise
    return FileResponse(
        path,
        media_type="text/csv",
        filename=f"{name}.csv",
        background=BackgroundTask(_remove, folder),
    )


def _remove(folder: Path) -> None:
    for f in folder.iterdir():
        f.unlink(missing_ok=True)
    folder.rmdir()
