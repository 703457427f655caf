"""Language models as decision-makers: an actor whose scenario says ``decision: {kind: llm}``
is asked, each step, for every live run of a batch at once, through an OpenAI-compatible
endpoint the user configured (never one a scenario names).

- :mod:`~redline.llm.endpoint`: where to ask (command line or environment), how many at once,
  how long to wait, what tokens cost;
- :mod:`~redline.llm.prompt`: the prompt, built from the scenario with Jinja2 templates (the
  built-in one or the user's);
- :mod:`~redline.llm.answer`: the structured answer (one available action and a short reason),
  its JSON schema and its validation;
- :mod:`~redline.llm.client`: the requests, asked concurrently with the official async client
  (bounded concurrency; retries with backoff and servers' rate limits honoured);
- :mod:`~redline.llm.cache`: every request and answer kept in the store, keyed by model,
  prompt and a per-run sampling key, and the token counts and cost per experiment;
- :mod:`~redline.llm.actor`: the decision-maker itself (:class:`~redline.DecisionMaker`);
- :mod:`~redline.llm.makers`: the decision-makers a scenario's ``llm`` actors need.
"""

from __future__ import annotations

from redline.llm.actor import LanguageModelActor
from redline.llm.endpoint import Endpoint, endpoint_from
from redline.llm.makers import language_makers, llm_actors

__all__ = ["Endpoint", "LanguageModelActor", "endpoint_from", "language_makers", "llm_actors"]
