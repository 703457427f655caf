"""Where a language model is asked, and on what terms: the endpoint and key come from the
command line or the environment, never from a scenario (a file from someone else must not send
data to a host the user did not choose)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from redline.errors import UserError

#: the settings read when the command line gives none
BASE_URL_VARIABLE = "OPENAI_BASE_URL"
KEY_VARIABLE = "OPENAI_API_KEY"
#: the most requests one decision-maker may have in flight
MAX_CONCURRENCY = 1000


@dataclass(frozen=True)
class Endpoint:
    """An OpenAI-compatible endpoint and how to use it.

    ``concurrency`` bounds the requests in flight at once; ``timeout`` (seconds) bounds one
    request; ``max_retries`` is how often a request that failed in transport (a timeout, a
    refused connection, a rate limit 429, a server error 5xx) is repeated, with exponential
    backoff, waiting as long as a server's ``Retry-After`` asks. ``prices`` are US dollars per
    million prompt and completion tokens (to report a cost); ``model`` replaces the scenario's
    model names; ``template`` is a Jinja2 prompt template of the user's."""

    base_url: str
    api_key: str = field(default="", repr=False)
    concurrency: int = 64
    timeout: float = 60.0
    max_retries: int = 5
    prices: tuple[float, float] | None = None
    model: str | None = None
    template: Path | None = None

    def __post_init__(self) -> None:
        parsed = urlparse(self.base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise UserError(
                f"language-model endpoint must be an http(s) URL such as "
                f"http://localhost:8000/v1, got '{self.base_url}'"
            )
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise UserError(
                f"--llm-concurrency must be between 1 and {MAX_CONCURRENCY}, got {self.concurrency}"
            )
        if not 0 < self.timeout <= 3600:
            raise UserError(f"--llm-timeout must be between 0 and 3600 seconds, got {self.timeout}")
        if not 0 <= self.max_retries <= 20:
            raise UserError(f"--llm-retries must be between 0 and 20, got {self.max_retries}")
        if self.prices is not None and not all(0 <= p < 1e6 for p in self.prices):
            raise UserError(f"--llm-price must be two non-negative prices, got {self.prices}")

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        """What the tokens cost at ``prices`` (None without prices)."""
        if self.prices is None:
            return None
        return (prompt_tokens * self.prices[0] + completion_tokens * self.prices[1]) / 1e6


def parse_prices(text: str | None) -> tuple[float, float] | None:
    """``--llm-price IN,OUT`` (dollars per million prompt and completion tokens)."""
    if text is None:
        return None
    parts = text.split(",")
    try:
        prices = tuple(float(p) for p in parts)
    except ValueError:
        prices = ()
    if len(prices) != 2 or not all(0 <= p < 1e6 for p in prices):
        raise UserError(
            f"--llm-price expects IN,OUT: dollars per million prompt and completion tokens "
            f"(e.g. 0.15,0.60), got '{text}'"
        )
    return prices[0], prices[1]


def endpoint_from(
    base_url: str | None = None,
    key_env: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    concurrency: int = 64,
    timeout: float = 60.0,
    max_retries: int = 5,
    prices: tuple[float, float] | None = None,
    model: str | None = None,
    template: Path | None = None,
) -> Endpoint:
    """The endpoint the user configured: ``base_url`` (``--llm-endpoint``) or the
    ``OPENAI_BASE_URL`` setting; the key from the setting ``key_env`` names (``--llm-key-env``)
    or ``OPENAI_API_KEY``. None configured: refused, saying how to configure one."""
    env = os.environ if environ is None else environ
    url = base_url or env.get(BASE_URL_VARIABLE, "").strip()
    if not url:
        raise UserError(
            "this scenario has actors decided by a language model (decision kind 'llm'), and "
            "no endpoint is configured: give one with --llm-endpoint URL (in Python, "
            f"llm=redline.llm.Endpoint(URL)) or the {BASE_URL_VARIABLE} setting (a scenario "
            "file never names one)"
        )
    if key_env is not None:
        if key_env not in env:
            raise UserError(f"--llm-key-env names the setting '{key_env}', which is not set")
        key = env[key_env]
    else:
        key = env.get(KEY_VARIABLE, "")
    if template is not None and not template.is_file():
        raise UserError(f"--llm-template: no file {template}")
    return Endpoint(
        base_url=url,
        # local servers need no key; the client wants one, so it gets a placeholder
        api_key=key or "none",
        concurrency=concurrency,
        timeout=timeout,
        max_retries=max_retries,
        prices=prices,
        model=model,
        template=template,
    )
