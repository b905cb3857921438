"""The published JSON Schema of every run-folder file, generated from the models.

`python -m harness.runfolder.jsonschema [DIR]` (re)writes `docs/run-folder/*.schema.json`;
a unit test fails when the committed schemas are stale, so CI consumers can rely on them
without reading Python.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from harness.runfolder._base import RunFile
from harness.runfolder.registry import FILE_MODELS

__all__ = ["SCHEMA_DIR", "schema_documents", "schema_file_name", "write_schemas"]

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "run-folder"


def schema_file_name(model: type[RunFile]) -> str:
    """'bench/ratios.json' -> 'bench.ratios.schema.json', 'suites/*.json' -> 'suites...'."""
    stem = model.FILE.removesuffix(".json").replace("/*", "").replace("/", ".")
    return f"{stem}.schema.json"


def schema_documents() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema (draft 2020-12) for every run-folder file."""
    documents = {}
    for model in FILE_MODELS:
        schema = model.model_json_schema()
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"crownsafe-harness/run-folder/{schema_file_name(model)}",
            "description": f"{model.FILE} in a run folder. " + schema.get("description", ""),
            **{k: v for k, v in schema.items() if k != "description"},
        }
        documents[schema_file_name(model)] = schema
    return documents


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schema_documents().items():
        path = directory / name
        path.write_text(render(schema), "utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_DIR
    for path in write_schemas(target):
        print(path)
