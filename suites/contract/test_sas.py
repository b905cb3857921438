"""SAS / presigned URLs: plain HTTP reads and writes, least privilege, expiry, start, HTTPS.

Every refusal is asserted as a 403 with the service's error code, on every target. Azurite
and LocalStack (the `s3:localstack` target, on by default for these tests) enforce them.
moto checks none of them (docs/emulators.md): on moto the refusals are known gaps of its
known-gaps file (harness/targets/gaps/s3-moto.toml), and what can be checked without the
server is still asserted first on every S3 target: the URL's X-Amz-* parameters and its
SigV4 signature, recomputed by the suite, bound to exactly one method.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import requests

from crownsafe.config import Settings
from crownsafe.errors import InvalidSasRequestError
from crownsafe.storage.base import StorageClient
from harness.services.provision import ProvisionedServices

from .sigv4 import parse_sas_time, presigned_methods, query_params, sigv4_resign

pytestmark = [pytest.mark.contract, pytest.mark.sas]

HTTP_TIMEOUT = 30
SIGNATURE_MISMATCH = {
    "azure": {"AuthenticationFailed", "AuthorizationFailure"},
    "s3": {"SignatureDoesNotMatch"},
}
PERMISSION_MISMATCH = {
    "azure": {"AuthorizationPermissionMismatch"},
    "s3": {"SignatureDoesNotMatch"},
}
EXPIRED = {"azure": {"AuthorizationFailure", "AuthenticationFailed"}, "s3": {"AccessDenied"}}


def _error_code(backend: str, response: requests.Response) -> str | None:
    if backend == "azure":
        return response.headers.get("x-ms-error-code")
    found = re.search(r"<Code>([^<]+)</Code>", response.text)
    return found.group(1) if found else None


def _answer(backend: str, response: requests.Response) -> str:
    """Status and error code only: an S3 error body echoes the signature it was given."""
    return f"{response.status_code} {_error_code(backend, response) or ''}".strip()


def _assert_refused(backend: str, response: requests.Response, codes: dict[str, set[str]]) -> None:
    """403 with one of the backend's error codes (S3's from the XML body, Azure's header)."""
    status = response.status_code
    assert status == 403, f"[{backend}] expected 403, got {_answer(backend, response)}"
    code = _error_code(backend, response)
    assert code in codes[backend], f"[{backend}] 403 error code {code!r} not in {codes[backend]}"


def _assert_not_served(response: requests.Response, content: bytes) -> None:
    served = content in response.content
    assert not served, "the refused request was served the object's content anyway"


def _assert_presign_parameters(
    url: str, services: ProvisionedServices, *, expires_s: int, method: str
) -> None:
    """The SigV4 query parameters of an S3 presigned URL, and the one method it is bound to."""
    s3 = services.s3
    params = query_params(url)
    now = datetime.now(UTC)
    assert params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert params["X-Amz-Expires"] == str(expires_s)
    assert params["X-Amz-SignedHeaders"] == "host"
    key_id, date, region, service, terminator = params["X-Amz-Credential"].split("/")
    assert (key_id, region, service, terminator) == (
        s3.access_key_id,
        s3.region,
        "s3",
        "aws4_request",
    )
    signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert date == signed_at.strftime("%Y%m%d")
    assert abs(now - signed_at) < timedelta(minutes=5)
    assert presigned_methods(url, s3.secret_access_key) == {method}, (
        f"the presigned URL must be bound to {method} only"
    )


