"""`MigratingStorageClient`: one `StorageClient` over Azure and S3 while objects move.

The app and the worker keep answering during a cut-over: this client keeps every promise
of `StorageClient` while the phase (`crownsafe.cutover.phases`) decides where each call
goes. The phase is asked for on every call (`phase_source`), so an operator moves the
whole fleet from one phase to the next without a restart (`crownsafe.cutover.state`).

- Writes go to the phase's primary store; then, in phases that keep both, the object is
  written to the other store too. A failed second write does not fail the call (the
  primary holds the object, and the backfill or a rollback check will see it missing): it
  is logged with the blob name and counted by `on_secondary_failure`.
- Reads go to the phase's first store. In `azure-reads` a blob Azure does not have is
  read from S3: a *fallback read*, logged with the blob name and counted by
  `on_fallback`. Only not-found falls back: an Azure outage is an Azure outage, and
  serving S3 bytes then could serve an object Azure has since overwritten.
- Names: the app's blob names are valid on both services; a name that is not a valid
  Azure name (an S3-era key) is mapped with the object migration's rule
  (`crownsafe.objects.keys.target_blob_name`), so the client finds what
  `migrate-objects` copied.
- Deletes remove the object from both stores; SAS / presigned URLs are minted by the store
  that holds the object (read) or the primary (write: an upload through such a URL
  reaches the primary only, and the backfill copies it while S3 is primary).
"""

from __future__ import annotations

import heapq
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from itertools import chain
from typing import Any, BinaryIO, TypeVar, cast

from crownsafe.cutover.phases import MigrationPhase, PhaseRules, rules_for
from crownsafe.errors import BlobNotFoundError, StorageError
from crownsafe.objects.keys import map_metadata, target_blob_name
from crownsafe.objects.streams import ChunkReader
from crownsafe.storage.base import (
    DEFAULT_CHUNK_SIZE,
    BlobInfo,
    ClosingContextManager,
    SasPermission,
    StorageClient,
    UploadData,
)

__all__ = ["FallbackObserver", "MigratingStorageClient"]

log = logging.getLogger(__name__)

R = TypeVar("R")

FallbackObserver = Callable[[str, str], None]
"""Called with (operation, blob name) for each fallback read or failed second write."""


def _ignore(operation: str, blob_name: str) -> None:
    return None


