"""The analysis pages and their JSON: a form per analysis of a scenario, why and ablation of a
stored configuration, each queued (:mod:`redline.web.analyses`) and shown at
``/analyses/{id}`` with its progress, then its tables (CSV) and figures (PNG/SVG)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel

from redline.web import analysis_kinds as kinds
from redline.web import service
from redline.web.analyses import AnalysisJob
from redline.web.context import Context
from redline.web.models import INDEX_MAX
from redline.web.pages import render
from redline.web.workspace import NotFound

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["analyses"])
Kind = Literal["builtin", "workspace"]
Point = Annotated[int, Query(ge=0, le=2**31)]
Seed = Annotated[int, Query(ge=0, le=INDEX_MAX)]
Text = Annotated[str, Query(max_length=2_000)]
Name = Annotated[str | None, Query(max_length=200)]
#: the game the form starts with for nato-russia: 003's convoy argument
CONVOY_GAME = {
    "step": "2024-07",
    "decisions": "RUS=strike_convoy,~strike_convoy",
    "lever_players": "NATO=nato_response",
    "weights": "NATO=USA",
}


def context(request: Request) -> Context:
    ctx = request.app.state.redline
    assert isinstance(ctx, Context)
    return ctx


class AnalysisStatus(BaseModel):
    """Where an analysis stands; ``result`` is its command's ``--json`` object once done."""

    id: str
    kind: str
    label: str
    state: str
    position: int
    done: int
    total: int
    step: str
    fraction: float
    message: str
    result: dict[str, Any] | None = None


def status(ctx: Context, job: AnalysisJob, with_result: bool = False) -> AnalysisStatus:
    return AnalysisStatus(
        id=job.id,
        kind=job.kind,
        label=job.label,
        state=job.state,
        position=ctx.analyses.position(job),
        done=job.done,
        total=job.total,
        step=job.step,
        fraction=job.fraction,
        message=job.message,
        result=job.result.data if with_result and job.result is not None else None,
    )


def _job(ctx: Context, ident: str) -> AnalysisJob:
    job = ctx.analyses.get(ident)
    if job is None:
        raise NotFound(f"no analysis '{ident}' on this server")
    return job


def _go(job: AnalysisJob) -> RedirectResponse:
    return RedirectResponse(f"/analyses/{job.id}", status_code=303)


def _levers(text: str) -> dict[str, str]:
    return dict(kinds.pairs(text.replace(";", "\n"), "lever"))


# -- pages -------------------------------------------------------------------------------------
@pages.get("/scenarios/{kind}/{name}/analyze", response_class=HTMLResponse)
def analyze(request: Request, kind: Kind, name: str) -> HTMLResponse:
    """The analyses of a scenario, each a form with its options and their caps."""
    ctx = context(request)
    s = service.load(ctx.workspace, kind, name).scenario
    return render(
        "analyze.html.j2",
        kind=kind,
        name=name,
        s=s,
        caps=kinds.CAPS,
        game=CONVOY_GAME if s.id == "nato-russia" else dict.fromkeys(CONVOY_GAME, ""),
    )


@pages.get("/scenarios/{kind}/{name}/analyze/{what}", response_class=HTMLResponse)
def start(
    request: Request,
    kind: Kind,
    name: str,
    what: Literal["score", "sensitivity", "discover", "robust", "game"],
    seed: Seed = 0,
    lens: Name = None,
    levers: Text = "",
    outcome: Name = None,
    runs: Annotated[int, Query(ge=0, le=10**9)] = 1_000,
    particles: Annotated[int, Query(ge=0, le=10**9)] = 2_000,
    replicates: Annotated[int, Query(ge=0, le=10**6)] = 3,
    method: Literal["sobol", "morris"] = "morris",
    n: Annotated[int, Query(ge=0, le=10**9)] = 10,
    runs_per_point: Annotated[int, Query(ge=0, le=10**9)] = 100,
    samples: Annotated[int, Query(ge=0, le=10**6)] = 4,
    threshold: Annotated[float, Query(gt=0, lt=1)] = 0.05,
    step: Text = "",
    decisions: Text = "",
    lever_players: Text = "",
    weights: Text = "",
    values: Text = "",
) -> RedirectResponse:
    """Queue one analysis of a scenario with the form's options; on to its page."""
    ctx = context(request)
    s = service.load(ctx.workspace, kind, name).scenario
    lens = lens or None
    fixed = _levers(levers)
    if what == "score":
        compute = kinds.score(s, particles, replicates, seed, lens)
        label = f"history scores: {particles:,} particles × {replicates} filters"
    elif what == "sensitivity":
        compute = kinds.sensitivity(s, method, n, runs_per_point, seed, fixed, lens)
        label = f"sensitivity ({method}, {n} × {runs_per_point:,} runs a point)"
    elif what == "discover":
        target = outcome or s.outcomes[0].id
        compute = kinds.discover(s, target, runs, seed, fixed, lens)
        label = f"scenario discovery of {target}: {runs:,} runs"
    elif what == "robust":
        compute = kinds.robust(s, outcome or None, threshold, samples, runs, seed)
        plural = "" if samples == 1 else "s"
        label = f"robust levers: {samples} sample{plural} × {runs:,} runs a world"
    else:
        compute = kinds.game(s, step, decisions, lever_players, weights, values, runs, seed, lens)
        label = f"the game at step {step}: {runs:,} runs a profile"
    back = f"/scenarios/{kind}/{name}/analyze"
    return _go(ctx.analyses.submit(what, f"{s.id} · {label}", back, compute))


