"""Unit tests of ResilientStorageClient's retry rules over an in-memory fake backend."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from crownsafe.config import Settings
from crownsafe.correlation import get_correlation_id
from crownsafe.errors import (
    BlobConflictError,
    BlobNotFoundError,
    NonRetryableUploadError,
    StorageThrottledError,
    StorageUnavailableError,
)
from crownsafe.resilience import (
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    azure_storage_circuit_breaker,
    s3_storage_circuit_breaker,
)
from crownsafe.storage.base import BlobInfo, StorageClient
from crownsafe.storage.resilient import ResilientStorageClient


def flaky(status: int = 503) -> StorageUnavailableError:
    return StorageUnavailableError("server error", status=status, backend="fake")


class FakeStorage:
    """Stores blobs in a dict; `fail[op]` holds errors to raise on the next calls of `op`."""

    backend = "fake"
    container_name = "box"

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.fail: dict[str, list[BaseException]] = {}
        self.calls: dict[str, int] = {}
        self.correlation_ids: list[str | None] = []

    def _enter(self, op: str) -> None:
        self.calls[op] = self.calls.get(op, 0) + 1
        self.correlation_ids.append(get_correlation_id())
        errors = self.fail.get(op)
        if errors:
            raise errors.pop(0)

    def upload_file(
        self,
        blob_name: str,
        data: Any,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        overwrite: bool = True,
        *,
        length: int | None = None,
    ) -> str:
        self.calls["upload_file"] = self.calls.get("upload_file", 0) + 1
        body = data if isinstance(data, bytes) else data.read()
        errors = self.fail.get("upload_file")
        if errors:
            raise errors.pop(0)
        if not overwrite and blob_name in self.blobs:
            raise BlobConflictError("exists", status=409)
        self.blobs[blob_name] = body
        return f"mem://{blob_name}"

    def download_blob(self, blob_name: str) -> bytes:
        self._enter("download_blob")
        if blob_name not in self.blobs:
            raise BlobNotFoundError("missing", status=404)
        return self.blobs[blob_name]

    def download_to(self, blob_name: str, file: Any) -> int:
        data = self.blobs[blob_name]
        file.write(data[:3])
        self._enter("download_to")
        file.write(data[3:])
        return len(data)

    def iter_blob_chunks(self, blob_name: str, chunk_size: int = 2) -> Iterator[bytes]:
        self._enter("iter_blob_chunks")
        data = self.blobs[blob_name]
        return self._chunks(data, chunk_size)

    def _chunks(self, data: bytes, size: int) -> Iterator[bytes]:
        for i in range(0, len(data), size):
            if i:
                errors = self.fail.get("mid_chunks")
                if errors:
                    raise errors.pop(0)
            yield data[i : i + size]

    def iter_blobs(
        self, prefix: str | None = None, page_size: int | None = None
    ) -> Iterator[BlobInfo]:
        self._enter("iter_blobs")
        for n, name in enumerate(sorted(self.blobs)):
            if n == 2:
                errors = self.fail.get("mid_listing")
                if errors:
                    raise errors.pop(0)
            yield BlobInfo(name=name, size=len(self.blobs[name]))

    def list_blobs(
        self, prefix: str | None = None, max_results: int | None = None
    ) -> list[BlobInfo]:
        self._enter("list_blobs")
        return [BlobInfo(name=n, size=len(b)) for n, b in sorted(self.blobs.items())]

    def delete_blob(self, blob_name: str, missing_ok: bool = False) -> bool:
        self.calls["delete_blob"] = self.calls.get("delete_blob", 0) + 1
        existed = self.blobs.pop(blob_name, None) is not None
        errors = self.fail.get("delete_blob")
        if errors:
            raise errors.pop(0)  # the delete happened, the response was lost
        if not existed and not missing_ok:
            raise BlobNotFoundError("missing", status=404)
        return existed

    def generate_sas_url(
        self, blob_name: str, expiry_hours: float = 24, permission: str = "r"
    ) -> str:
        self._enter("generate_sas_url")
        return f"mem://{blob_name}?sig=x"

    def blob_exists(self, blob_name: str) -> bool:
        self._enter("blob_exists")
        return blob_name in self.blobs

    def head_object(self, blob_name: str) -> BlobInfo:
        self._enter("head_object")
        return BlobInfo(name=blob_name, size=len(self.blobs[blob_name]))

    def get_blob_url(self, blob_name: str) -> str:
        return f"mem://{blob_name}"

    def create_container(self, exist_ok: bool = True) -> None:
        self._enter("create_container")

    def delete_container(self, missing_ok: bool = True) -> None:
        self._enter("delete_container")

    def close(self) -> None:
        self.calls["close"] = 1


class OneWay(io.RawIOBase):
    """A readable, non-seekable stream (like a pipe or a socket)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


