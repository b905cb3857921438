"""The service logs JSON by default (LOG_FORMAT unset, stderr a file): every line the app
writes parses as one JSON object, and a storage call's line carries the request's
correlation id and the seed's fields."""

from __future__ import annotations

import json
from typing import Any

from harness.fixtures.api import ApiStack

from .helpers import NotYet, image, poll


def test_the_app_log_is_json_lines_with_one_line_per_storage_call(api_stack: ApiStack) -> None:
    assert "LOG_FORMAT" not in api_stack.env  # the default is what is checked
    client = api_stack.client(user_id=611)
    cid = "json-log-check-611"
    response = client.post(
        "/uploads",
        files={"file": ("j.png", image("small.png"), "image/png")},
        headers={"X-Correlation-ID": cid},
    )
    assert response.status_code == 202, response.text
    log_path = api_stack.app.log_path
    assert log_path is not None

    def stored() -> dict[str, Any]:
        lines = [json.loads(text) for text in log_path.read_text().splitlines() if text]
        for line in lines:
            assert isinstance(line, dict) and {"timestamp", "level", "logger", "message"} <= set(
                line
            ), line
        for line in lines:
            if (
                line.get("event") == "storage_operation"
                and line.get("operation") == "upload_file"
                and line.get("correlation_id") == cid
            ):
                return line
        raise NotYet(f"no upload_file line with correlation id {cid} in {log_path}")

    line = poll(stored, timeout=10)
    assert line["backend"] == api_stack.backend
    assert line["outcome"] == "success" and line["attempts"] == 1
    assert line["size_bytes"] == len(image("small.png"))
    assert line["container"] == (
        api_stack.env["AZURE_STORAGE_CONTAINER"]
        if api_stack.backend == "azure"
        else api_stack.env["S3_BUCKET"]
    )
    assert line["blob_name"] and isinstance(line["duration_seconds"], float)
    assert api_stack.env["JWT_SECRET"] not in log_path.read_text()
