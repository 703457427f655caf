"""The JSON Schema of scenario files, for editors that validate and complete YAML."""

from __future__ import annotations

from typing import Any

from redline.scenario.model import Scenario

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema() -> dict[str, Any]:
    """The draft 2020-12 JSON Schema every valid scenario file satisfies."""
    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": DIALECT, "$id": "redline-scenario.schema.json", **schema}
