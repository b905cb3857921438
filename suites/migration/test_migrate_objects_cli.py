"""`crownsafe-migrate-objects` and `crownsafe-harness migrate-objects` as a machine and a
person read them: `--json` is one JSON object on stdout (dry run and real run, the same
counts), the default is a summary, and neither prints a credential."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crownsafe.redaction import contains_secret, known_secrets

from .conftest import REPO_ROOT
from .objects import SeedObject, put_objects

pytestmark = pytest.mark.migration

BIN = Path(sys.executable).parent
OBJECTS = [
    SeedObject(f"cli/{i}.jpg", 40 + i, "image/jpeg", {"content-lang": "fr"} if i < 2 else {})
    for i in range(5)
]
REPORT_KEYS = {
    "source",
    "target",
    "dry_run",
    "ok",
    "exit_code",
    "objects",
    "bytes",
    "copied",
    "copied_bytes",
    "skipped",
    "failed",
    "mismatches",
    "verified_total",
    "would_copy",
    "would_copy_bytes",
    "would_rename_metadata_keys",
    "would_fail",
    "url_rows_rewritten",
    "failures",
    "duration_s",
}


def _run(tool: list[str], env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*tool, *args], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=180
    )


def _json(result: subprocess.CompletedProcess[str], env: dict[str, str]) -> dict[str, Any]:
    """stdout parsed as one JSON object, after checking it holds no credential."""
    assert not contains_secret(result.stdout), result.stdout
    leaked = [s for s in known_secrets(env) if s in result.stdout]
    assert not leaked, "a configured secret reached stdout"
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_json_of_the_dry_run_and_the_real_run_and_the_summary(
    storage_services: Any, make_storage_client: Any, migrated_database_url: str
) -> None:
    """Dry run (product CLI) and real run (harness CLI) with --json: one object each on
    stdout, the documented keys, the real run doing what the dry run counted; a third run
    without --json prints the summary, not JSON."""
    source = make_storage_client("s3")
    target = make_storage_client("azure")
    put_objects(storage_services.s3, source.container_name, OBJECTS)
    env = {**os.environ, **storage_services.env(), "DATABASE_URL": migrated_database_url}
    where = ["--source-bucket", source.container_name]
    where += ["--target-container", target.container_name, "--no-rewrite-urls"]

    dry_result = _run([str(BIN / "crownsafe-migrate-objects")], env, *where, "--dry-run", "--json")
    assert dry_result.returncode == 0, dry_result.stderr
    dry = _json(dry_result, env)
    assert dry.keys() >= REPORT_KEYS, REPORT_KEYS - dry.keys()
    assert (dry["dry_run"], dry["exit_code"], dry["copied"]) == (True, 0, 0)
    assert (dry["would_copy"], dry["would_rename_metadata_keys"]) == (5, 2)
    assert "[migrate-objects]" in dry_result.stderr, "progress goes to stderr"

    real_result = _run([str(BIN / "crownsafe-harness"), "migrate-objects"], env, *where, "--json")
    assert real_result.returncode == 0, real_result.stderr
    real = _json(real_result, env)
    assert real.keys() >= REPORT_KEYS
    assert (real["dry_run"], real["ok"], real["exit_code"]) == (False, True, 0)
    assert (real["copied"], real["metadata_keys_renamed"]) == (dry["would_copy"], 2)
    assert real["verified_total"] == real["objects"] == 5

    again = _run([str(BIN / "crownsafe-migrate-objects")], env, *where)
    assert again.returncode == 0, again.stderr
    assert not again.stdout.lstrip().startswith("{")
    assert "copied 0" in again.stdout and "skipped 5" in again.stdout, again.stdout
    assert again.stdout.rstrip().splitlines()[-1].startswith("migrate-objects: ok in ")
    assert not contains_secret(again.stdout)


def test_a_configuration_error_is_a_json_error_with_exit_2(tmp_path: Path) -> None:
    """No usable database: exit 2, and --json still gives one object that says why."""
    env = {**os.environ, "DATABASE_URL": "sqlite:///x.db", "AZURE_BLOB_ENABLED": "true"}
    result = _run([str(BIN / "crownsafe-migrate-objects")], env, "--dry-run", "--json")
    assert result.returncode == 2, result.stderr
    document = json.loads(result.stdout)
    assert document["ok"] is False and document["exit_code"] == 2
    assert "PostgreSQL" in document["error"], document