@pytest.fixture
def fake() -> FakeStorage:
    return FakeStorage()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(fake: FakeStorage, sleeps: list[float]) -> ResilientStorageClient:
    breaker = CircuitBreaker("test", failure_threshold=50, clock=lambda: 0.0)
    return ResilientStorageClient(
        fake, breaker=breaker, max_retries=3, jitter="none", sleep=sleeps.append
    )


def test_implements_the_protocol(client: ResilientStorageClient) -> None:
    assert isinstance(client, StorageClient)
    assert (client.backend, client.container_name) == ("fake", "box")


def test_retries_until_success_with_one_correlation_id(
    client: ResilientStorageClient, fake: FakeStorage, sleeps: list[float]
) -> None:
    fake.blobs["a"] = b"hello"
    fake.fail["download_blob"] = [flaky(), StorageThrottledError("busy", status=503)]
    assert client.download_blob("a") == b"hello"
    assert fake.calls["download_blob"] == 3
    assert sleeps == [1.0, 2.0]
    assert len(set(fake.correlation_ids)) == 1 and fake.correlation_ids[0]
    assert client.stats()["download_blob"] == {
        "calls": 1,
        "attempts": 3,
        "succeeded": 1,
        "failed": 0,
        "recovered": 1,
    }


def test_persistent_failure_is_max_retries_plus_one_attempts(
    client: ResilientStorageClient, fake: FakeStorage, caplog: pytest.LogCaptureFixture
) -> None:
    fake.blobs["a"] = b"x"
    fake.fail["download_blob"] = [flaky() for _ in range(10)]
    with caplog.at_level(logging.WARNING), pytest.raises(StorageUnavailableError):
        client.download_blob("a")
    assert fake.calls["download_blob"] == 4
    final = [r for r in caplog.records if r.name == "crownsafe.resilience.errors"]
    assert len(final) == 1 and final[0].levelno == logging.ERROR
    assert final[0].__dict__["blob_name"] == "a"
    assert final[0].__dict__["correlation_id"] == fake.correlation_ids[0]


@pytest.mark.parametrize(
    "error", [BlobNotFoundError("missing", status=404), BlobConflictError("exists", status=409)]
)
def test_callers_mistakes_are_tried_once(
    client: ResilientStorageClient, fake: FakeStorage, error: Exception
) -> None:
    fake.fail["head_object"] = [error]
    with pytest.raises(type(error)):
        client.head_object("a")
    assert fake.calls["head_object"] == 1


def test_seekable_upload_is_rewound_before_each_retry(
    client: ResilientStorageClient, fake: FakeStorage
) -> None:
    stream = io.BytesIO(b"HEADERpayload")
    stream.seek(6)
    fake.fail["upload_file"] = [flaky(), flaky()]
    client.upload_file("b", stream)
    assert fake.blobs["b"] == b"payload"
    assert fake.calls["upload_file"] == 3


def test_non_seekable_upload_is_not_retried_after_bytes_were_read(
    client: ResilientStorageClient, fake: FakeStorage
) -> None:
    fake.fail["upload_file"] = [flaky()]
    with pytest.raises(NonRetryableUploadError) as info:
        client.upload_file("c", OneWay(b"streamed body"))  # type: ignore[arg-type]
    assert fake.calls["upload_file"] == 1
    assert "c" not in fake.blobs
    assert info.value.status == 503
    assert "Fix:" in str(info.value)