class MigratingStorageClient(ClosingContextManager):
    """`StorageClient` promises over `azure` and `s3`, routed by the current phase."""

    backend = "azure"

    def __init__(
        self,
        azure: StorageClient,
        s3: StorageClient,
        phase_source: Callable[[], MigrationPhase],
        *,
        on_fallback: FallbackObserver = _ignore,
        on_secondary_failure: FallbackObserver = _ignore,
    ) -> None:
        self.azure = azure
        self.s3 = s3
        self.phase_source = phase_source
        self.on_fallback = on_fallback
        self.on_secondary_failure = on_secondary_failure
        self.container_name = azure.container_name

    def __repr__(self) -> str:
        return f"MigratingStorageClient(azure={self.azure!r}, s3={self.s3!r})"

    @property
    def inner(self) -> StorageClient:
        """The Azure client (what `/health/azure-storage` probes)."""
        return self.azure

    @property
    def phase(self) -> MigrationPhase:
        return self.phase_source()

    def _rules(self) -> PhaseRules:
        return rules_for(self.phase_source())

    def _store(self, name: str) -> StorageClient:
        return self.azure if name == "azure" else self.s3

    @staticmethod
    def _name(store: str, blob_name: str) -> str:
        return target_blob_name(blob_name) if store == "azure" else blob_name

    # writes

    def upload_file(
        self,
        blob_name: str,
        data: UploadData,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        overwrite: bool = True,
        *,
        length: int | None = None,
    ) -> str:
        rules = self._rules()
        primary = self._store(rules.primary)
        url = primary.upload_file(
            self._name(rules.primary, blob_name),
            data,
            content_type=content_type,
            metadata=self._metadata(rules.primary, metadata),
            overwrite=overwrite,
            length=length,
        )
        if rules.secondary is not None:
            self._second_write(rules, blob_name, data, content_type, metadata)
        return url

    def _second_write(
        self,
        rules: PhaseRules,
        blob_name: str,
        data: UploadData,
        content_type: str | None,
        metadata: Mapping[str, str] | None,
    ) -> None:
        """Copy what the primary now holds to the secondary (from the caller's bytes when
        they can be read twice, else streamed back from the primary)."""
        assert rules.secondary is not None
        source_name = self._name(rules.primary, blob_name)
        target_name = self._name(rules.secondary, blob_name)
        target = self._store(rules.secondary)
        try:
            if isinstance(data, bytes | bytearray | memoryview):
                body: UploadData = data
                size: int | None = None
            else:
                primary = self._store(rules.primary)
                size = primary.head_object(source_name).size
                body = cast(BinaryIO, ChunkReader(primary.iter_blob_chunks(source_name)))
            target.upload_file(
                target_name,
                body,
                content_type=content_type,
                metadata=self._metadata(rules.secondary, metadata),
                overwrite=True,
                length=size,
            )
        except StorageError as exc:
            log.warning(
                "cut-over: second write of %r to %s failed (%s); the %s copy holds it",
                blob_name,
                rules.secondary,
                type(exc).__name__,
                rules.primary,
            )
            self.on_secondary_failure("upload_file", blob_name)

    @staticmethod
    def _metadata(store: str, metadata: Mapping[str, str] | None) -> Mapping[str, str] | None:
        if store != "azure" or not metadata:
            return metadata
        return map_metadata(metadata).metadata

    def delete_blob(self, blob_name: str, missing_ok: bool = False) -> bool:
        """Delete from both stores; True when either held the blob."""
        on_azure = self.azure.delete_blob(self._name("azure", blob_name), missing_ok=True)
        on_s3 = self.s3.delete_blob(blob_name, missing_ok=True)
        if on_azure or on_s3 or missing_ok:
            return on_azure or on_s3
        raise BlobNotFoundError(
            "the blob exists on neither Azure nor S3",
            backend="azure+s3",
            operation="delete_blob",
            blob_name=blob_name,
        )

    def create_container(self, exist_ok: bool = True) -> None:
        self.azure.create_container(exist_ok=exist_ok)
        self.s3.create_container(exist_ok=exist_ok)

    def delete_container(self, missing_ok: bool = True) -> None:
        self.azure.delete_container(missing_ok=missing_ok)
        self.s3.delete_container(missing_ok=missing_ok)

    # reads

    def _read(self, operation: str, blob_name: str, call: Callable[[StorageClient, str], R]) -> R:
        rules = self._rules()
        try:
            return call(self._store(rules.read_first), self._name(rules.read_first, blob_name))
        except BlobNotFoundError:
            if rules.fallback is None:
                raise
        self._fell_back(operation, blob_name)
        return call(self._store(rules.fallback), self._name(rules.fallback, blob_name))

    def _fell_back(self, operation: str, blob_name: str) -> None:
        log.info("cut-over: fallback read: %s %r from S3 (not on Azure yet)", operation, blob_name)
        self.on_fallback(operation, blob_name)

    def download_blob(self, blob_name: str) -> bytes:
        return self._read("download_blob", blob_name, lambda c, n: c.download_blob(n))

    def download_to(self, blob_name: str, file: BinaryIO | os.PathLike[str] | str) -> int:
        return self._read("download_to", blob_name, lambda c, n: c.download_to(n, file))

    def iter_blob_chunks(
        self, blob_name: str, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[bytes]:
        """Chunks from the store that holds the blob; a missing blob is known at the first
        chunk, so the first chunk is read before choosing."""

        def first(client: StorageClient, name: str) -> Iterator[bytes]:
            chunks = client.iter_blob_chunks(name, chunk_size)
            head = next(chunks, None)
            return chunks if head is None else chain((head,), chunks)

        return self._read("iter_blob_chunks", blob_name, first)

    def head_object(self, blob_name: str) -> BlobInfo:
        return self._read("head_object", blob_name, lambda c, n: c.head_object(n))

    def blob_exists(self, blob_name: str) -> bool:
        rules = self._rules()
        if self._store(rules.read_first).blob_exists(self._name(rules.read_first, blob_name)):
            return True
        if rules.fallback is None:
            return False
        found = self._store(rules.fallback).blob_exists(self._name(rules.fallback, blob_name))
        if found:
            self._fell_back("blob_exists", blob_name)
        return found

    def _holder(self, blob_name: str) -> str:
        """The store to name in a URL for an existing blob: the first store, or the fallback
        when only the fallback has it."""
        rules = self._rules()
        if rules.fallback is None:
            return rules.read_first
        if self._store(rules.read_first).blob_exists(self._name(rules.read_first, blob_name)):
            return rules.read_first
        if self._store(rules.fallback).blob_exists(self._name(rules.fallback, blob_name)):
            self._fell_back("locate", blob_name)
            return rules.fallback
        return rules.read_first

    def generate_sas_url(
        self, blob_name: str, expiry_hours: float = 24, permission: SasPermission = "r"
    ) -> str:
        store = self._holder(blob_name) if set(permission) <= {"r"} else self._rules().primary
        return self._store(store).generate_sas_url(
            self._name(store, blob_name), expiry_hours=expiry_hours, permission=permission
        )

    def get_blob_url(self, blob_name: str) -> str:
        store = self._holder(blob_name)
        return self._store(store).get_blob_url(self._name(store, blob_name))

    def list_blobs(
        self, prefix: str | None = None, max_results: int | None = None
    ) -> list[BlobInfo]:
        blobs: list[BlobInfo] = []
        for info in self.iter_blobs(prefix):
            if max_results is not None and len(blobs) >= max_results:
                break
            blobs.append(info)
        return blobs

    def iter_blobs(
        self, prefix: str | None = None, page_size: int | None = None
    ) -> Iterator[BlobInfo]:
        """The first store's listing; with a fallback, merged with S3's by name (both
        services list in name order), Azure's entry winning where both have a name."""
        rules = self._rules()
        first = self._store(rules.read_first).iter_blobs(prefix, page_size)
        if rules.fallback is None:
            return first
        second = self._store(rules.fallback).iter_blobs(prefix, page_size)
        return _merge_by_name(first, second)

    def close(self) -> None:
        try:
            self.azure.close()
        finally:
            self.s3.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.azure, name)  # stats(), breaker, ... of the Azure client


def _merge_by_name(first: Iterator[BlobInfo], second: Iterator[BlobInfo]) -> Iterator[BlobInfo]:
    tagged = heapq.merge(
        ((info.name, 0, info) for info in first),
        ((info.name, 1, info) for info in second),
    )
    last: str | None = None
    for name, _, info in tagged:
        if name != last:
            yield info
        last = name