def test_sas_url_returns_bytes_and_content_type(storage_client: StorageClient) -> None:
    """A read SAS URL fetched with plain `requests` returns the bytes and the content type."""
    storage_client.upload_file("sas/photo.png", b"\x89PNG\r\n", content_type="image/png")
    url = storage_client.generate_sas_url("sas/photo.png", expiry_hours=1, permission="r")
    response = requests.get(url, timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, _answer(storage_client.backend, response)
    assert response.content == b"\x89PNG\r\n"
    assert response.headers["Content-Type"] == "image/png"


def test_write_sas_put_creates_blob(storage_client: StorageClient, backend: str) -> None:
    """A write SAS lets a plain HTTP PUT create the blob (Azure: x-ms-blob-type BlockBlob)."""
    url = storage_client.generate_sas_url("sas/uploaded.bin", expiry_hours=1, permission="w")
    headers = {"x-ms-blob-type": "BlockBlob"} if backend == "azure" else {}
    response = requests.put(url, data=b"via sas", headers=headers, timeout=HTTP_TIMEOUT)
    assert response.status_code in (200, 201), _answer(backend, response)
    assert storage_client.download_blob("sas/uploaded.bin") == b"via sas"


def test_read_only_sas_cannot_write(
    storage_client: StorageClient, backend: str, target_services: ProvisionedServices
) -> None:
    """A read-only SAS refuses a PUT with 403 (S3: the URL is signed for GET only)."""
    storage_client.upload_file("sas/readonly.txt", b"original")
    url = storage_client.generate_sas_url("sas/readonly.txt", expiry_hours=1, permission="r")
    if backend == "s3":
        _assert_presign_parameters(url, target_services, expires_s=3600, method="GET")
    headers = {"x-ms-blob-type": "BlockBlob"} if backend == "azure" else {}
    response = requests.put(url, data=b"tampered", headers=headers, timeout=HTTP_TIMEOUT)
    _assert_refused(backend, response, PERMISSION_MISMATCH)
    assert storage_client.download_blob("sas/readonly.txt") == b"original"


def test_write_only_sas_cannot_read(
    storage_client: StorageClient, backend: str, target_services: ProvisionedServices
) -> None:
    """A write-only SAS refuses a GET with 403 (S3: the URL is signed for PUT only)."""
    storage_client.upload_file("sas/writeonly.txt", b"secret content")
    url = storage_client.generate_sas_url("sas/writeonly.txt", expiry_hours=1, permission="w")
    if backend == "s3":
        _assert_presign_parameters(url, target_services, expires_s=3600, method="PUT")
    response = requests.get(url, timeout=HTTP_TIMEOUT)
    _assert_refused(backend, response, PERMISSION_MISMATCH)
    _assert_not_served(response, b"secret content")


def test_expired_sas_cannot_read(
    storage_client: StorageClient,
    backend: str,
    target_services: ProvisionedServices,
    expired_sas_url: Callable[[StorageClient, str], str],
    sas_signed_at: Callable[[timedelta], datetime],
) -> None:
    """An expired SAS refuses to read with 403 (signed in the past: no waiting)."""
    storage_client.upload_file("sas/expired.txt", b"too late")
    url = expired_sas_url(storage_client, "sas/expired.txt")
    now = datetime.now(UTC)
    if backend == "azure":
        assert parse_sas_time(query_params(url)["se"]) < now
    else:
        secret = target_services.s3.secret_access_key
        fresh = storage_client.generate_sas_url("sas/expired.txt", expiry_hours=1)
        _assert_presign_parameters(fresh, target_services, expires_s=3600, method="GET")
        params = query_params(url)
        signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        assert signed_at + timedelta(seconds=int(params["X-Amz-Expires"])) < now
        assert presigned_methods(url, secret) == {"GET"}
        # Control: the suite's re-signing, at a current signing time, is accepted; so the
        # refusal below is about the expiry, not about how the suite signs.
        current = sigv4_resign(fresh, secret, signed_at=sas_signed_at(timedelta()), expires_s=60)
        control = requests.get(current, timeout=HTTP_TIMEOUT)
        assert control.status_code == 200, f"re-signed control URL: {_answer(backend, control)}"
    response = requests.get(url, timeout=HTTP_TIMEOUT)
    _assert_refused(backend, response, EXPIRED)
    _assert_not_served(response, b"too late")


def test_tampered_sas_rejected(
    storage_client: StorageClient, backend: str, target_services: ProvisionedServices
) -> None:
    """A SAS whose permissions or lifetime were edited after signing is refused with 403."""
    storage_client.upload_file("sas/tamper.txt", b"guarded")
    url = storage_client.generate_sas_url("sas/tamper.txt", expiry_hours=1, permission="r")
    if backend == "azure":
        tampered = url.replace("sp=r", "sp=rw")
    else:
        tampered = url.replace("X-Amz-Expires=3600", "X-Amz-Expires=604800")
        assert presigned_methods(tampered, target_services.s3.secret_access_key) == set()
    assert tampered != url
    headers = {"x-ms-blob-type": "BlockBlob"} if backend == "azure" else {}
    method = "PUT" if backend == "azure" else "GET"
    response = requests.request(method, tampered, data=b"x", headers=headers, timeout=HTTP_TIMEOUT)
    _assert_refused(backend, response, SIGNATURE_MISMATCH)
    assert storage_client.download_blob("sas/tamper.txt") == b"guarded"


def test_sas_for_one_blob_cannot_read_another(
    storage_client: StorageClient, backend: str, target_services: ProvisionedServices
) -> None:
    """A SAS is scoped to its blob: the same query string on another blob's path is refused."""
    storage_client.upload_file("sas/mine.txt", b"mine")
    storage_client.upload_file("sas/other.txt", b"content of the other blob")
    url = storage_client.generate_sas_url("sas/mine.txt", expiry_hours=1)
    moved = url.replace("/sas/mine.txt?", "/sas/other.txt?")
    assert moved != url
    if backend == "s3":
        assert presigned_methods(moved, target_services.s3.secret_access_key) == set()
    response = requests.get(moved, timeout=HTTP_TIMEOUT)
    _assert_refused(backend, response, SIGNATURE_MISMATCH)
    _assert_not_served(response, b"content of the other blob")


def test_sas_start_time_and_protocol(
    storage_client: StorageClient, backend: str, target_services: ProvisionedServices
) -> None:
    """Azure SAS starts 15 min in the past and allows HTTP only on the emulator; S3 signs now."""
    storage_client.upload_file("sas/window.txt", b"w")
    before = datetime.now(UTC).replace(microsecond=0)
    url = storage_client.generate_sas_url("sas/window.txt", expiry_hours=2)
    after = datetime.now(UTC)
    params = query_params(url)
    if backend == "azure":
        start = parse_sas_time(params["st"])
        skew = timedelta(minutes=15)
        assert before - skew - timedelta(seconds=1) <= start <= after - skew, params["st"]
        assert params["spr"] == "https,http", "the local emulator speaks HTTP"
        assert params["sr"] == "b", "a blob SAS, not a container or account SAS"
    else:
        # SigV4 has no start time: a presigned URL is valid from X-Amz-Date (signing time).
        _assert_presign_parameters(url, target_services, expires_s=7200, method="GET")


def test_sas_expiry_matches_expiry_hours(storage_client: StorageClient, backend: str) -> None:
    """The SAS expiry is expiry_hours from now (Azure `se`, S3 X-Amz-Expires)."""
    storage_client.upload_file("sas/expiry.txt", b"e")
    before = datetime.now(UTC).replace(microsecond=0)
    url = storage_client.generate_sas_url("sas/expiry.txt", expiry_hours=3)
    after = datetime.now(UTC)
    params = query_params(url)
    if backend == "azure":
        expiry = parse_sas_time(params["se"])
        assert before + timedelta(hours=3) - timedelta(seconds=1) <= expiry
        assert expiry <= after + timedelta(hours=3)
    else:
        assert params["X-Amz-Expires"] == str(3 * 3600)


def test_sas_permissions_are_least_privilege(storage_client: StorageClient, backend: str) -> None:
    """'r' grants read only and 'w' write only; Azure combines 'rw', S3 refuses to combine."""
    storage_client.upload_file("sas/perm.txt", b"p")
    read = query_params(storage_client.generate_sas_url("sas/perm.txt", permission="r"))
    write = query_params(storage_client.generate_sas_url("sas/perm.txt", permission="w"))
    if backend == "azure":
        assert (read["sp"], write["sp"]) == ("r", "w")
        both = storage_client.generate_sas_url("sas/perm.txt", permission="rw")
        assert query_params(both)["sp"] == "rw"
    else:
        assert read["X-Amz-Signature"] != write["X-Amz-Signature"]
        with pytest.raises(ValueError, match="one HTTP method"):
            storage_client.generate_sas_url("sas/perm.txt", permission="rw")


def test_sas_url_reveals_no_key(
    storage_client: StorageClient, backend: str, secrets: list[str]
) -> None:
    """A SAS URL carries a signature, never the account key or secret access key."""
    url = storage_client.generate_sas_url("sas/anything.txt")
    for secret in secrets:
        assert secret not in url
    assert ("sig" if backend == "azure" else "X-Amz-Signature") in query_params(url)


def test_sas_https_only_off_emulator(
    backend: str, storage_client: StorageClient, client_at: Callable[..., StorageClient]
) -> None:
    """Off the emulator a SAS is HTTPS-only (Azure spr=https; S3 an https:// URL)."""
    if backend == "azure":
        from crownsafe.storage.azure import AzureBlobStorageClient

        client: StorageClient = AzureBlobStorageClient(
            "crownsafe-images",
            account_url="https://crownsafecontract.blob.core.windows.net",
            account_key="a2V5LW5vdC11c2VkLWJ5LWFueS1yZXF1ZXN0LW9ubHktc2lnbmluZw==",
            settings=Settings(),
        )
    else:
        from crownsafe.storage.s3 import S3StorageClient

        client = S3StorageClient(
            "crownsafe-images",
            region="eu-west-1",
            access_key_id="AKIACONTRACTTEST0000",
            secret_access_key="not-used-by-any-request-only-signing",
            settings=Settings(),
        )
    try:
        url = client.generate_sas_url("reports/r.pdf", expiry_hours=1)
    finally:
        client.close()
    assert urlsplit(url).scheme == "https"
    if backend == "azure":
        assert query_params(url)["spr"] == "https"


# -- SAS requests: one expiry range and one typed error for bad arguments ----------------


@pytest.mark.parametrize("hours", [169, 10000])
def test_sas_expiry_over_168_hours_is_refused(
    storage_client: StorageClient, backend_name: str, hours: float
) -> None:
    """Both backends refuse a SAS/presigned URL living longer than 168 h (SigV4's 7 days)."""
    with pytest.raises(InvalidSasRequestError, match="168"):
        storage_client.generate_sas_url("sas/long.txt", expiry_hours=hours)


@pytest.mark.parametrize("hours", [0, -2])
def test_sas_expiry_must_be_positive(
    storage_client: StorageClient, backend_name: str, hours: float
) -> None:
    """Both backends refuse an expiry of zero or less with the same typed error."""
    with pytest.raises(InvalidSasRequestError, match="greater than 0"):
        storage_client.generate_sas_url("sas/now.txt", expiry_hours=hours)


def test_sas_expiry_of_exactly_168_hours_is_accepted(
    storage_client: StorageClient, backend_name: str
) -> None:
    """The documented maximum itself signs on both backends, and the URL reads the blob."""
    storage_client.upload_file("sas/week.txt", b"seven days")
    url = storage_client.generate_sas_url("sas/week.txt", expiry_hours=168)
    assert url.startswith(storage_client.get_blob_url("sas/week.txt"))


def test_unknown_sas_permission_is_a_typed_error(
    storage_client: StorageClient, backend_name: str
) -> None:
    """A permission letter neither backend knows raises InvalidSasRequestError (a ValueError)."""
    with pytest.raises(InvalidSasRequestError) as caught:
        storage_client.generate_sas_url("sas/perm.txt", permission="q")
    assert isinstance(caught.value, ValueError)
    assert caught.value.backend == backend_name and caught.value.hint