def test_non_seekable_upload_is_retried_when_nothing_was_read(
    client: ResilientStorageClient, fake: FakeStorage
) -> None:
    calls = 0
    original = fake.upload_file

    def refuse_then_upload(name: str, data: Any, *args: Any) -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise flaky()  # connection refused: nothing read
        return original(name, data, *args)

    fake.upload_file = refuse_then_upload  # type: ignore[method-assign,assignment]
    client.upload_file("d", OneWay(b"abc"))  # type: ignore[arg-type]
    assert fake.blobs["d"] == b"abc"
    assert calls == 2


def test_download_to_seekable_stream_is_rewound_and_truncated(
    client: ResilientStorageClient, fake: FakeStorage
) -> None:
    fake.blobs["e"] = b"0123456789"
    fake.fail["download_to"] = [flaky()]
    sink = io.BytesIO(b"keep:")
    sink.seek(5)
    assert client.download_to("e", sink) == 10
    assert sink.getvalue() == b"keep:0123456789"


def test_download_to_non_seekable_sink_is_not_retried_after_a_write(
    client: ResilientStorageClient, fake: FakeStorage
) -> None:
    fake.blobs["e"] = b"0123456789"
    fake.fail["download_to"] = [flaky()]

    class Sink:
        def __init__(self) -> None:
            self.data = b""

        def write(self, b: bytes) -> int:
            self.data += b
            return len(b)

    sink = Sink()
    with pytest.raises(StorageUnavailableError):
        client.download_to("e", sink)  # type: ignore[arg-type]
    assert fake.calls["download_to"] == 1


def test_iter_blob_chunks_retries_only_before_the_first_chunk(
    client: ResilientStorageClient, fake: FakeStorage
) -> None:
    fake.blobs["f"] = b"abcdef"
    fake.fail["iter_blob_chunks"] = [flaky()]
    assert b"".join(client.iter_blob_chunks("f", 2)) == b"abcdef"
    assert fake.calls["iter_blob_chunks"] == 2

    fake.fail["mid_chunks"] = [flaky()]
    chunks = client.iter_blob_chunks("f", 2)
    assert next(chunks) == b"ab"
    with pytest.raises(StorageUnavailableError):
        next(chunks)
    assert fake.calls["iter_blob_chunks"] == 3


def test_iter_blobs_resumes_after_the_last_name(
    client: ResilientStorageClient, fake: FakeStorage
) -> None:
    for name in "abcde":
        fake.blobs[name] = b"1"
    fake.fail["mid_listing"] = [flaky()]
    assert [b.name for b in client.iter_blobs()] == list("abcde")
    assert fake.calls["iter_blobs"] == 2


def test_retried_delete_that_finds_the_blob_gone_reports_true(
    client: ResilientStorageClient, fake: FakeStorage
) -> None:
    fake.blobs["g"] = b"1"
    fake.fail["delete_blob"] = [flaky()]
    assert client.delete_blob("g") is True
    assert fake.calls["delete_blob"] == 2
    with pytest.raises(BlobNotFoundError):
        client.delete_blob("g")


def test_open_breaker_fails_fast_without_calling_the_inner_client(
    fake: FakeStorage, caplog: pytest.LogCaptureFixture
) -> None:
    """The call whose failure opens the breaker sleeps no more backoff and raises that
    failure (the 503), not CircuitOpenError; the next call is refused by name."""
    sleeps: list[float] = []
    breaker = CircuitBreaker("t", failure_threshold=2, recovery_timeout=60, clock=lambda: 0.0)
    client = ResilientStorageClient(fake, breaker=breaker, max_retries=3, sleep=sleeps.append)
    fake.blobs["a"] = b"x"
    fake.fail["download_blob"] = [flaky() for _ in range(10)]
    with pytest.raises(StorageUnavailableError) as opened:
        client.download_blob("a")
    assert type(opened.value) is StorageUnavailableError and opened.value.status == 503
    assert fake.calls["download_blob"] == 2
    assert len(sleeps) == 1, f"slept after the breaker opened: {sleeps}"
    assert breaker.state is CircuitState.OPEN
    caplog.clear()
    with caplog.at_level(logging.WARNING), pytest.raises(CircuitOpenError) as refused:
        client.blob_exists("a")
    assert "blob_exists" not in fake.calls
    assert (refused.value.operation, refused.value.blob_name) == ("blob_exists", "a")
    line = next(r.getMessage() for r in caplog.records if r.name == "crownsafe.resilience.errors")
    assert "storage blob_exists failed" in line and "'a'" in line, line
    assert "circuit_breaker failed" not in line


