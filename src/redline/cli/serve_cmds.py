"""``redline serve``: the web page, on this machine's loopback interface unless told otherwise
(another address needs a token)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from redline.cli.app import app, err, guarded
from redline.errors import UserError
from redline.experiment.outputs import DEFAULT_STORE


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine's loopback interface only."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command()
@guarded
def serve(
    workspace: Annotated[
        Path, typer.Option(help="The folder of your scenario files (read and written).")
    ] = Path("."),
    store_path: Annotated[Path, typer.Option("--store", help="The DuckDB store file.")] = (
        DEFAULT_STORE
    ),
    host: Annotated[
        str,
        typer.Option(help="Address to listen on; other than loopback, it needs --token."),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    token: Annotated[
        str | None,
        typer.Option(
            help="A secret every request must carry (Authorization: Bearer, or ?token= once in "
            "the browser); 'new' makes one and prints it. Needed for an address other than "
            "loopback.",
            envvar="REDLINE_TOKEN",
        ),
    ] = None,
    runners: Annotated[int, typer.Option(help="Runs computed at once.")] = 2,
) -> None:
    """Serve the web page: the library of scenarios, an editor that checks as you type, runs
    with their progress, results, stories and comparisons (Ctrl-C stops it)."""
    import secrets

    try:
        import uvicorn

        from redline.web import Settings, create_app
    except ImportError:
        raise UserError(
            "the web page needs fastapi and uvicorn: pip install 'redline[web]'"
        ) from None
    if token == "new":
        token = secrets.token_urlsafe(24)
    if not is_loopback(host) and not token:
        raise UserError(
            f"--host {host} would let other machines in: give a --token (or --token new), or "
            "leave --host at 127.0.0.1"
        )
    if not 1 <= port <= 65535:
        raise UserError(f"--port must be between 1 and 65535, got {port}")
    if not 1 <= runners <= 16:
        raise UserError(f"--runners must be between 1 and 16, got {runners}")
    if not workspace.is_dir():
        raise UserError(f"--workspace {workspace} is not a folder")
    settings = Settings(workspace=workspace, store=store_path, token=token, runners=runners)
    shown = f"[{host}]" if ":" in host else host
    address = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    err.print(f"redline serving {address} (Ctrl-C stops it)", markup=False, soft_wrap=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
