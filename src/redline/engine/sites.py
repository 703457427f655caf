"""Draw sites of the engine's own random choices (decisions, rule firing, perception).

Expressions number their own random calls; these are the draws the step semantics makes
around them. Both the engine and the reference interpreter key their draws through here.
"""

from __future__ import annotations

from functools import lru_cache

from redline.core.program import Reaction
from redline.engine.rng import site_id


@lru_cache(maxsize=4096)
def _site(path: str) -> int:
    return site_id(path)


def decide_site(actor: str) -> int:
    """The uniform that picks an actor's action from its choice probabilities."""
    return _site(f"decide.{actor}")


def fire_site(rule: Reaction) -> int:
    """The uniform compared with a rule's probability when its trigger holds."""
    return _site(f"fire.{rule.kind}.{rule.id}")


def perceive_site(actor: str, owner: str) -> int:
    """The normal noise on an actor's reading of an owner's resolve: one error a step, shared
    by all the owner's red lines."""
    return _site(f"perceive.{actor}.{owner}")
