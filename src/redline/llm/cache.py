"""Every request to a language model and its answer, kept so that a rerun with the same seed
replays exactly and a resumed sweep asks only what it has not asked; and what each experiment's
answers cost.

An answer is keyed by a hash of the model, the whole request (messages, temperature, token
bound, answer schema) and the run's sampling key (drawn from the run's keyed stream: the same
seed, run, step and actor give the same key). Two runs asking the same question are two
samples, asked twice; the same run asking again is answered from here.

The answers live in the store's ``llm_answers`` table (made with the first answer), next to the
experiments; token counts and cost per experiment in ``llm_usage``. Without a store (the Python
API's default) they are kept in memory for the life of the decision-maker."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa

from redline.experiment.store import Store

_ANSWERS = """
CREATE TABLE IF NOT EXISTS llm_answers (
    key VARCHAR PRIMARY KEY, model VARCHAR NOT NULL, sampling VARCHAR NOT NULL,
    request VARCHAR NOT NULL, answer VARCHAR, prompt_tokens BIGINT NOT NULL,
    completion_tokens BIGINT NOT NULL, asked TIMESTAMP NOT NULL);
"""
_USAGE = """
CREATE TABLE IF NOT EXISTS llm_usage (
    experiment INTEGER NOT NULL, actor VARCHAR NOT NULL, model VARCHAR NOT NULL,
    recorded TIMESTAMP NOT NULL, decisions BIGINT NOT NULL, asked BIGINT NOT NULL,
    replayed BIGINT NOT NULL, invalid BIGINT NOT NULL, fallbacks BIGINT NOT NULL,
    prompt_tokens BIGINT NOT NULL, completion_tokens BIGINT NOT NULL,
    new_prompt_tokens BIGINT NOT NULL, new_completion_tokens BIGINT NOT NULL, cost DOUBLE);
"""
#: keys looked up in one query
LOOKUP_BATCH = 5_000


def request_key(model: str, request: dict[str, Any], sampling: str) -> str:
    """The cache key of a request: model, the request as sent, and the sampling key."""
    text = json.dumps([model, request, sampling], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Stored:
    """One request and its answer (``answer`` None: the model sent no text)."""

    key: str
    model: str
    sampling: str
    request: str
    answer: str | None
    prompt_tokens: int
    completion_tokens: int


class AnswerCache(Protocol):
    """Where answers are kept: :class:`StoreCache` or :class:`MemoryCache`."""

    def get(self, keys: Sequence[str]) -> dict[str, Stored]: ...

    def put(self, answers: Sequence[Stored]) -> None: ...


class MemoryCache:
    """Answers kept in memory (for the life of the object)."""

    def __init__(self) -> None:
        self.answers: dict[str, Stored] = {}

    def get(self, keys: Sequence[str]) -> dict[str, Stored]:
        return {k: self.answers[k] for k in keys if k in self.answers}

    def put(self, answers: Sequence[Stored]) -> None:
        for a in answers:
            self.answers.setdefault(a.key, a)


class StoreCache:
    """Answers kept in a store's ``llm_answers`` table; one transaction per batch."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, keys: Sequence[str]) -> dict[str, Stored]:
        if not keys or not self.store.path.exists():
            return {}
        found: dict[str, Stored] = {}
        with self.store.connect() as con:
            con.execute(_ANSWERS)
            for start in range(0, len(keys), LOOKUP_BATCH):
                wanted = pa.table({"key": pa.array(keys[start : start + LOOKUP_BATCH])})
                con.register("wanted", wanted)
                rows = con.execute(
                    "SELECT a.key, a.model, a.sampling, a.request, a.answer, a.prompt_tokens, "
                    "a.completion_tokens FROM llm_answers a JOIN wanted w ON a.key = w.key"
                ).fetchall()
                con.unregister("wanted")
                found.update((r[0], Stored(*r)) for r in rows)
        return found

    def put(self, answers: Sequence[Stored]) -> None:
        if not answers:
            return
        rows = pa.table(
            {
                "key": pa.array([a.key for a in answers], pa.string()),
                "model": pa.array([a.model for a in answers], pa.string()),
                "sampling": pa.array([a.sampling for a in answers], pa.string()),
                "request": pa.array([a.request for a in answers], pa.string()),
                "answer": pa.array([a.answer for a in answers], pa.string()),
                "prompt_tokens": pa.array([a.prompt_tokens for a in answers], pa.int64()),
                "completion_tokens": pa.array([a.completion_tokens for a in answers], pa.int64()),
                "asked": pa.array([dt.datetime.now()] * len(answers), pa.timestamp("us")),
            }
        )
        with self.store.connect() as con:
            con.execute(_ANSWERS)
            con.register("answered", rows)  # one columnar insert, not a row at a time
            con.execute("INSERT OR IGNORE INTO llm_answers SELECT * FROM answered")
            con.unregister("answered")

    def count(self) -> int:
        """How many answers the store keeps."""
        if not self.store.path.exists():
            return 0
        with self.store.connect() as con:
            con.execute(_ANSWERS)
            return int(con.execute("SELECT count(*) FROM llm_answers").fetchall()[0][0])


