"""The command-line options of language-model actors (``decision: {kind: llm}``): where their
endpoint is, with what key, how many requests at once, how long to wait, what tokens cost; and
the decision-makers they make, whose answers are kept in the command's store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from redline.cli.app import counted, out
from redline.experiment.outputs import DEFAULT_STORE

if TYPE_CHECKING:  # the client is slow to load: imported when a scenario needs it
    from redline.experiment.store import Store
    from redline.llm.actor import LanguageModelActor
    from redline.scenario.model import Scenario

EndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--llm-endpoint",
        help="OpenAI-compatible API base URL for language-model actors (default: the "
        "OPENAI_BASE_URL setting; a scenario never names one).",
    ),
]
KeyEnvOpt = Annotated[
    str | None,
    typer.Option(
        "--llm-key-env",
        help="The setting (environment variable) holding the endpoint's key (default: "
        "OPENAI_API_KEY).",
    ),
]
ConcurrencyOpt = Annotated[
    int, typer.Option("--llm-concurrency", help="Requests in flight at once, at most.")
]
TimeoutOpt = Annotated[float, typer.Option("--llm-timeout", help="Seconds to wait for one answer.")]
RetriesOpt = Annotated[
    int,
    typer.Option(
        "--llm-retries",
        help="Times a request that failed in transport (timeout, 429, 5xx) is repeated, with "
        "backoff.",
    ),
]
PriceOpt = Annotated[
    str | None,
    typer.Option(
        "--llm-price",
        help="IN,OUT: dollars per million prompt and completion tokens, to report the cost.",
    ),
]
ModelOpt = Annotated[
    str | None,
    typer.Option("--llm-model", help="Ask this model instead of the ones the scenario names."),
]
TemplateOpt = Annotated[
    Path | None,
    typer.Option("--llm-template", help="A Jinja2 prompt template of your own (docs/llm.md)."),
]

StoreOpt = Annotated[
    Path,
    typer.Option("--store", help="The DuckDB store keeping language-model actors' answers."),
]


@dataclass(frozen=True)
class LLMOptions:
    """The language-model options a command was given."""

    endpoint: str | None = None
    key_env: str | None = None
    concurrency: int = 64
    timeout: float = 60.0
    retries: int = 5
    price: str | None = None
    model: str | None = None
    template: Path | None = None

    def prices(self) -> tuple[float, float] | None:
        if self.price is None:  # without importing the language-model client (slow)
            return None
        from redline.llm.endpoint import parse_prices

        return parse_prices(self.price)


def language_makers_for(
    s: Scenario, options: LLMOptions, store: Store, keep_reasons: bool = False
) -> dict[str, LanguageModelActor]:
    """The decision-makers of the scenario's language-model actors (none: an empty mapping),
    asking the endpoint the options (or the environment) name and keeping every answer in
    ``store``. No endpoint configured: refused before anything runs."""
    if not any(a.decision.kind == "llm" for a in s.actors):
        return {}
    from redline.llm.cache import StoreCache
    from redline.llm.endpoint import endpoint_from
    from redline.llm.makers import language_makers

    endpoint = endpoint_from(
        options.endpoint,
        options.key_env,
        concurrency=options.concurrency,
        timeout=options.timeout,
        max_retries=options.retries,
        prices=options.prices(),
        model=options.model,
        template=options.template,
    )
    return language_makers(s, endpoint, StoreCache(store), keep_reasons)


@contextmanager
def asking(
    s: Scenario, options: LLMOptions, store_path: Path = DEFAULT_STORE, quiet: bool = False
) -> Iterator[dict[str, LanguageModelActor]]:
    """The scenario's language-model makers for an analysis command (none: an empty mapping),
    their answers kept in the store file ``store_path``, so a rerun replays; closed on leaving,
    after which what they did is printed (one line per actor), unless ``quiet`` (``--json``)."""
    if not any(a.decision.kind == "llm" for a in s.actors):
        yield {}
        return
    from redline.experiment.store import Store

    makers = language_makers_for(s, options, Store(store_path))
    try:
        yield makers
    finally:
        close_all(makers)
    if not quiet:
        print_usage(makers, options.prices())


def close_all(makers: dict[str, LanguageModelActor]) -> None:
    for maker in makers.values():
        maker.close()


def print_usage(makers: dict[str, LanguageModelActor], prices: tuple[float, float] | None) -> None:
    """What each language-model actor did in this command: decisions, requests asked and
    replayed from the store, invalid answers, fallbacks, tokens and their cost."""
    for actor, maker in makers.items():
        u = maker.usage
        cost = ""
        if prices is not None:
            spent = (u.new_prompt_tokens * prices[0] + u.new_completion_tokens * prices[1]) / 1e6
            cost = f", cost ${spent:,.4f}"
        out.print(
            f"language model {u.model} ({actor}): {counted(u.decisions, 'decision')}; "
            f"{counted(u.asked, 'request')} asked, {u.replayed:,} answered from the store; "
            f"{counted(u.invalid, 'invalid answer')}, {counted(u.fallbacks, 'fallback')}; "
            f"tokens asked now {u.new_prompt_tokens:,} prompt + {u.new_completion_tokens:,} "
            f"completion{cost}",
            markup=False,
            soft_wrap=True,
        )


def usage_json(
    makers: dict[str, LanguageModelActor], options: LLMOptions
) -> dict[str, dict[str, object]]:
    """Each language-model actor's usage in this command, as JSON."""
    prices = options.prices()
    out: dict[str, dict[str, object]] = {}
    for actor, maker in makers.items():
        u = maker.usage
        spent = (
            None
            if prices is None
            else (u.new_prompt_tokens * prices[0] + u.new_completion_tokens * prices[1]) / 1e6
        )
        out[actor] = {
            "model": u.model,
            "decisions": u.decisions,
            "asked": u.asked,
            "replayed": u.replayed,
            "invalid": u.invalid,
            "fallbacks": u.fallbacks,
            "prompt_tokens": u.new_prompt_tokens,
            "completion_tokens": u.new_completion_tokens,
            "cost": spent,
        }
    return out


def record(
    store: Store, experiment: int, makers: dict[str, LanguageModelActor], options: LLMOptions
) -> None:
    """Add what the language models did for an experiment to the store (``llm_usage``)."""
    from redline.llm.cache import record_usage

    record_usage(store, experiment, [m.usage for m in makers.values()], options.prices())


def print_experiment_usage(store: Store, experiment: int) -> None:
    """What the language models did for a stored experiment, per actor, over every command
    that worked on it: requests asked (what was paid for) and answered from the store, invalid
    answers, fallbacks, the tokens asked and their cost at the prices given then."""
    from redline.llm.cache import experiment_usage

    for u, cost in experiment_usage(store, experiment):
        spent = "" if cost is None else f", cost ${cost:,.4f}"
        out.print(
            f"language model {u.model} ({u.actor}): {counted(u.asked, 'request')} asked, "
            f"{u.replayed:,} answered from the store; {counted(u.invalid, 'invalid answer')}, "
            f"{counted(u.fallbacks, 'fallback')}; tokens asked {u.new_prompt_tokens:,} prompt + "
            f"{u.new_completion_tokens:,} completion{spent}",
            markup=False,
            soft_wrap=True,
        )
