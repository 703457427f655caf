"""The JSON Schema of scenario files, for editors that validate and complete YAML."""

from __future__ import annotations

from typing import Any

from redline.scenario.model import Scenario

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema() -> dict[str, Any]:
    """The draft 2020-12 JSON Schema every valid scenario file satisfies.

    A file with ``extends`` takes its missing top-level keys from its base, so the top-level
    required keys apply only to files without it.
    """
    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    required = schema.pop("required", [])
    if required:
        schema["if"] = {"required": ["extends"]}
        schema["else"] = {"required": required}
    return {"$schema": DIALECT, "$id": "redline-scenario.schema.json", **schema}
