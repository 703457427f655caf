"""The server's gate: request bodies capped, and only this machine's browser (or whoever holds
the token) let in. An ASGI middleware, so that it stands before every route."""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from redline.web.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "redline_token"


class BodyTooLarge(Exception):
    """A request body went past the limit while it was read."""


class Guard:
    """Refuses (4xx, one line of JSON) a request without the token when one is set, from a
    Host that is not allowed when none is, and one whose body is larger than the limit."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given_query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
        if self.settings.token is not None:
            if not self._authorised(headers, given_query):
                await _refuse(send, 401, "this server needs its token (see redline serve --help)")
                return
        elif _hostname(headers.get("host", "")) not in self.settings.allowed_hosts:
            await _refuse(
                send,
                421,
                "this server answers only requests to 127.0.0.1 or localhost (serve on "
                "another address with a token)",
            )
            return
        length = headers.get("content-length")
        limit = self.settings.max_body
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _refuse(send, 413, f"request body larger than the limit of {limit:,} bytes")
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if given_query and self.settings.token is not None:
                    cookie = f"{COOKIE}={given_query[0]}; Path=/; HttpOnly; SameSite=Strict"
                    message["headers"] = [
                        *message.get("headers", []),
                        (b"set-cookie", cookie.encode("latin-1")),
                    ]
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if not started:
                await _refuse(send, 413, f"request body larger than the limit of {limit:,} bytes")

    def _authorised(self, headers: dict[str, str], query: list[str] | None) -> bool:
        token = self.settings.token or ""
        offered: list[str] = list(query or [])
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            offered.append(auth[7:].strip())
        cookies: SimpleCookie = SimpleCookie()
        try:
            cookies.load(headers.get("cookie", ""))
        except CookieError:  # a malformed cookie header carries no token
            cookies = SimpleCookie()
        if COOKIE in cookies:
            offered.append(cookies[COOKIE].value)
        return any(hmac.compare_digest(x.encode(), token.encode()) for x in offered)


def _hostname(host: str) -> str:
    """``localhost`` of ``localhost:8000``; ``::1`` of ``[::1]:8000``."""
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
