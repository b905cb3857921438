"""`--json`: the result as JSON, and its JSON Schema (published in docs/predeploy/)."""

from __future__ import annotations

import json
from typing import Any

from harness.predeploy.model import PredeployResult

__all__ = ["result_json", "result_schema", "schema_text"]


def result_json(result: PredeployResult) -> str:
    return result.model_dump_json(indent=2) + "\n"


def result_schema() -> dict[str, Any]:
    """The JSON Schema of `result_json`'s output (the file in docs/ is this, checked in)."""
    return PredeployResult.model_json_schema()


def schema_text() -> str:
    return json.dumps(result_schema(), indent=2, sort_keys=True) + "\n"
