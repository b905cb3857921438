"""`--json`: the report as JSON, and its JSON Schema (published in docs/predeploy/)."""

from __future__ import annotations

import json
from typing import Any

from harness.predeploy.model import PredeployReport

__all__ = ["report_json", "report_schema", "schema_text"]


def report_json(report: PredeployReport) -> str:
    return report.model_dump_json(indent=2) + "\n"


def report_schema() -> dict[str, Any]:
    """The JSON Schema of `report_json`'s output (the file in docs/ is this, checked in)."""
    return PredeployReport.model_json_schema()


def schema_text() -> str:
    return json.dumps(report_schema(), indent=2, sort_keys=True) + "\n"
