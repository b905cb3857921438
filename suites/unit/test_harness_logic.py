"""Pure logic of the harness: test ids, secret masking, names, connection strings, summary."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crownsafe.config import Settings, load_settings
from crownsafe.storage.naming import validate_bucket_name, validate_container_name
from harness.fixtures.storage import _azure_connection_string, unique_container_name
from harness.plugin import _suite_record, backend_of, suite_of
from harness.runfolder import write_file
from harness.services.azurite import (
    WELL_KNOWN_ACCOUNT_KEY,
    AzuriteService,
    _blob_endpoint_of,
    parse_connection_string,
)
from harness.services.base import ServiceStartError
from harness.services.provision import canonical_service_name
from harness.services.redis import RedisService
from harness.services.s3 import S3Service
from harness.stages import summary_rows, summary_table

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("nodeid", "suite"),
    [
        ("suites/contract/test_roundtrip.py::test_x[azure]", "contract"),
        ("suites/unit/sub/test_y.py::test_y", "unit"),
        ("suites/contract/test_roundtrip.py", "contract"),
        ("benchmarks/test_bench_small_ops.py::test_b[s3]", "benchmarks"),
        ("suites/test_top.py::t", "suites"),
        ("tests/test_z.py::t", "tests"),
        ("test_z.py::t", "other"),
    ],
)
def test_suite_is_the_first_folder_under_suites(nodeid: str, suite: str) -> None:
    """The suite name of a test id is the folder under suites/ (or 'benchmarks')."""
    assert suite_of(nodeid) == suite


@pytest.mark.parametrize(
    ("nodeid", "backend"),
    [
        ("m.py::t[azure]", "azure"),
        ("m.py::t[s3]", "s3"),
        ("m.py::t[1KiB-s3]", "s3"),
        ("m.py::t[azure-0]", "azure"),
        ("m.py::t", None),
        ("m.py::t[s3x]", None),
        ("m.py::t[azurex-1]", None),
    ],
)
def test_backend_comes_from_the_parameter_id(nodeid: str, backend: str | None) -> None:
    """Only a whole 'azure'/'s3' id part names the backend."""
    assert backend_of(nodeid) == backend


@given(st.text(min_size=0, max_size=200))
def test_unique_container_names_are_valid_on_both_services(test_name: str) -> None:
    """Whatever the test is called, its container name passes Azure and S3 naming rules."""
    name = unique_container_name(test_name)
    assert validate_container_name(name) == name
    assert validate_bucket_name(name) == name


def test_unique_container_names_differ() -> None:
    assert len({unique_container_name("test_x[azure]") for _ in range(50)}) == 50


def test_connection_string_parts() -> None:
    parts = parse_connection_string(
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=k==;EndpointSuffix=core.windows.net"
    )
    assert parts["accountkey"] == "k=="
    assert _blob_endpoint_of(parts) == "https://acct.blob.core.windows.net"
    assert _blob_endpoint_of({"blobendpoint": "http://127.0.0.1:1/devstoreaccount1/"}) == (
        "http://127.0.0.1:1/devstoreaccount1"
    )
    assert _blob_endpoint_of({"usedevelopmentstorage": "true"}).endswith(":10000/devstoreaccount1")


class _FakeAzure:
    blob_endpoint = "http://127.0.0.1:10000/devstoreaccount1"
    connection_string = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey={WELL_KNOWN_ACCOUNT_KEY};BlobEndpoint={blob_endpoint};"
    )


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        (None, "http://127.0.0.1:10000/devstoreaccount1"),
        ("http://127.0.0.1:5555", "http://127.0.0.1:5555/devstoreaccount1"),
        ("http://127.0.0.1:5555/", "http://127.0.0.1:5555/devstoreaccount1"),
        ("https://proxy:1/devstoreaccount1", "https://proxy:1/devstoreaccount1"),
    ],
)
def test_azure_client_endpoint_override(endpoint: str | None, expected: str) -> None:
    """A proxy endpoint without a path gets the account path; the key is kept."""
    result = parse_connection_string(_azure_connection_string(_FakeAzure(), endpoint))
    assert result["blobendpoint"] == expected
    assert result["accountkey"] == WELL_KNOWN_ACCOUNT_KEY
    assert result["defaultendpointsprotocol"] == expected.split("://")[0]


def test_service_aliases() -> None:
    assert [canonical_service_name(n) for n in ("Azurite", "moto", "postgresql")] == [
        "azure",
        "s3",
        "postgres",
    ]
    with pytest.raises(ValueError, match="unknown service 'gcs'"):
        canonical_service_name("gcs")


@pytest.mark.parametrize(
    ("service", "variables"),
    [
        (AzuriteService("external", environ={}), ["HARNESS_AZURE_CONNECTION_STRING"]),
        (
            S3Service("external", environ={"HARNESS_S3_ENDPOINT_URL": "http://x"}),
            ["HARNESS_S3_ACCESS_KEY_ID", "HARNESS_S3_SECRET_ACCESS_KEY"],
        ),
        (RedisService("external", environ={}), ["HARNESS_REDIS_URL"]),
    ],
    ids=["azure", "s3", "redis"],
)
def test_external_mode_without_variables_says_which(
    service: AzuriteService | S3Service | RedisService, variables: list[str]
) -> None:
    """--provision external with nothing configured names the variables to set."""
    with pytest.raises(ServiceStartError) as caught:
        service.check_prerequisites()
    for variable in variables:
        assert variable in str(caught.value)
    assert "--provision local" in caught.value.fix


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown provision mode"):
        AzuriteService("cloud")  # type: ignore[arg-type]


def test_suite_record_and_summary_table(tmp_path: Path) -> None:
    """Per-backend counts in suites/<suite>.json drive the printed summary table."""
    tests: list[dict[str, Any]] = [
        {"nodeid": "a[azure]", "backend": "azure", "outcome": "passed"},
        {"nodeid": "a[s3]", "backend": "s3", "outcome": "failed"},
        {"nodeid": "b[s3]", "backend": "s3", "outcome": "skipped"},
        {"nodeid": "c", "backend": None, "outcome": "error"},
    ]
    record = _suite_record("contract", tests, 1)
    assert record.totals == {"passed": 1, "failed": 1, "skipped": 1, "error": 1}
    assert record.backends["s3"] == {"failed": 1, "skipped": 1}
    write_file(tmp_path, record, "suites/contract.json")
    rows = summary_rows(tmp_path)
    assert [(r["backend"], r["passed"], r["failed"], r["error"], r["skipped"]) for r in rows] == [
        ("-", 0, 0, 1, 0),
        ("azure", 1, 0, 0, 0),
        ("s3", 0, 1, 0, 1),
    ]
    table = summary_table(rows).splitlines()
    assert table[0].split() == ["suite", "backend", "passed", "failed", "error", "skipped"]
    assert table[-1].split() == ["contract", "s3", "0", "1", "0", "1"]


def test_env_example_lists_every_setting() -> None:
    """.env.example names every Settings variable, the seed's four first, and parses."""
    lines = (REPO / ".env.example").read_text().splitlines()
    values = dict(
        line.split("=", 1) for line in lines if line and not line.startswith("#") and "=" in line
    )
    assert {f.name.upper() for f in fields(Settings)} <= set(values)
    assert list(values)[:4] == [
        "AZURE_BLOB_ENABLED",
        "AZURE_STORAGE_CONNECTION_STRING",
        "AZURE_STORAGE_CONTAINER",
        "AZURE_REGION",
    ]
    settings = load_settings(values)
    assert settings.azure_storage_container == "crownsafe-images"
