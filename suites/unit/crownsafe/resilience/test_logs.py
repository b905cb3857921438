"""Unit tests of correlation ids and the structured storage-error log (crownsafe.resilience)."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest

from crownsafe.correlation import correlation_scope, get_correlation_id
from crownsafe.errors import (
    BlobConflictError,
    BlobNotFoundError,
    StorageThrottledError,
    StorageUnavailableError,
)
from crownsafe.resilience import (
    CorrelationIdFilter,
    SecretRedactingFilter,
    install_correlation_filter,
    install_log_filters,
    log_azure_error,
    with_correlation_id,
)

SECRET_TEXTS = [
    "https://acct.blob.core.windows.net/c/b?sv=2021&sig=abc%2Bdef%3D&se=2030",
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNO==;",
    "http://h/b/k?X-Amz-Credential=AKIA%2F2024&X-Amz-Signature=0123abcdef",
    "headers={'Authorization': 'SharedKey devstoreaccount1:c2VjcmV0'}",
    "Authorization: AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=deadbeef",
]


def records_of(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "crownsafe.resilience.errors"]


def test_with_correlation_id_creates_one_when_absent() -> None:
    @with_correlation_id
    def work() -> str | None:
        return get_correlation_id()

    assert get_correlation_id() is None
    first, second = work(), work()
    assert first and second and first != second
    uuid.UUID(first)
    assert get_correlation_id() is None


def test_with_correlation_id_keeps_the_active_one() -> None:
    @with_correlation_id
    def work() -> str | None:
        return get_correlation_id()

    with correlation_scope("outer-id"):
        assert work() == "outer-id"


def test_with_correlation_id_async() -> None:
    @with_correlation_id
    async def work() -> str | None:
        await asyncio.sleep(0)
        return get_correlation_id()

    cid = asyncio.run(work())
    assert cid is not None
    uuid.UUID(cid)


def test_filter_puts_the_id_on_every_record_of_the_operation() -> None:
    handler = logging.Handler()
    seen: list[logging.LogRecord] = []
    handler.emit = seen.append  # type: ignore[method-assign,assignment]
    install_correlation_filter(handler)
    install_correlation_filter(handler)  # idempotent
    assert sum(isinstance(f, CorrelationIdFilter) for f in handler.filters) == 1
    log = logging.getLogger("some.sdk.module")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        with correlation_scope("cid-7"):
            log.info("inside")
        log.info("outside")
    finally:
        log.removeHandler(handler)
    assert [getattr(r, "correlation_id", None) for r in seen] == ["cid-7", "-"]


@pytest.mark.parametrize(
    ("error", "level"),
    [
        (BlobNotFoundError("missing", status=404, error_code="BlobNotFound"), logging.WARNING),
        (BlobConflictError("exists", status=409, error_code="BlobAlreadyExists"), logging.WARNING),
        (StorageThrottledError("busy", status=503, error_code="ServerBusy"), logging.ERROR),
        (StorageUnavailableError("reset by peer"), logging.ERROR),
    ],
    ids=["404-warning", "409-warning", "503-error", "connection-error"],
)
def test_log_azure_error_levels_and_fields(
    caplog: pytest.LogCaptureFixture, error: Exception, level: int
) -> None:
    @log_azure_error
    def download_blob(blob_name: str) -> bytes:
        raise error

    with caplog.at_level(logging.DEBUG), correlation_scope("cid-9"), pytest.raises(type(error)):
        download_blob("photos/a.jpg")
    (record,) = records_of(caplog)
    assert record.levelno == level
    fields = record.__dict__
    assert fields["operation"] == "download_blob"
    assert fields["blob_name"] == "photos/a.jpg"
    assert fields["correlation_id"] == "cid-9"
    assert fields["status"] == getattr(error, "status", None)
    assert fields["error_code"] == getattr(error, "error_code", None)
    assert "cid-9" in record.getMessage()


def test_log_azure_error_carries_the_service_request_id(caplog: pytest.LogCaptureFixture) -> None:
    class Client:
        @log_azure_error(operation="upload")
        def upload_file(self, blob_name: str, data: bytes) -> None:
            raise StorageUnavailableError(
                "internal", status=500, error_code="InternalError", request_id="svc-req-1"
            )

    with caplog.at_level(logging.ERROR), pytest.raises(StorageUnavailableError):
        Client().upload_file(blob_name="x.bin", data=b"1")
    (record,) = records_of(caplog)
    assert record.__dict__["service_request_id"] == "svc-req-1"
    assert record.__dict__["operation"] == "upload"
    assert record.__dict__["blob_name"] == "x.bin"
    assert "svc-req-1" in record.getMessage()


@pytest.mark.parametrize("secret", SECRET_TEXTS)
def test_unexpected_errors_are_logged_with_a_redacted_trace(
    caplog: pytest.LogCaptureFixture, secret: str
) -> None:
    @log_azure_error
    def leaky() -> None:
        raise RuntimeError(f"SDK said: {secret}")

    with caplog.at_level(logging.ERROR), pytest.raises(RuntimeError):
        leaky()
    (record,) = records_of(caplog)
    text = caplog.text + record.getMessage()
    assert "Traceback" in record.getMessage()
    for needle in ("abc%2Bdef", "Eby8vdM02xNO", "0123abcdef", "c2VjcmV0", "deadbeef"):
        assert needle not in text


def test_log_azure_error_async_and_success_is_silent(caplog: pytest.LogCaptureFixture) -> None:
    @log_azure_error
    async def fine() -> int:
        return 1

    @log_azure_error
    async def broken(blob_name: str) -> None:
        raise StorageUnavailableError("down", status=503)

    with caplog.at_level(logging.DEBUG):
        assert asyncio.run(fine()) == 1
        assert records_of(caplog) == []
        with pytest.raises(StorageUnavailableError):
            asyncio.run(broken("b"))
    (record,) = records_of(caplog)
    assert record.__dict__["blob_name"] == "b"


def test_redacting_filter_cleans_third_party_records_and_tracebacks() -> None:
    handler = logging.Handler()
    seen: list[str] = []
    handler.setFormatter(logging.Formatter("%(correlation_id)s %(message)s"))
    handler.emit = lambda record: seen.append(handler.format(record))  # type: ignore[method-assign]
    _, redactor = install_log_filters(handler)
    assert install_log_filters(handler)[1] is redactor  # idempotent
    assert sum(isinstance(f, SecretRedactingFilter) for f in handler.filters) == 1
    log = logging.getLogger("urllib3.connection.test")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("Failed to parse headers (url=%s)", SECRET_TEXTS[0])
        try:
            raise ValueError(SECRET_TEXTS[1])
        except ValueError:
            log.exception("boom")
        log.warning("nothing secret here")
    finally:
        log.removeHandler(handler)
    text = "\n".join(seen)
    assert "abc%2Bdef" not in text and "Eby8vdM02xNO" not in text
    assert "sig=<redacted>" in text and "AccountKey=<redacted>" in text
    assert "nothing secret here" in text
    assert redactor.redacted == 2
