"""Asking an OpenAI-compatible endpoint many questions at once with the official async client:
at most ``concurrency`` in flight, each one repeated after a transport failure (timeout, refused
connection, rate limit 429, server error 5xx) with exponential backoff, waiting as long as a
server's ``Retry-After`` says (the client's own retry policy), up to ``max_retries`` times.

A request that still fails stops the simulation with a message (:class:`EndpointFailure`); the
answers that did arrive are handed back first, so they are kept and not asked again."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import openai

from redline.errors import UserError
from redline.llm.endpoint import Endpoint


class EndpointFailure(UserError):
    """The endpoint did not answer a request, even after its retries."""


@dataclass(frozen=True)
class Request:
    """One chat completion to ask: the model and the request's body (messages, temperature,
    token bound, answer format, seed)."""

    model: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """The text of an answer and the tokens it took."""

    content: str | None
    prompt_tokens: int
    completion_tokens: int


def _failure(endpoint: Endpoint, model: str, exc: BaseException) -> EndpointFailure:
    where = f"language model '{model}' at {endpoint.base_url}"
    retries = f"after {endpoint.max_retries} retries"
    if isinstance(exc, openai.APITimeoutError):
        why = f"no answer within {endpoint.timeout:g} s ({retries}; --llm-timeout waits longer)"
    elif isinstance(exc, openai.APIConnectionError):
        why = f"cannot connect ({retries}): {exc.__cause__ or exc}"
    elif isinstance(exc, openai.AuthenticationError):
        why = (
            "the key was refused (401): set OPENAI_API_KEY, or name its setting with --llm-key-env"
        )
    elif isinstance(exc, openai.NotFoundError):
        why = f"not found (404): is the model name right, and the URL the API's base? ({exc})"
    elif isinstance(exc, openai.APIStatusError):
        why = f"the server answered {exc.status_code} ({retries}): {exc.message}"
    else:
        why = f"{type(exc).__name__}: {exc}"
    return EndpointFailure(
        f"{where}: {why}; the answers received so far are kept in the store, and the same "
        "command asks only the rest"
    )


class Asker:
    """Asks one endpoint: an event loop of its own in a helper thread, and one client in it
    (its connections and TLS set-up kept from one step to the next), started on first use.
    Picklable: a copy starts its own when it is first used."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: openai.AsyncOpenAI | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["endpoint"])  # type: ignore[misc]

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="redline-llm", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def ask_all(self, requests: Sequence[Request]) -> list[Reply | EndpointFailure]:
        """Every request's reply, in order, all asked concurrently (at most ``concurrency`` at
        once); a request that failed after its retries gets an :class:`EndpointFailure` in its
        place. Ctrl-C cancels the requests in flight."""
        if not requests:
            return []
        future = asyncio.run_coroutine_threadsafe(self._ask_all(requests), self._running_loop())
        try:
            got = future.result()
        except Exception as exc:  # the client could not be made or used at all
            raise _failure(self.endpoint, requests[0].model, exc) from None
        except BaseException:
            future.cancel()
            raise
        out: list[Reply | EndpointFailure] = []
        for request, reply in zip(requests, got, strict=True):
            if isinstance(reply, Reply):
                out.append(reply)
            elif isinstance(reply, Exception):
                out.append(_failure(self.endpoint, request.model, reply))
            else:  # a cancellation or an exit: not ours to turn into a message
                raise reply
        return out

    async def _ask_all(self, requests: Sequence[Request]) -> list[Reply | BaseException]:
        endpoint = self.endpoint
        if self._client is None:
            self._client = openai.AsyncOpenAI(
                base_url=endpoint.base_url,
                # local servers need no key; the client wants one, so it gets a placeholder
                api_key=endpoint.api_key or "none",
                timeout=endpoint.timeout,
                max_retries=endpoint.max_retries,
            )
        client = self._client
        limit = asyncio.Semaphore(endpoint.concurrency)

        async def one(request: Request) -> Reply:
            async with limit:
                response = await client.chat.completions.create(model=request.model, **request.body)
            content = response.choices[0].message.content if response.choices else None
            usage = response.usage
            return Reply(
                content,
                usage.prompt_tokens if usage else 0,
                usage.completion_tokens if usage else 0,
            )

        return list(await asyncio.gather(*(one(r) for r in requests), return_exceptions=True))

    def close(self) -> None:
        """Close the client and stop the helper thread (a later use starts them again)."""
        with self._lock:
            loop, thread, client = self._loop, self._thread, self._client
            self._loop = self._thread = self._client = None
        if loop is None:
            return
        if client is not None:
            asyncio.run_coroutine_threadsafe(client.close(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=10)
        loop.close()
