"""The web application: the JSON API, the pages, their static files, and how a mistake becomes
a one-line 4xx answer (never a traceback)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from redline.errors import UserError
from redline.report.html import plotly_js
from redline.scenario.errors import ScenarioError
from redline.version import __version__
from redline.web import analysis_routes, api_routes, pages
from redline.web.context import Context
from redline.web.guard import Guard
from redline.web.settings import Settings
from redline.web.workspace import NotFound

#: the page's own script and style sheet, packaged beside this module
STATIC = ("redline.js", "redline.css")


def create_app(settings: Settings) -> Guard:
    """The server's application for ``settings``: the FastAPI app behind its gate
    (:class:`~redline.web.guard.Guard`). Its run queue starts with it and is closed (running
    runs stopped at their next unit) when the server stops."""
    ctx = Context.of(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            ctx.queue.close()
            ctx.analyses.close()

    app = FastAPI(
        title="redline",
        version=__version__,
        summary="Write, run, read and compare escalation scenarios: the operations of the "
        "redline command line as a JSON API.",
        lifespan=lifespan,
        docs_url=None,  # the interactive docs load their scripts from a CDN: no network here
        redoc_url=None,
    )
    app.state.redline = ctx
    app.include_router(api_routes.router)
    app.include_router(analysis_routes.api)
    app.include_router(pages.router)
    app.include_router(analysis_routes.pages)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(UserError, _user_error)
    app.add_exception_handler(ScenarioError, _user_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, _bug)
    app.add_api_route("/static/plotly.min.js", _plotly, include_in_schema=False)
    app.add_api_route("/static/{name}", _static, include_in_schema=False)
    return Guard(app, settings)


_PLOTLY: bytes | None = None


def _plotly() -> Response:
    """plotly.js as the installed plotly package ships it (the report embeds the same)."""
    global _PLOTLY
    if _PLOTLY is None:
        _PLOTLY = plotly_js().encode()
    return Response(
        _PLOTLY,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def _static(name: str) -> Response:
    if name not in STATIC:
        raise NotFound(f"no static file '{name}'")
    data = (resources.files("redline.web") / "static" / name).read_bytes()
    kind = "text/javascript" if name.endswith(".js") else "text/css"
    return Response(data, media_type=kind)


def _answer(request: Request, status: int, detail: str) -> Response:
    """A JSON answer for the API, a page for a browser."""
    if request.url.path.startswith("/api/") or request.url.path == "/openapi.json":
        return JSONResponse({"detail": detail}, status_code=status)
    return HTMLResponse(pages.error_page(status, detail), status_code=status)


async def _not_found(request: Request, exc: Exception) -> Response:
    return _answer(request, 404, str(exc))


async def _user_error(request: Request, exc: Exception) -> Response:
    return _answer(request, 400, str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _answer(request, exc.status_code, str(exc.detail))


async def _invalid(request: Request, exc: Exception) -> Response:
    """A request the API's models refuse: 422, each problem in one line (no input echoed)."""
    assert isinstance(exc, RequestValidationError)
    problems = [
        f"{'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg', 'invalid')}"
        for e in exc.errors()
    ]
    return _answer(request, 422, "; ".join(problems) or "invalid request")


async def _bug(request: Request, exc: Exception) -> Response:
    """A bug of redline's, said in one line without a traceback."""
    return _answer(request, 500, f"internal error ({type(exc).__name__}); please report it")
