"""Shapes of configured values: described, never shown (harness.predeploy.shapes)."""

from __future__ import annotations

from harness.predeploy.context import secrets_in
from harness.predeploy.shapes import connection_string_shape, key_shape, url_shape

KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def test_connection_string_shape_names_parts_and_hides_values() -> None:
    value = (
        f"DefaultEndpointsProtocol=https;AccountName=prodacct;AccountKey={KEY};"
        "EndpointSuffix=core.windows.net"
    )
    shape, problem = connection_string_shape(value)
    assert shape == (
        "connection string with DefaultEndpointsProtocol, AccountName, "
        "AccountKey (base64, 88 chars), EndpointSuffix"
    )
    assert problem == ""
    assert "prodacct" not in shape and KEY not in shape


def test_connection_string_problems_are_named() -> None:
    assert connection_string_shape("AccountName=a;AccountKey=not*base64")[1] == (
        "AccountKey is not base64"
    )
    assert "neither AccountKey" in connection_string_shape("AccountName=a")[1]
    assert "malformed" in connection_string_shape("just a string")[1]


def test_key_and_url_shapes() -> None:
    assert key_shape(KEY) == ("base64, 88 chars", "")
    assert url_shape("postgresql://u:pw@db.internal:5432/app", schemes=("postgresql",)) == (
        "postgresql URL (remote host; port, path, user, password)",
        "",
    )
    assert url_shape("ftp://x")[1] == "is not a http/https URL"


def test_secrets_in_finds_whole_values_and_their_parts() -> None:
    found = secrets_in(
        {
            "AZURE_STORAGE_CONNECTION_STRING": f"AccountName=a;AccountKey={KEY}",
            "DATABASE_URL": "postgresql://app:p%40ss-word@db/app",
            "AZURE_STORAGE_CONTAINER": "not-a-secret",
        }
    )
    assert KEY in found and "p%40ss-word" in found and "p@ss-word" in found
    assert "not-a-secret" not in found
    assert found == sorted(found, key=len, reverse=True)
