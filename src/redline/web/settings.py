"""What a ``redline serve`` is set up with: its workspace folder and store, who may reach it,
and how large the requests and runs it accepts may be."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from redline.scenario.yamlsource import MAX_FILE_BYTES
from redline.web.service import Limits

#: names a browser on this machine gives a server bound to the loopback interface
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Settings:
    """A server's set-up. Without a ``token``, only requests whose Host is a loopback name are
    answered (a web page elsewhere cannot reach the server through a name it controls); with
    one, every request must carry it (``Authorization: Bearer``, the ``redline_token`` cookie,
    or ``?token=`` once, which sets the cookie)."""

    workspace: Path
    store: Path
    token: str | None = None
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    #: the largest request body: a scenario file at its limit, JSON-escaped
    max_body: int = 2 * MAX_FILE_BYTES + 65_536
    limits: Limits = field(default_factory=Limits)
    #: runs computed at once, and runs waiting or running at most
    runners: int = 2
    queue_capacity: int = 8
    #: analyses computed at once, and analyses waiting or computing at most
    analysis_runners: int = 1
    analysis_capacity: int = 4
