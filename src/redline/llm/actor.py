"""A language model as an actor's decision-maker (:class:`redline.DecisionMaker`).

Each step it is handed every live run of a batch at once. For each run it builds the prompt
(:mod:`~redline.llm.prompt`), looks the request up in the cache, asks the endpoint every request
not found there concurrently (:mod:`~redline.llm.client`), keeps the new answers, and validates
each answer (:mod:`~redline.llm.answer`). A run whose answer is invalid is asked again — the
conversation goes on with the invalid answer and what is wrong with it — up to the scenario's
``retries`` times; then its ``fallback`` is taken (``hold`` where the fallback is not available
in that run), and the event is counted. So wall time grows with steps × attempts × latency, not
with the number of runs (as long as they fit in the concurrency limit).

Its choice for a run depends only on that run's row of the situation — its prompt, and a
sampling key drawn from the run's keyed stream — and on the cache, so a rerun with the same
seed replays exactly whatever the chunking or backend."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from redline.engine.deciders import Situation
from redline.llm.answer import InvalidAnswer, parse_answer, response_format
from redline.llm.cache import AnswerCache, MemoryCache, Stored, Usage, request_key
from redline.llm.client import Asker, EndpointFailure, Request
from redline.llm.endpoint import Endpoint
from redline.llm.prompt import Message, PromptBook
from redline.scenario.model import Scenario


@dataclass(frozen=True)
class Decided:
    """How one run's decision at one step came about: the action, the model's reason (or why
    the fallback was taken), how many answers it took, and whether it is the fallback."""

    action: str
    reason: str
    attempts: int
    fallback: bool = False
    problems: tuple[str, ...] = ()


def _again(problem: str) -> str:
    return (
        f"That answer is not valid: {problem}. Answer again with one JSON object "
        '{"action": "<one action id from the list>", "reason": "<one or two sentences>"} '
        "and nothing else."
    )


@dataclass
class _Pending:
    """A run still waiting for a valid answer: its row, its conversation so far, the actions
    it may choose and its sampling key."""

    row: int
    messages: list[Message]
    available: list[str]
    sampling: str
    problems: list[str] = field(default_factory=list)


class LanguageModelActor:
    """The decision-maker of one ``llm`` actor of a scenario, asking ``endpoint``.

    ``cache`` keeps requests and answers (default: in memory); ``keep_reasons`` keeps every
    run's :class:`Decided` in :attr:`decided` by (run, step), for the story. :attr:`usage`
    counts decisions, requests asked and replayed, invalid answers, fallbacks and tokens."""

    #: it reads what happened since its last decision (:attr:`Situation.recent`)
    history = True

    def __init__(
        self,
        scenario: Scenario,
        actor: str,
        endpoint: Endpoint,
        cache: AnswerCache | None = None,
        keep_reasons: bool = False,
    ) -> None:
        spec = next(a for a in scenario.actors if a.id == actor).decision
        self.actor = actor
        self.endpoint = endpoint
        self.model = endpoint.model or spec.model or ""
        self.temperature = spec.temperature
        self.max_tokens = spec.max_tokens
        self.retries = spec.retries
        self.fallback = spec.fallback
        self.book = PromptBook(scenario, actor, endpoint.template)
        self.cache: AnswerCache = cache if cache is not None else MemoryCache()
        self.usage = Usage(actor, self.model)
        self.decided: dict[tuple[int, int], Decided] | None = {} if keep_reasons else None
        self.asker = Asker(endpoint)

    def close(self) -> None:
        """Close the connections to the endpoint (they open again if it is asked again)."""
        self.asker.close()

    def body(self, p: _Pending) -> dict[str, Any]:
        """The request's body for a pending run (everything but the model)."""
        return {
            "messages": p.messages,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "response_format": response_format(p.available),
            "seed": int(p.sampling[-8:], 16) & 0x7FFFFFFF,
        }

    def decide(self, situation: Situation) -> NDArray[np.int64]:
        """One available candidate position per run of the situation."""
        n = situation.n
        chosen = np.zeros(n, dtype=np.int64)
        pending = [
            _Pending(
                i,
                self.book.messages(situation, i),
                [a for k, a in enumerate(situation.actions) if situation.available[i, k]],
                # the run's keyed draw: the same seed, run, step and actor give the same key
                f"{int(np.float64(situation.uniform[i]).view(np.uint64)):016x}",
            )
            for i in range(n)
        ]
        for attempt in range(1, self.retries + 2):
            answers = self.answers(pending)
            still = []
            for p, stored in zip(pending, answers, strict=True):
                try:
                    choice = parse_answer(stored.answer, p.available)
                except InvalidAnswer as exc:
                    self.usage.invalid += 1
                    p.problems.append(str(exc))
                    p.messages = [
                        *p.messages,
                        {"role": "assistant", "content": stored.answer or ""},
                        {"role": "user", "content": _again(str(exc))},
                    ]
                    still.append(p)
                    continue
                chosen[p.row] = situation.actions.index(choice.action)
                self.note(situation, p.row, Decided(choice.action, choice.reason, attempt))
            pending = still
            if not pending:
                break
        for p in pending:
            self.usage.fallbacks += 1
            action = self.fallback if self.fallback in p.available else "hold"
            chosen[p.row] = situation.actions.index(action)
            why = (
                f"fallback '{action}' after {len(p.problems)} invalid answers "
                f"(the last: {p.problems[-1]})"
            )
            self.note(
                situation, p.row, Decided(action, why, len(p.problems), True, tuple(p.problems))
            )
        self.usage.decisions += n
        return chosen

    def reasons_for(self, run: int) -> dict[int, str]:
        """This actor's reason for its choice at each step of ``run`` (kept with
        ``keep_reasons``): what the story tells with its decisions."""
        return {step: d.reason for (r, step), d in (self.decided or {}).items() if r == run}

    def note(self, situation: Situation, row: int, decided: Decided) -> None:
        if self.decided is not None:
            self.decided[(int(situation.runs[row]), situation.step)] = decided

    def answers(self, pending: list[_Pending]) -> list[Stored]:
        """Each pending run's answer: from the cache, or asked (all at once) and kept."""
        bodies = [self.body(p) for p in pending]
        keys = [
            request_key(self.model, b, p.sampling) for b, p in zip(bodies, pending, strict=True)
        ]
        found = self.cache.get(keys)
        missing = [j for j, k in enumerate(keys) if k not in found]
        replies = self.asker.ask_all([Request(self.model, bodies[j]) for j in missing])
        new: list[Stored] = []
        failure: EndpointFailure | None = None
        for j, reply in zip(missing, replies, strict=True):
            if isinstance(reply, EndpointFailure):
                failure = failure or reply
                continue
            stored = Stored(
                keys[j],
                self.model,
                pending[j].sampling,
                json.dumps(bodies[j], sort_keys=True),
                reply.content,
                reply.prompt_tokens,
                reply.completion_tokens,
            )
            found[keys[j]] = stored
            new.append(stored)
            self.usage.asked += 1
            self.usage.new_prompt_tokens += reply.prompt_tokens
            self.usage.new_completion_tokens += reply.completion_tokens
        self.cache.put(new)  # kept before a failure is raised: a rerun asks only the rest
        if failure is not None:
            raise failure
        self.usage.replayed += len(keys) - len(missing)
        out = [found[k] for k in keys]
        for a in out:
            self.usage.prompt_tokens += a.prompt_tokens
            self.usage.completion_tokens += a.completion_tokens
        return out
