"""The pages: server-rendered Jinja2 templates (autoescaped: scenario text is shown as text,
never read as markup or as a template) over the same library calls as the JSON API."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from redline.experiment.csv_cells import guard_cell
from redline.experiment.design import lever_defaults
from redline.report.build import report_data
from redline.report.html import figure_specs, render_report
from redline.report.summary import pct
from redline.scenario.model import Scenario
from redline.web import service
from redline.web.completion import key_tree, known_names
from redline.web.context import Context
from redline.web.models import INDEX_MAX
from redline.web.workspace import NotFound

router = APIRouter(include_in_schema=False)
Kind = Literal["builtin", "workspace"]

_ENV = Environment(
    loader=PackageLoader("redline.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["pct"] = pct
_ENV.filters["pct2"] = lambda x: f"{100 * x:.2f}%"

#: the scenario language's top-level keys, for the editor's side panel
SCHEMA_KEYS = list(Scenario.model_fields)
#: the language's keys at every level, for the editor's completion
KEY_TREE = key_tree(Scenario)


def render(template: str, /, **values: Any) -> HTMLResponse:
    return HTMLResponse(_ENV.get_template(template).render(**values))


def error_page(status: int, detail: str) -> str:
    return _ENV.get_template("error.html.j2").render(status=status, detail=detail)


def context(request: Request) -> Context:
    ctx = request.app.state.redline
    assert isinstance(ctx, Context)
    return ctx


@router.get("/", response_class=HTMLResponse)
def library(request: Request) -> HTMLResponse:
    """The built-in scenarios and the workspace's files: open, duplicate, create."""
    ctx = context(request)
    return render(
        "library.html.j2",
        scenarios=ctx.workspace.listing(),
        workspace=ctx.workspace.folder.name or str(ctx.workspace.folder),
    )


@router.get("/scenarios/{kind}/{name}", response_class=HTMLResponse)
def editor(request: Request, kind: Kind, name: str) -> HTMLResponse:
    """The editor: the scenario's text checked as it is typed, its structured view, and the
    run form."""
    ctx = context(request)
    text = ctx.workspace.read(kind, name)
    explained = service.explanation(ctx.workspace, kind, name)
    levers: list[tuple[str, str, list[str]]] = []
    lenses: list[tuple[str, str]] = []
    s: Scenario | None = None
    if explained is not None:
        s = service.load(ctx.workspace, kind, name).scenario
        defaults = lever_defaults(s)
        levers = [(lv.id, defaults.get(lv.id, ""), [o.id for o in lv.options]) for lv in s.levers]
        lenses = [(x.id, x.label) for x in s.lenses]
    return render(
        "editor.html.j2",
        kind=kind,
        name=name,
        text=text,
        explained=explained,
        levers=levers,
        lenses=lenses,
        schema_keys=SCHEMA_KEYS,
        limits=ctx.settings.limits,
        completion={"keys": KEY_TREE, "names": known_names(s)},
    )


@router.get("/runs/{ident}", response_class=HTMLResponse)
def run_page(request: Request, ident: str) -> HTMLResponse:
    """A run's progress, streamed, with its place in the queue and a cancel button."""
    job = context(request).queue.get(ident)
    if job is None:
        raise NotFound(f"no run '{ident}' on this server")
    return render("run.html.j2", job=job)


@router.get("/experiments", response_class=HTMLResponse)
def experiments(request: Request) -> HTMLResponse:
    """The store's experiments with their status: open, resume, export, delete."""
    ctx = context(request)
    return render(
        "experiments.html.j2",
        experiments=service.experiments(ctx.store),
        runs=ctx.queue.jobs(),
        store=ctx.store.path.name,
    )


@router.get("/experiments/{name}", response_class=HTMLResponse)
def results(request: Request, name: str) -> HTMLResponse:
    """An experiment's report as a page: probabilities with intervals by lever and lens,
    cumulative incidence, the ladder, the narrated run and the assumptions register."""
    store = context(request).store
    record = service.record(store, name)
    s = store.scenario(name)
    data = report_data(store, name, s)
    return render(
        "results.html.j2",
        record=record,
        s=s,
        d=data,
        configurations=service.configurations(store, name),
        points=store.points(name),
        figures=figure_specs(data),
    )


@router.get("/experiments/{name}/report.html", response_class=HTMLResponse)
def report(request: Request, name: str) -> HTMLResponse:
    """The self-contained HTML report ``redline run`` writes."""
    store = context(request).store
    service.record(store, name)
    return HTMLResponse(render_report(report_data(store, name, store.scenario(name))))


@router.get("/experiments/{name}/outcomes.csv")
def outcomes_csv(request: Request, name: str) -> Response:
    """The outcome table as CSV: a row per configuration and outcome."""
    rows = service.configurations(context(request).store, name)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["levers", "lens", "outcome", "name", "p", "lo", "hi", "mean_first_step"])
    for c in rows:
        levers = ";".join(f"{k}={v}" for k, v in c.levers.items())
        for ident, o in c.outcomes.items():
            text = [guard_cell(x) for x in (levers, c.lens or "", ident, o.name)]
            writer.writerow([*text, o.p, o.lo, o.hi, o.mean_first_step or ""])
    return Response(
        buffer.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}-outcomes.csv"'},
    )


@router.get("/experiments/{name}/story", response_class=HTMLResponse)
def story(
    request: Request,
    name: str,
    point: Annotated[int, Query(ge=0, le=2**31)] = 0,
    run: Annotated[int, Query(ge=0, le=INDEX_MAX)] = 0,
    seed: Annotated[int | None, Query(ge=0, le=INDEX_MAX)] = None,
    verbose: bool = False,
) -> HTMLResponse:
    """One run of one configuration, told as ``redline story`` tells it."""
    store = context(request).store
    told = service.experiment_story(store, name, point, seed, run, verbose)
    return render(
        "story.html.j2",
        name=name,
        told=told,
        points=store.points(name),
        point=point,
        run=run,
        seed=seed if seed is not None else service.record(store, name).spec.seed,
        verbose=verbose,
    )


@router.get("/experiments/{name}/compare", response_class=HTMLResponse)
def compare(
    request: Request,
    name: str,
    by: Literal["lever", "lens"] = "lens",
    lens: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    """Differences between lever options or lenses with 95% intervals (``redline compare``)."""
    store = context(request).store
    found = service.comparisons(store, name, by, lens or None)
    lenses = list(dict.fromkeys(p["lens"] for p in store.points(name) if p["lens"]))
    return render("compare.html.j2", name=name, by=by, lens=lens, axes=found, lenses=lenses)
