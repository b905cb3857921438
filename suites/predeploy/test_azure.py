"""`crownsafe-harness predeploy` against Azurite and a throwaway PostgreSQL, end to end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from azure.storage.blob import BlobServiceClient
from sqlalchemy.engine import make_url

from crownsafe.config import Settings
from crownsafe.db.alembic_config import make_alembic_config
from crownsafe.errors import BlobNotFoundError
from crownsafe.storage.azure import AzureBlobStorageClient
from harness.predeploy.checks import check_ids
from harness.predeploy.probes import PROBE_PREFIX, new_probe_name
from harness.services.azurite import AzuriteService

from .helpers import assert_no_secret, command_env, run_predeploy

pytestmark = pytest.mark.migration
DB_PASSWORD = "pd-db-password-4711"  # trust auth ignores it; it must still never be printed


@pytest.fixture
def database(migrated_database_url: str) -> str:
    """A database at the Alembic head, its URL carrying a password (to prove redaction)."""
    return make_url(migrated_database_url).set(password=DB_PASSWORD).render_as_string(False)


def azure_env(
    azurite: AzuriteService, container: str, database: str, **extra: str
) -> dict[str, str]:
    return command_env(
        {
            "STORAGE_BACKEND": "azure",
            "AZURE_BLOB_ENABLED": "true",
            "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
            "AZURE_STORAGE_CONTAINER": container,
            "DATABASE_URL": database,
            **extra,
        }
    )


def probes_in(client: AzureBlobStorageClient) -> list[str]:
    return [info.name for info in client.list_blobs(prefix=PROBE_PREFIX)]


def test_happy_path_exits_0_and_writes_one_testcase_per_check(
    azurite: AzuriteService, azure_container: AzureBlobStorageClient, database: str, tmp_path: Path
) -> None:
    """Against a good environment every check passes or is skipped for its stated reason."""
    env = azure_env(azurite, azure_container.container_name, database)
    run = run_predeploy(env, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    report = run.report
    assert report["schema_version"] == 1 and report["outcome"] == "passed"
    statuses = {c["id"]: c["status"] for c in report["checks"]}
    assert [c["id"] for c in report["checks"]] == check_ids()
    skipped = {i for i, s in statuses.items() if s == "skipped"}
    assert skipped == {"redis.reachable", "api.health"}, statuses
    assert statuses["sas.read-refuses-write"] == "passed"  # Azurite enforces SAS permissions
    assert statuses["storage.anonymous-list-refused"] == "passed"
    assert statuses["storage.credentials-verified"] == "passed"  # Azurite checks the key
    cases = run.junit().findall("./testsuite/testcase")
    assert [case.get("name") for case in cases] == check_ids()
    assert len(run.junit().findall(".//skipped")) == 2 and not run.junit().findall(".//failure")
    assert "PASS    storage.round-trip" in run.stdout
    assert probes_in(azure_container) == []
    assert_no_secret(run, [azurite.account_key, azurite.connection_string, DB_PASSWORD])


def test_wrong_account_key_fails_storage_reachable_without_leaking_it(
    azurite: AzuriteService, azure_container: AzureBlobStorageClient, database: str, tmp_path: Path
) -> None:
    """A wrong account key is named as storage.reachable failing; no key is printed."""
    wrong_key = "QUJD" * 21 + "QUI="  # base64, 88 chars: well formed, just not the account's
    connection = azurite.connection_string.replace(azurite.account_key, wrong_key)
    env = azure_env(azurite, azure_container.container_name, database)
    env["AZURE_STORAGE_CONNECTION_STRING"] = connection
    run = run_predeploy(env, tmp_path)
    assert run.returncode == 1, run.stdout
    assert run.failed_ids() == ["storage.reachable"]
    assert "403" in run.check("storage.reachable")["message"]
    assert run.status("storage.round-trip") == "skipped"
    failure = run.junit().find("./testsuite/testcase[@name='storage.reachable']/failure")
    assert failure is not None and "Fix:" in (failure.text or "")
    assert "FAIL    storage.reachable" in run.stdout
    assert_no_secret(run, [wrong_key, connection, azurite.account_key, DB_PASSWORD])


def test_missing_container_fails_container_exists(
    azurite: AzuriteService, container_name: str, database: str, tmp_path: Path
) -> None:
    """A container that does not exist is storage.container-exists failing (and not made)."""
    run = run_predeploy(azure_env(azurite, container_name, database), tmp_path)
    assert run.returncode == 1, run.stdout
    assert run.failed_ids() == ["storage.container-exists"]
    assert container_name in run.check("storage.container-exists")["message"]
    client = AzureBlobStorageClient(
        container_name, connection_string=azurite.connection_string, settings=Settings()
    )
    with client, pytest.raises(BlobNotFoundError):
        client.list_blobs(max_results=1)


def test_database_one_revision_behind_fails_at_head(
    azurite: AzuriteService, azure_container: AzureBlobStorageClient, database: str, tmp_path: Path
) -> None:
    """One revision behind the head: database.at-head fails and shows both revisions."""
    config = make_alembic_config(database)
    head = ScriptDirectory.from_config(config).get_revision("head")
    assert head is not None and isinstance(head.down_revision, str)
    command.downgrade(config, "-1")
    run = run_predeploy(azure_env(azurite, azure_container.container_name, database), tmp_path)
    assert run.returncode == 1, run.stdout
    assert run.failed_ids() == ["database.at-head"]
    message = run.check("database.at-head")["message"]
    assert f"current {head.down_revision}" in message and f"head {head.revision}" in message
    assert "1 revision(s) behind" in message
    assert "alembic upgrade head" in run.check("database.at-head")["hint"]
    assert_no_secret(run, [DB_PASSWORD, azurite.account_key])


def test_public_container_fails_both_access_checks(
    azurite: AzuriteService, azure_container: AzureBlobStorageClient, database: str, tmp_path: Path
) -> None:
    """A container readable by anyone fails by its settings and by an anonymous listing."""
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    with service:
        service.get_container_client(azure_container.container_name).set_container_access_policy(
            signed_identifiers={}, public_access="container"
        )
    run = run_predeploy(azure_env(azurite, azure_container.container_name, database), tmp_path)
    assert run.returncode == 1
    assert run.failed_ids() == [
        "storage.container-private",
        "storage.anonymous-list-refused",
        "sas.unsigned-url-refused",
    ]
    assert "HTTP 200" in run.check("storage.anonymous-list-refused")["message"]


def test_stale_probes_of_killed_runs_are_deleted_and_nothing_else(
    azurite: AzuriteService, azure_container: AzureBlobStorageClient, database: str, tmp_path: Path
) -> None:
    """Old probes go; a fresh probe (another run's) and foreign blobs under the prefix stay."""
    old = new_probe_name("round-trip", now=datetime.now(UTC) - timedelta(hours=2))
    fresh = new_probe_name("round-trip")
    foreign = f"{PROBE_PREFIX}kept-by-someone.txt"
    for name in (old, fresh, foreign):
        azure_container.upload_file(name, b"x")
    env = azure_env(azurite, azure_container.container_name, database)
    dry = run_predeploy(env, tmp_path, "--dry-run")
    assert dry.returncode == 0 and dry.report["outcome"] == "dry-run"
    assert {c["status"] for c in dry.report["checks"]} == {"planned"}
    assert sorted(probes_in(azure_container)) == sorted([old, fresh, foreign])  # untouched
    run = run_predeploy(env, tmp_path, "--stale-minutes", "30")
    assert run.returncode == 0, run.stdout
    assert "deleted 1 probe blob(s)" in run.check("predeploy.cleanup-stale-probes")["message"]
    assert sorted(probes_in(azure_container)) == sorted([fresh, foreign])