def _stored(ctx: Context, name: str, point: int) -> tuple[Any, int, dict[str, str], str | None]:
    rec = service.record(ctx.store, name)
    chosen = next((p for p in ctx.store.points(name) if p["point"] == point), None)
    if chosen is None:
        raise NotFound(f"experiment '{name}' has no configuration {point}")
    levers = {str(k): str(v) for k, v in chosen["levers"].items()}
    return ctx.store.scenario(name), rec.spec.seed, levers, chosen["lens"]


def _why(ctx: Context, name: str, point: int, outcome: str | None, runs: int) -> AnalysisJob:
    s, seed, levers, lens = _stored(ctx, name, point)
    outcome = outcome or s.outcomes[0].id
    compute = kinds.why(s, outcome, runs, seed, levers, lens)
    label = f"{name} · configuration {point} · why {outcome}: {runs:,} runs"
    return ctx.analyses.submit("why", label, f"/experiments/{name}", compute)


def _ablation(ctx: Context, name: str, point: int, runs: int) -> AnalysisJob:
    s, seed, levers, lens = _stored(ctx, name, point)
    compute = kinds.ablation(s, runs, seed, levers, lens)
    label = f"{name} · configuration {point} · ablation: {runs:,} runs"
    return ctx.analyses.submit("ablation", label, f"/experiments/{name}", compute)


@pages.get("/experiments/{name}/why", response_class=HTMLResponse)
def why_page(
    request: Request,
    name: str,
    point: Point = 0,
    outcome: Name = None,
    runs: Annotated[int, Query(ge=0, le=10**9)] = 2_000,
) -> RedirectResponse:
    """What led to an outcome in one configuration (``redline why``), queued."""
    return _go(_why(context(request), name, point, outcome, runs))


@pages.get("/experiments/{name}/ablation", response_class=HTMLResponse)
def ablation_page(
    request: Request, name: str, point: Point = 0, runs: Annotated[int, Query(ge=0)] = 2_000
) -> RedirectResponse:
    """What each mechanism does in one configuration (``redline ablate``), queued."""
    return _go(_ablation(context(request), name, point, runs))


@pages.get("/analyses/{ident}", response_class=HTMLResponse)
def analysis_page(request: Request, ident: str) -> HTMLResponse:
    """An analysis: its progress while it computes, then its tables and figures."""
    ctx = context(request)
    job = _job(ctx, ident)
    return render("analysis_job.html.j2", job=job, position=ctx.analyses.position(job))


# -- JSON --------------------------------------------------------------------------------------
@api.get("/analyses/{ident}", response_model=AnalysisStatus)
def analysis_status(request: Request, ident: str) -> AnalysisStatus:
    """Where an analysis stands, with its ``--json`` result once done."""
    ctx = context(request)
    return status(ctx, _job(ctx, ident), with_result=True)


@api.delete("/analyses/{ident}", response_model=AnalysisStatus)
def cancel_analysis(request: Request, ident: str) -> AnalysisStatus:
    """Cancel an analysis (a running one stops at its next progress report)."""
    ctx = context(request)
    _job(ctx, ident)
    job = ctx.analyses.cancel(ident)
    assert job is not None
    return status(ctx, job)


async def finished(job: AnalysisJob) -> dict[str, Any]:
    """Wait, without holding a thread, for ``job`` to end; its result or its message."""
    while job.state in ("queued", "running"):
        await asyncio.sleep(0.05)
    if job.result is None:
        from redline.errors import UserError

        raise UserError(job.message)
    return job.result.data


@api.get("/experiments/{name}/why", response_model=dict[str, Any])
async def experiment_why(
    request: Request,
    name: str,
    outcome: Annotated[str, Query(max_length=200)],
    point: Point = 0,
    runs: Annotated[int, Query(ge=1, le=kinds.CAPS.runs)] = 2_000,
) -> dict[str, Any]:
    """What led to ``outcome`` in one stored configuration, as ``redline why --json`` prints
    it (computed now, in the analysis queue, over ``runs`` runs of the experiment's seed)."""
    return await finished(_why(context(request), name, point, outcome, runs))


@api.get("/experiments/{name}/ablation", response_model=dict[str, Any])
async def experiment_ablation(
    request: Request,
    name: str,
    point: Point = 0,
    runs: Annotated[int, Query(ge=1, le=kinds.CAPS.runs)] = 2_000,
) -> dict[str, Any]:
    """Each mechanism of one stored configuration switched off in turn, as ``redline ablate
    --json`` prints it (computed now, in the analysis queue)."""
    return await finished(_ablation(context(request), name, point, runs))