@dataclass
class Usage:
    """What one actor's decision-maker did: decisions made, requests asked of the endpoint and
    answered from the cache, invalid answers, fallbacks taken, and tokens (all the answers', and
    those of the requests asked now)."""

    actor: str
    model: str
    decisions: int = 0
    asked: int = 0
    replayed: int = 0
    invalid: int = 0
    fallbacks: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    new_prompt_tokens: int = 0
    new_completion_tokens: int = 0

    def add(self, other: Usage) -> None:
        for name in (
            "decisions",
            "asked",
            "replayed",
            "invalid",
            "fallbacks",
            "prompt_tokens",
            "completion_tokens",
            "new_prompt_tokens",
            "new_completion_tokens",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def record_usage(
    store: Store, experiment: int, usage: Iterable[Usage], prices: tuple[float, float] | None
) -> None:
    """Add what a command's language models did for an experiment (its key) to ``llm_usage``;
    the cost is that of the tokens of the requests asked (answers replayed from the cache cost
    nothing again)."""
    rows = []
    now = dt.datetime.now()
    for u in usage:
        cost = (
            None
            if prices is None
            else (u.new_prompt_tokens * prices[0] + u.new_completion_tokens * prices[1]) / 1e6
        )
        rows.append(
            [
                experiment,
                u.actor,
                u.model,
                now,
                u.decisions,
                u.asked,
                u.replayed,
                u.invalid,
                u.fallbacks,
                u.prompt_tokens,
                u.completion_tokens,
                u.new_prompt_tokens,
                u.new_completion_tokens,
                cost,
            ]
        )
    if not rows:
        return
    with store.connect() as con:
        con.execute(_USAGE)
        con.executemany(
            "INSERT INTO llm_usage VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )


def experiment_usage(store: Store, experiment: int) -> list[tuple[Usage, float | None]]:
    """What language models did for an experiment, per actor, summed over the commands that
    worked on it, with the cost where prices were given."""
    if not store.path.exists():
        return []
    with store.connect(must_exist=True, read_only=True) as con:
        tables = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        }
        if "llm_usage" not in tables:
            return []
        rows = con.execute(
            "SELECT actor, any_value(model), sum(decisions), sum(asked), sum(replayed), "
            "sum(invalid), sum(fallbacks), sum(prompt_tokens), sum(completion_tokens), "
            "sum(new_prompt_tokens), sum(new_completion_tokens), sum(cost) "
            "FROM llm_usage WHERE experiment = ? GROUP BY actor ORDER BY actor",
            [experiment],
        ).fetchall()
    return [(Usage(*[r[0], r[1], *(int(x) for x in r[2:11])]), r[11]) for r in rows]
