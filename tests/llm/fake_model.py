"""An OpenAI-compatible chat-completions server on loopback whose "model" follows a seeded policy,
for tests and the concurrency benchmark: a plain ASGI application served by uvicorn in a thread
of the process (or in a process of its own: ``python -m tests.llm.fake_model``).

The policy picks, for a request, one action of the ``enum`` its answer schema offers, from a hash
of the request and the policy's seed: the same request gets the same answer, different runs
(different sampling seeds) different ones. Knobs change its behaviour for the next requests:
``delay`` (seconds before answering), ``fail`` (status codes to answer the next requests with,
one each, e.g. ``[429, 500]``; a 429 carries ``retry-after-ms``), ``stall`` (how many of the
next requests wait ``stall_seconds`` first, past a client's timeout), ``invalid`` (a share of
first answers that name no available action; an answer asked again in the same conversation is
valid) and ``broken`` (every answer invalid). It counts requests and the most in flight at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import uvicorn


@dataclass
class Policy:
    seed: int = 0
    delay: float = 0.0
    fail: list[int] = field(default_factory=list)
    stall: int = 0
    stall_seconds: float = 5.0
    invalid: float = 0.0
    broken: bool = False
    requests: int = 0
    answered: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def draw(self, body: dict[str, Any], salt: str) -> float:
        text = json.dumps([self.seed, salt, body], sort_keys=True)
        return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16) / 16**12


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send_json(send: Any, status: int, payload: Any, headers: dict[str, str]) -> None:
    data = json.dumps(payload).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


def make_app(policy: Policy, lock: threading.Lock) -> Any:
    """The server as a plain ASGI application (light enough to answer a thousand requests a
    step): POST /v1/chat/completions; GET /stats, its counters; anything else 404."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] == "GET" and scope["path"] == "/stats":
            with lock:
                stats = {
                    "requests": policy.requests,
                    "answered": policy.answered,
                    "max_in_flight": policy.max_in_flight,
                }
            await _send_json(send, 200, stats, {})
            return
        if scope["method"] != "POST" or not scope["path"].endswith("/chat/completions"):
            await _send_json(send, 404, {"error": {"message": "not found"}}, {})
            return
        body = json.loads(await _body(receive))
        status, payload, headers = await answer(policy, lock, body)
        await _send_json(send, status, payload, headers)

    return app


async def answer(
    policy: Policy, lock: threading.Lock, body: dict[str, Any]
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """The policy's reply to one request: status, JSON body, headers."""
    with lock:
        policy.requests += 1
        policy.bodies.append(body)
        status = policy.fail.pop(0) if policy.fail else 200
        stall = policy.stall > 0
        if stall:
            policy.stall -= 1
        policy.in_flight += 1
        policy.max_in_flight = max(policy.max_in_flight, policy.in_flight)
    try:
        if stall:
            await asyncio.sleep(policy.stall_seconds)
        if policy.delay:
            await asyncio.sleep(policy.delay)
    finally:
        with lock:
            policy.in_flight -= 1
            policy.statuses[status] += 1
    if status != 200:
        headers = {"retry-after-ms": "5"} if status == 429 else {}
        return status, {"error": {"message": f"fake {status}"}}, headers
    schema = body["response_format"]["json_schema"]["schema"]
    actions = schema["properties"]["action"]["enum"]
    retry = len(body["messages"]) > 2
    if policy.broken or (not retry and policy.draw(body, "invalid") < policy.invalid):
        content = json.dumps({"action": "no_such_action", "reason": "confused"})
    else:
        pick = actions[int(policy.draw(body, "pick") * len(actions))]
        content = json.dumps({"action": pick, "reason": f"the policy picks {pick}"})
    prompt = sum(len(m["content"]) for m in body["messages"]) // 4
    with lock:
        policy.answered += 1
    return (
        200,
        {
            "id": f"fake-{policy.requests}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": len(content) // 4,
                "total_tokens": prompt + len(content) // 4,
            },
        },
        {},
    )


class FakeModel:
    """The server, started on a free loopback port; ``url`` is its API base."""

    def __init__(self, policy: Policy | None = None) -> None:
        self.policy = policy or Policy()
        self.lock = threading.Lock()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.sock = sock
        config = uvicorn.Config(
            make_app(self.policy, self.lock),
            log_level="warning",
            backlog=4096,
            limit_concurrency=None,
            timeout_keep_alive=30,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FakeModel:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the fake model server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()

    def reset(self, **knobs: Any) -> Policy:
        """Counters to zero and the knobs given set (the others to their defaults)."""
        with self.lock:
            fresh = Policy(**knobs)
            for name in fresh.__dataclass_fields__:
                setattr(self.policy, name, getattr(fresh, name))
        return self.policy


class _Forgetful(list[dict[str, Any]]):
    def append(self, item: dict[str, Any]) -> None:
        pass


def main() -> None:
    """Serve the fake model on a port until interrupted (for trying the command line by hand
    and for the benchmark): ``python -m tests.llm.fake_model --port 8765 --delay 0.2``."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--invalid", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    policy = Policy(seed=args.seed, delay=args.delay, invalid=args.invalid)
    policy.bodies = _Forgetful()  # a long-running server keeps no request bodies
    config = uvicorn.Config(
        make_app(policy, threading.Lock()),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        backlog=4096,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
