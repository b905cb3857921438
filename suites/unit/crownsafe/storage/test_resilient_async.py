"""Unit tests of AsyncResilientStorageClient over the sync suite's in-memory fake backend,
its calls awaited: the same retry rules and the same process-wide breakers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from crownsafe.config import Settings
from crownsafe.errors import NonRetryableUploadError, StorageGaveUpError
from crownsafe.resilience import (
    CircuitBreaker,
    CircuitOpenError,
    azure_storage_circuit_breaker,
    s3_storage_circuit_breaker,
)
from crownsafe.storage.resilient import ResilientStorageClient
from crownsafe.storage.resilient_async import AsyncResilientStorageClient

from .test_resilient import FakeStorage, flaky


class AsyncFake:
    """`FakeStorage` with awaited methods (its iterators as async iterators)."""

    def __init__(self, backend: str = "fake") -> None:
        self.sync = FakeStorage()
        self.backend = backend
        self.container_name = self.sync.container_name

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self.sync, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return method(*args, **kwargs)

        return call

    async def upload_file(self, blob_name: str, data: Any, *args: Any, **kwargs: Any) -> str:
        if hasattr(data, "__aiter__"):
            data = b"".join([chunk async for chunk in data])
        return self.sync.upload_file(blob_name, data, *args, **kwargs)

    async def iter_blobs(
        self, prefix: str | None = None, page_size: int | None = None
    ) -> AsyncIterator[Any]:
        for info in self.sync.iter_blobs(prefix, page_size):
            yield info


def client(fake: AsyncFake, **options: Any) -> AsyncResilientStorageClient:
    options.setdefault("breaker", CircuitBreaker("unit", failure_threshold=50))
    options.setdefault("sleep", lambda _: None)
    return AsyncResilientStorageClient(fake, max_retries=3, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("backend", "breaker"),
    [("azure", azure_storage_circuit_breaker), ("s3", s3_storage_circuit_breaker)],
)
def test_from_settings_shares_the_sync_clients_breaker(
    backend: str, breaker: CircuitBreaker
) -> None:
    sync_fake = FakeStorage()
    sync_fake.backend = backend
    sync = ResilientStorageClient.from_settings(sync_fake, Settings())
    async_client = AsyncResilientStorageClient.from_settings(
        AsyncFake(backend),  # type: ignore[arg-type]
        Settings(),
    )
    assert async_client.breaker is sync.breaker is breaker


def test_transient_failures_are_retried_and_counted() -> None:
    fake = AsyncFake()
    fake.sync.blobs["a"] = b"data"
    fake.sync.fail["download_blob"] = [flaky(), flaky()]
    delays: list[float] = []
    resilient = client(fake, sleep=delays.append)
    assert asyncio.run(resilient.download_blob("a")) == b"data"
    assert fake.sync.calls["download_blob"] == 3 and len(delays) == 2
    assert resilient.stats()["download_blob"]["recovered"] == 1


def test_persistent_failure_gives_up_after_max_retries_plus_one() -> None:
    fake = AsyncFake()
    fake.sync.fail["head_object"] = [flaky() for _ in range(10)]
    with pytest.raises(StorageGaveUpError) as caught:
        asyncio.run(client(fake).head_object("a"))
    assert caught.value.attempts == 4 and fake.sync.calls["head_object"] == 4


def test_an_async_iterable_read_in_part_is_not_resent() -> None:
    fake = AsyncFake()
    fake.sync.fail["upload_file"] = [flaky()]

    async def body() -> AsyncIterator[bytes]:
        yield b"abc"

    async def upload() -> str:
        return await client(fake).upload_file("b", body())

    with pytest.raises(NonRetryableUploadError, match="after 3 bytes"):
        asyncio.run(upload())
    assert fake.sync.calls["upload_file"] == 1


def test_an_open_breaker_refuses_without_calling() -> None:
    fake = AsyncFake()
    breaker = CircuitBreaker("unit-open", failure_threshold=1)
    breaker.force_open()
    with pytest.raises(CircuitOpenError) as caught:
        asyncio.run(client(fake, breaker=breaker).blob_exists("a"))
    assert caught.value.operation == "blob_exists"
    assert "blob_exists" not in fake.sync.calls


def test_iter_blobs_resumes_after_the_last_name_yielded() -> None:
    """A failure mid-listing restarts it and skips the names already yielded."""
    fake = AsyncFake()
    for name in "abcde":
        fake.sync.blobs[name] = b"1"
    fake.sync.fail["mid_listing"] = [flaky()]

    async def walk() -> list[str]:
        return [info.name async for info in client(fake).iter_blobs()]

    assert asyncio.run(walk()) == list("abcde")
    assert fake.sync.calls["iter_blobs"] == 2


def test_retried_delete_that_finds_the_blob_gone_reports_true() -> None:
    fake = AsyncFake()
    fake.sync.blobs["g"] = b"1"
    fake.sync.fail["delete_blob"] = [flaky()]
    assert asyncio.run(client(fake).delete_blob("g")) is True
    assert fake.sync.calls["delete_blob"] == 2
