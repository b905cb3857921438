"""harness.services.azurite: the blob endpoint of a connection string, and external accounts."""

from __future__ import annotations

import pytest

from crownsafe.storage.azure import parse_connection_string
from harness.services.azurite import AzuriteService, _blob_endpoint_of
from harness.services.base import ServiceStartError


def test_connection_string_parts() -> None:
    parts = parse_connection_string(
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=k==;EndpointSuffix=core.windows.net"
    )
    assert parts["ACCOUNTKEY"] == "k=="
    assert _blob_endpoint_of(parts) == "https://acct.blob.core.windows.net"
    assert _blob_endpoint_of({"BLOBENDPOINT": "http://127.0.0.1:1/devstoreaccount1/"}) == (
        "http://127.0.0.1:1/devstoreaccount1"
    )
    assert _blob_endpoint_of({"USEDEVELOPMENTSTORAGE": "true"}).endswith(":10000/devstoreaccount1")


def test_external_azure_reads_the_connection_string_with_crownsafes_parser() -> None:
    """A malformed HARNESS_AZURE_CONNECTION_STRING is a ServiceStartError naming it; a
    well-formed one is accepted without contacting the account."""
    bad = AzuriteService("external", environ={"HARNESS_AZURE_CONNECTION_STRING": "AccountName"})
    with pytest.raises(ServiceStartError, match=r"HARNESS_AZURE_CONNECTION_STRING.*malformed"):
        bad.check_prerequisites()
    good = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=k==;"
    AzuriteService(
        "external", environ={"HARNESS_AZURE_CONNECTION_STRING": good}
    ).check_prerequisites()
