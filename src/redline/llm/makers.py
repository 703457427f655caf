"""The decision-makers a scenario's language-model actors need, made from the endpoint the user
configured and the cache the answers are kept in."""

from __future__ import annotations

from redline.llm.actor import LanguageModelActor
from redline.llm.cache import AnswerCache, MemoryCache
from redline.llm.endpoint import Endpoint
from redline.scenario.model import Scenario


def llm_actors(scenario: Scenario) -> list[str]:
    """The actors the scenario has decided by a language model (``decision: {kind: llm}``)."""
    return [a.id for a in scenario.actors if a.decision.kind == "llm"]


def language_makers(
    scenario: Scenario,
    endpoint: Endpoint,
    cache: AnswerCache | None = None,
    keep_reasons: bool = False,
    skip: frozenset[str] = frozenset(),
) -> dict[str, LanguageModelActor]:
    """A :class:`LanguageModelActor` for each ``llm`` actor not in ``skip`` (those the caller
    plugs a decision-maker of its own into), sharing one cache (default: in memory)."""
    shared = cache if cache is not None else MemoryCache()
    return {
        actor: LanguageModelActor(scenario, actor, endpoint, shared, keep_reasons)
        for actor in llm_actors(scenario)
        if actor not in skip
    }
