"""storage.cors on the emulators, both ways: the account's CORS rules (Azurite's Blob
service properties, moto's bucket CORS) let CORS_ORIGINS GET, or the check fails naming the
origin; a rule allowing any origin with credentials fails. The seed's known issue 4."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from azure.storage.blob import BlobServiceClient
from azure.storage.blob import CorsRule as AzureCorsRule

from crownsafe.config import Settings
from crownsafe.storage.s3 import S3StorageClient
from harness.services.azurite import AzuriteService
from harness.services.s3 import S3Service

from .helpers import command_env, run_predeploy

APP = "https://app.crownsafe.example"
OTHER = "https://other.example"
# (rule origins, allowed headers, expected status, text the message must hold)
CASES = {
    "good": ([APP, "https://admin.crownsafe.example"], ["x-ms-*"], "passed", "may GET"),
    "missing-origin": ([OTHER], [], "failed", repr(APP)),
    "wildcard": (["*"], ["*"], "failed", "any origin ('*') with credentials"),
}
SKIPS = ("--skip", "database.*", "--skip", "sas.*", "--skip", "storage.*round-trip")


@pytest.fixture(scope="module")
def azurite() -> Iterator[AzuriteService]:
    with AzuriteService() as service:
        yield service


@pytest.fixture(scope="module")
def moto() -> Iterator[S3Service]:
    with S3Service() as service:
        yield service


def _azure_cors(azurite: AzuriteService, rules: list[AzureCorsRule]) -> None:
    with BlobServiceClient.from_connection_string(azurite.connection_string) as service:
        service.set_service_properties(cors=rules)


@pytest.fixture
def azure_account(azurite: AzuriteService) -> Iterator[tuple[AzuriteService, str]]:
    """A container on the module's Azurite; the account's CORS rules cleared after."""
    name = f"pd-cors-{uuid.uuid4().hex[:8]}"
    with BlobServiceClient.from_connection_string(azurite.connection_string) as service:
        service.create_container(name)
    try:
        yield azurite, name
    finally:
        _azure_cors(azurite, [])


@pytest.mark.parametrize("case", list(CASES))
def test_azure_account_cors(
    azure_account: tuple[AzuriteService, str], tmp_path: Path, case: str
) -> None:
    azurite, container = azure_account
    origins, headers, expected, text = CASES[case]
    _azure_cors(
        azurite,
        [AzureCorsRule(origins, ["GET", "HEAD"], allowed_headers=headers or ["x-ms-meta-*"])],
    )
    env = command_env(
        {
            "STORAGE_BACKEND": "azure",
            "AZURE_BLOB_ENABLED": "true",
            "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
            "AZURE_STORAGE_CONTAINER": container,
            "CORS_ORIGINS": APP,
        }
    )
    _assert_cors_check(env, tmp_path, expected, text, fix="az storage cors")


@pytest.mark.parametrize("case", list(CASES))
def test_s3_bucket_cors(moto: S3Service, tmp_path: Path, case: str) -> None:
    bucket = f"pd-cors-{uuid.uuid4().hex[:8]}"
    with S3StorageClient(
        bucket,
        endpoint_url=moto.endpoint_url,
        access_key_id=moto.access_key_id,
        secret_access_key=moto.secret_access_key,
        settings=Settings(),
    ) as client:
        client.create_container()
    origins, headers, expected, text = CASES[case]
    sdk = boto3.client(
        "s3",
        endpoint_url=moto.endpoint_url,
        region_name=moto.region,
        aws_access_key_id=moto.access_key_id,
        aws_secret_access_key=moto.secret_access_key,
    )
    rule = {"AllowedOrigins": origins, "AllowedMethods": ["GET", "HEAD"]}
    if headers:
        rule["AllowedHeaders"] = headers
    sdk.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})
    sdk.close()
    env = command_env(
        {
            "STORAGE_BACKEND": "s3",
            "AZURE_BLOB_ENABLED": "false",
            "S3_BUCKET": bucket,
            "S3_ENDPOINT_URL": moto.endpoint_url,
            "AWS_REGION": moto.region,
            "AWS_ACCESS_KEY_ID": moto.access_key_id,
            "AWS_SECRET_ACCESS_KEY": moto.secret_access_key,
            "CORS_ORIGINS": APP,
        }
    )
    _assert_cors_check(env, tmp_path, expected, text, fix="put-bucket-cors")


def test_s3_bucket_without_cors_fails_a_configured_origin(moto: S3Service, tmp_path: Path) -> None:
    """No CORS configuration at all (NoSuchCORSConfiguration): the front-end may not GET."""
    bucket = f"pd-cors-{uuid.uuid4().hex[:8]}"
    with S3StorageClient(
        bucket,
        endpoint_url=moto.endpoint_url,
        access_key_id=moto.access_key_id,
        secret_access_key=moto.secret_access_key,
        settings=Settings(),
    ) as client:
        client.create_container()
        assert client.cors_rules() == []
    env = command_env(
        {
            "STORAGE_BACKEND": "s3",
            "S3_BUCKET": bucket,
            "S3_ENDPOINT_URL": moto.endpoint_url,
            "AWS_REGION": moto.region,
            "AWS_ACCESS_KEY_ID": moto.access_key_id,
            "AWS_SECRET_ACCESS_KEY": moto.secret_access_key,
            "CORS_ORIGINS": APP,
        }
    )
    run = run_predeploy(env, tmp_path, *SKIPS)
    assert run.status("storage.cors") == "failed"
    assert "0 rule(s)" in run.check("storage.cors")["message"]


def _assert_cors_check(
    env: dict[str, str], tmp_path: Path, expected: str, text: str, *, fix: str
) -> None:
    """predeploy's storage.cors says `expected` with `text`; a failure alone fails the
    run and its hint gives the service's own command (`fix`)."""
    run = run_predeploy(env, tmp_path, *SKIPS)
    check = run.check("storage.cors")
    assert check["status"] == expected, check
    assert text in check["message"]
    assert run.returncode == (0 if expected == "passed" else 1), run.stdout + run.stderr
    if expected == "failed":
        assert run.failed_ids() == ["storage.cors"]
        assert fix in check["hint"]