def test_every_operation_passes_through(client: ResilientStorageClient, fake: FakeStorage) -> None:
    assert client.upload_file("h", b"data") == "mem://h"
    assert client.blob_exists("h") and client.head_object("h").size == 4
    assert [b.name for b in client.list_blobs()] == ["h"]
    assert client.generate_sas_url("h").startswith("mem://h")
    assert client.get_blob_url("h") == "mem://h"
    client.create_container()
    client.delete_container()
    with client:
        pass
    assert fake.calls["close"] == 1


def test_from_settings_uses_the_settings_and_the_process_breaker() -> None:
    settings = Settings(storage_max_retries=5, storage_retry_base_delay=0.25)
    fake = FakeStorage()
    fake.backend = "azure"
    wrapped = ResilientStorageClient.from_settings(fake, settings)
    assert wrapped.retry.max_retries == 5
    assert wrapped.retry.backoff.base_delay == 0.25
    assert wrapped.breaker is azure_storage_circuit_breaker
    fake.backend = "s3"
    assert (
        ResilientStorageClient.from_settings(fake, settings).breaker is s3_storage_circuit_breaker
    )


# -- the hot path (issue 19): attempt 1 runs outside tenacity, with the same scopes ----------


def test_a_call_that_succeeds_at_once_runs_in_its_scopes_without_tenacity(
    client: ResilientStorageClient, fake: FakeStorage
) -> None:
    from crownsafe.deadline import time_left

    seen: list[tuple[str | None, float | None]] = []
    original = fake.upload_file

    def upload(*args: Any, **kwargs: Any) -> str:
        seen.append((get_correlation_id(), time_left()))
        return original(*args, **kwargs)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("tenacity was set up for a call that succeeded at once")

    fake.upload_file = upload  # type: ignore[method-assign]
    client.retry._sync_rest.copy = refuse  # type: ignore[method-assign]
    client.upload_file("hot", b"body")
    [(cid, left)] = seen
    assert cid is not None and get_correlation_id() is None
    assert left is not None and 0 < left <= 60.0
    assert client.stats()["upload_file"] == {
        "calls": 1,
        "attempts": 1,
        "succeeded": 1,
        "failed": 0,
        "recovered": 0,
    }


def test_a_first_attempt_that_opens_the_breaker_is_the_only_attempt(
    fake: FakeStorage,
) -> None:
    sleeps: list[float] = []
    breaker = CircuitBreaker("t1", failure_threshold=1, clock=lambda: 0.0)
    client = ResilientStorageClient(fake, breaker=breaker, max_retries=3, sleep=sleeps.append)
    fake.fail["upload_file"] = [flaky()]
    with pytest.raises(StorageUnavailableError) as info:
        client.upload_file("x", b"body")
    assert type(info.value) is StorageUnavailableError
    assert (fake.calls["upload_file"], sleeps, breaker.state) == (1, [], CircuitState.OPEN)
    assert client.stats()["upload_file"]["failed"] == 1


def test_one_correlation_id_spans_the_first_attempt_and_the_retries(
    client: ResilientStorageClient, fake: FakeStorage
) -> None:
    fake.blobs["r"] = b"body"
    fake.fail["download_blob"] = [flaky(), flaky()]
    assert client.download_blob("r") == b"body"
    ids = fake.correlation_ids[-3:]
    assert len(ids) == 3 and len(set(ids)) == 1 and ids[0] is not None
    assert client.stats()["download_blob"]["recovered"] == 1
