"""`AzureBlobStorageClient`: the Azure Blob Storage backend of `StorageClient` (sync API).

The only module that imports azure.storage.blob. Design points:

- One retry layer: the SDK's retries are off (`retry_total=0`), so a logical call makes
  exactly one HTTP attempt per request it needs; `crownsafe.storage.resilient` retries.
  The SDK's stream downloader re-sends a ranged GET whose body was cut short (3 tries,
  1 s apart, not configurable); `OneAttemptPolicy` refuses that repeat before it leaves
  (the SDK's 1 s sleep still happens once), so the failure surfaces as
  `StorageUnavailableError` after one request.
- Every request carries the current correlation id as `x-ms-client-request-id`, set in
  the client's `raw_request_hook` (azure-storage-blob ignores `per_call_policies`; see
  `_transfer.request_hook`).
- Uploads stream: a path is opened and sent with its known length, a seekable stream is
  read in blocks by the SDK, bytes-like data is read through a zero-copy view. A
  non-seekable stream of unknown length goes up in blocks of `block_size` made of the
  pieces it gives (`_blocks`: no join into block buffers; the calling thread sends them
  when `max_concurrency` is 1), or in one Put Blob when it ends within the first block.
  A seekable stream is uploaded from its current position; the caller (the resilient
  layer) seeks it back before retrying. A non-seekable stream that fails after bytes were
  consumed raises `NonRetryableUploadError`, so nobody retries with a partial body.
- A non-seekable stream with a known `length` (up to `MAX_STREAMED_BLOCK_BYTES`) is sent
  as ONE Put Block whose body is read while it is sent (its `read1` pieces, each sent as
  it is: `_pieces.StreamedPieces`), then Put Block List (content settings, metadata,
  If-None-Match: * for overwrite=False). `upload_blob` would read a stream under its
  single-put size whole into memory, and cut a longer one into blocks.
  A stream shorter or longer than `length` raises `UploadLengthMismatchError` before the
  commit: the staged block is never committed, so no blob appears.
- `download_to` and `iter_blob_chunks` stream in 4 MiB ranges. `download_blob` returns
  bytes anyway, so it reads up to 32 MiB in its first GET (the SDK's default) through a
  second container client that shares the first one's transport (connection pool):
  `max_single_get_size` is a client setting, not a per-call option.
- No SDK client is built per call beyond the SDK's own: blob URLs are formatted from the
  container URL (a `BlobClient` costs ~0.5 ms to construct, ~5% of a 1 KiB upload).
- SAS: least privilege, start 15 min in the past, HTTPS only unless the endpoint is a
  local emulator. Account-key SAS with a key; user delegation SAS with a token
  credential (managed identity), its key cached and renewed (`_auth`).
- Every SDK exception becomes a typed error (`_errors.map_azure_error`).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, suppress
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any, BinaryIO, cast
from urllib.parse import quote, urlsplit, urlunsplit

from azure.core import MatchConditions
from azure.core.exceptions import AzureError
from azure.storage.blob import (
    BlobBlock,
    BlobProperties,
    BlobServiceClient,
    ContainerClient,
    ContentSettings,
    UserDelegationKey,
)

from crownsafe.config import Settings, load_settings
from crownsafe.errors import (
    BlobConflictError,
    BlobNotFoundError,
    InvalidBlobNameError,
    InvalidMetadataError,
    NonRetryableUploadError,
    StorageAuthError,
    StorageError,
    UploadLengthMismatchError,
)
from crownsafe.storage._guards import ExactLengthReader, check_length, surface_failure
from crownsafe.storage._pieces import Pieces, StreamedPieces, read_pieces, total_length
from crownsafe.storage.azure._auth import (
    AzureAuth,
    UserDelegationKeyCache,
    build_sdk_client,
    resolve_azure_auth,
    utc_now,
)
from crownsafe.storage.azure._blocks import block_id, stage_blocks, stream_blocks
from crownsafe.storage.azure._errors import azure_errors
from crownsafe.storage.azure._sas import no_signing_key, plan_blob_sas, sign_blob_sas
from crownsafe.storage.azure._transfer import (
    WHOLE_BLOB_GET_SIZE,
    BufferReader,
    CorrelationIdPolicy,
    CountingReader,
    MiB,
    OneAttemptPolicy,
    call_options,
    pipeline_options,
    remaining_length,
    shared_transport,
    verify_from_settings,
)
from crownsafe.storage.base import (
    DEFAULT_CHUNK_SIZE,
    BlobInfo,
    ClosingContextManager,
    SasPermission,
    UploadData,
    normalize_etag,
    utc_timestamp,
)
from crownsafe.storage.cors import CorsRule
from crownsafe.storage.naming import validate_blob_name, validate_container_name, validate_metadata
from crownsafe.storage.pool import pool_options

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

__all__ = ["AzureBlobStorageClient"]


MAX_STREAMED_BLOCK_BYTES = 4000 * MiB
"""The service's largest block (API version 2019-12-12 on): a known-length stream up to
this is one streamed Put Block; a longer one goes through `upload_blob` in blocks."""

_CALLER_MISTAKES = (
    BlobConflictError,
    BlobNotFoundError,
    StorageAuthError,
    InvalidBlobNameError,
    InvalidMetadataError,
    UploadLengthMismatchError,
)


def blob_info(props: BlobProperties) -> BlobInfo:
    """The `BlobInfo` of the SDK's blob properties (sync and async clients alike)."""
    settings = props.content_settings
    md5 = settings.content_md5 if settings is not None else None
    return BlobInfo(
        name=props.name,
        size=int(props.size or 0),
        content_type=settings.content_type if settings is not None else None,
        etag=normalize_etag(props.etag),
        last_modified=utc_timestamp(props.last_modified),
        metadata=dict(props.metadata or {}),
        content_md5=bytes(md5) if md5 else None,
    )


class AzureBlobStorageClient(ClosingContextManager):
    """`StorageClient` on one Azure Blob container. Not a secret holder in any repr."""

    backend = "azure"

    def __init__(
        self,
        container_name: str | None = None,
        *,
        connection_string: str | None = None,
        account_url: str | None = None,
        account_key: str | None = None,
        credential: TokenCredential | None = None,
        settings: Settings | None = None,
        connection_verify: bool | str | None = None,
        timeout: float | None = None,
        connect_timeout: float | None = None,
        max_connections: int | None = None,
        single_put_threshold: int = 16 * MiB,
        block_size: int = 4 * MiB,
        max_concurrency: int = 4,
        clock: Callable[[], datetime] = utc_now,
        delegation_key_lifetime: timedelta = timedelta(hours=24),
    ) -> None:
        cfg = settings if settings is not None else load_settings()
        self.container_name = validate_container_name(
            container_name if container_name is not None else cfg.azure_storage_container
        )
        self._auth: AzureAuth = resolve_azure_auth(
            connection_string=connection_string,
            account_url=account_url,
            account_key=account_key,
            credential=credential,
            settings=cfg,
        )
        self._clock = clock
        self._max_concurrency = max(1, int(max_concurrency))
        self._block_size = int(block_size)
        timeout_s = float(timeout if timeout is not None else cfg.storage_timeout_seconds)
        self._timeout = timeout_s
        self._connect_timeout, self.max_connections = pool_options(
            connect_timeout,
            max_connections,
            cfg,
            timeout=timeout_s,
            max_concurrency=self._max_concurrency,
        )
        verify = (
            connection_verify
            if connection_verify is not None
            else verify_from_settings(cfg.azure_connection_verify)
        )
        options = pipeline_options(
            timeout=timeout_s,
            request_policies=(CorrelationIdPolicy(), OneAttemptPolicy()),
            single_put_threshold=single_put_threshold,
            block_size=block_size,
            connection_verify=verify,
            connect_timeout=self._connect_timeout,
        )
        options["transport"] = shared_transport(
            timeout=timeout_s,
            connection_verify=verify,
            connect_timeout=self._connect_timeout,
            max_connections=self.max_connections,
        )
        self._service: BlobServiceClient = build_sdk_client(self._auth, BlobServiceClient, options)
        self._container: ContainerClient = self._service.get_container_client(self.container_name)
        self._whole_reads: ContainerClient = build_sdk_client(
            self._auth,
            ContainerClient,
            {**options, "max_single_get_size": WHOLE_BLOB_GET_SIZE},
            container_name=self.container_name,
        )
        self._container_url = urlunsplit(
            urlsplit(self._container.url)._replace(query="", fragment="")
        ).rstrip("/")
        self._delegation_keys: UserDelegationKeyCache[UserDelegationKey] | None = None
        if self._auth.mode == "token":
            self._delegation_keys = UserDelegationKeyCache(
                self._fetch_delegation_key, clock=clock, lifetime=delegation_key_lifetime
            )

    def _call_options(self) -> dict[str, Any]:
        """Per-call options; timeouts capped by the time left of the call's deadline."""
        return call_options(self._timeout, self._connect_timeout)

    def __repr__(self) -> str:
        return (
            f"AzureBlobStorageClient(container={self.container_name!r}, "
            f"account={self._auth.account_name!r}, endpoint={self.account_url!r}, "
            f"auth={self._auth.mode!r})"
        )

    @property
    def account_url(self) -> str:
        return urlunsplit(urlsplit(self._service.url)._replace(query="", fragment="")).rstrip("/")

    @property
    def auth_mode(self) -> str:
        return self._auth.mode

    def _mapped(self, operation: str, blob_name: str | None = None) -> AbstractContextManager[None]:
        return azure_errors(operation, blob_name, self.container_name)

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
        """Store `data`; with `length` a non-seekable stream goes up as one streamed block
        (see the module docstring) and must hold exactly `length` bytes."""
        name = validate_blob_name(blob_name)
        if length is not None and length < 0:
            raise ValueError(f"length must be >= 0, got {length}")
        options: dict[str, Any] = {
            "overwrite": overwrite,
            "metadata": validate_metadata(metadata) or None,
            "max_concurrency": self._max_concurrency,
            **self._call_options(),
        }
        if content_type:
            options["content_settings"] = ContentSettings(content_type=content_type)
        if isinstance(data, str | os.PathLike):
            with open(os.fspath(data), "rb") as file:
                size = os.fstat(file.fileno()).st_size
                check_length("azure", name, size, length)
                self._put(name, file, size, options)
        elif isinstance(data, bytes):
            check_length("azure", name, len(data), length)
            self._put(name, data, len(data), options)
        elif isinstance(data, bytearray | memoryview):
            reader = BufferReader(data)
            size = reader.seek(0, io.SEEK_END) - reader.seek(0)
            check_length("azure", name, size, length)
            self._put(name, reader, size, options)
        elif hasattr(data, "read"):
            self._put_stream(name, cast(IO[bytes], data), options, length)
        else:
            raise TypeError(
                f"upload_file takes bytes, a path or a binary stream, not {type(data).__name__}"
            )
        return self._blob_url(name)

    def _put(self, name: str, body: Any, length: int | None, options: dict[str, Any]) -> None:
        with self._mapped("upload_file", name):
            self._container.get_blob_client(name).upload_blob(body, length=length, **options)

    def _put_stream(
        self, name: str, stream: IO[bytes], options: dict[str, Any], length: int | None
    ) -> None:
        seekable = getattr(stream, "seekable", None)
        if callable(seekable) and seekable():
            size = remaining_length(stream)
            if size is not None:
                check_length("azure", name, size, length)
            self._put(name, stream, size if size is not None else length, options)
            return
        exact = None
        if length is not None:
            exact = ExactLengthReader(
                cast(BinaryIO, stream), length, backend="azure", blob_name=name
            )
        counter = CountingReader(cast(IO[bytes], exact) if exact is not None else stream)
        try:
            with surface_failure(exact):
                if exact is None:
                    self._put_blocks(name, counter, options)
                elif exact.length > MAX_STREAMED_BLOCK_BYTES:
                    self._put(name, counter, length, options)
                elif exact.length == 0:
                    exact.check_empty()
                    self._put(name, b"", 0, options)
                else:
                    body = StreamedPieces(cast(BinaryIO, counter), exact.length)
                    self._put_block(name, body, exact.length, options)
        except BaseException as err:
            # blocks are staged unless the stream of unknown length ended within its first
            # block (one Put Blob) or nothing was read: drop them, so nothing is left
            single_put = exact is None and counter.consumed < self._block_size
            if counter.consumed and not single_put:
                self._discard_staged(name)
            if not isinstance(err, StorageError):
                raise
            if counter.consumed == 0 or isinstance(err, _CALLER_MISTAKES):
                raise
            raise NonRetryableUploadError(
                f"upload from a non-seekable stream failed after {counter.consumed} bytes were "
                f"sent ({type(err).__name__}: {err.reason})",
                backend="azure",
                operation="upload_file",
                blob_name=name,
                status=err.status,
                error_code=err.error_code,
                request_id=err.request_id,
            ) from err

    def _discard_staged(self, name: str) -> None:
        """Leave nothing of a streamed upload that failed: the blocks it staged would stay
        listed as an uncommitted blob for a week (billed). Where no blob `name` exists, an
        empty block list is committed (which drops the staged blocks) and that empty blob
        deleted, if still unchanged; an existing blob is not touched (If-None-Match: *)."""
        blob = self._container.get_blob_client(name)
        with suppress(AzureError):
            empty = blob.commit_block_list(
                [], match_condition=MatchConditions.IfMissing, **self._call_options()
            )
            blob.delete_blob(
                etag=str(empty["etag"]),
                match_condition=MatchConditions.IfNotModified,
                **self._call_options(),
            )

    def _put_block(self, name: str, body: Any, length: int, options: dict[str, Any]) -> None:
        """One Put Block streamed from `body` (iterated once while it is sent), then Put
        Block List with upload_file's options."""
        blob = self._container.get_blob_client(name)
        with self._mapped("upload_file", name):
            blob.stage_block(block_id(0), body, length=length, **self._call_options())
            self._commit(blob, [block_id(0)], options)

    def _put_blocks(self, name: str, stream: Any, options: dict[str, Any]) -> None:
        """A non-seekable stream of unknown length: one Put Blob if it ends within the
        first block, else blocks of `block_size` made of the stream's pieces (`_blocks`)
        and Put Block List."""
        first = read_pieces(stream, self._block_size)
        if total_length(first) < self._block_size:
            data = b"".join(first)
            del first
            self._put(name, data, len(data), options)
            return
        blob = self._container.get_blob_client(name)

        def stage(block: str, body: Pieces, length: int) -> None:
            blob.stage_block(block, cast(Any, body), length=length, **self._call_options())

        with self._mapped("upload_file", name):
            blocks = stream_blocks(stream, self._block_size, first)
            del first
            ids = stage_blocks(blocks, stage, self._max_concurrency)
            self._commit(blob, ids, options)

    def _commit(self, blob: Any, ids: list[str], options: dict[str, Any]) -> None:
        """Put Block List of `ids` with upload_file's content settings, metadata and, for
        overwrite=False, If-None-Match: *."""
        commit: dict[str, Any] = {
            "metadata": options["metadata"],
            "content_settings": options.get("content_settings"),
        }
        if not options["overwrite"]:
            commit["match_condition"] = MatchConditions.IfMissing
        blob.commit_block_list(
            [BlobBlock(block_id=block) for block in ids], **commit, **self._call_options()
        )

    def download_blob(self, blob_name: str) -> bytes:
        name = validate_blob_name(blob_name)
        with self._mapped("download_blob", name):
            downloader = self._whole_reads.get_blob_client(name).download_blob(
                max_concurrency=self._max_concurrency, **self._call_options()
            )
            return bytes(downloader.readall())

    def download_to(self, blob_name: str, file: BinaryIO | os.PathLike[str] | str) -> int:
        name = validate_blob_name(blob_name)
        if not isinstance(file, str | os.PathLike):
            return self._download_into(name, file)
        path = os.fspath(file)
        try:
            with open(path, "wb") as target:
                return self._download_into(name, target)
        except BaseException:
            with suppress(OSError):
                os.unlink(path)
            raise

    def _download_into(self, name: str, target: IO[bytes]) -> int:
        seekable = getattr(target, "seekable", None)
        concurrency = self._max_concurrency if callable(seekable) and seekable() else 1
        with self._mapped("download_to", name):
            downloader = self._container.download_blob(
                name, max_concurrency=concurrency, **self._call_options()
            )
            return int(downloader.readinto(target))

    def iter_blob_chunks(
        self, blob_name: str, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[bytes]:
        name = validate_blob_name(blob_name)
        if chunk_size <= 0:
            raise ValueError(f"chunk_size must be positive, got {chunk_size}")
        options = self._call_options()
        with self._mapped("iter_blob_chunks", name):
            downloader = self._container.download_blob(name, **options)
        return self._chunks(name, downloader.chunks(), chunk_size)

    def _chunks(self, name: str, source: Iterator[bytes], chunk_size: int) -> Iterator[bytes]:
        with self._mapped("iter_blob_chunks", name):
            for piece in source:
                for offset in range(0, len(piece), chunk_size):
                    yield piece[offset : offset + chunk_size]

    def generate_sas_url(
        self, blob_name: str, expiry_hours: float = 24, permission: SasPermission = "r"
    ) -> str:
        name = validate_blob_name(blob_name)
        plan = plan_blob_sas(
            account_name=self._service.account_name or self._auth.account_name,
            container=self.container_name,
            blob_name=name,
            permission=permission,
            now=self._clock(),
            expiry_hours=expiry_hours,
            account_url=self.account_url,
        )
        if self._auth.account_key:
            token = sign_blob_sas(plan, account_key=self._auth.account_key.get())
        elif self._delegation_keys is not None:
            key = self._delegation_keys.get(plan.expiry)
            token = sign_blob_sas(plan, delegation_key=key)
        else:
            raise no_signing_key(name)
        return f"{self._blob_url(name)}?{token}"

    def _fetch_delegation_key(self, start: datetime, expiry: datetime) -> UserDelegationKey:
        with self._mapped("get_user_delegation_key"):
            return self._service.get_user_delegation_key(start, expiry, **self._call_options())

    def blob_exists(self, blob_name: str) -> bool:
        name = validate_blob_name(blob_name)
        with self._mapped("blob_exists", name):
            return bool(self._container.get_blob_client(name).exists(**self._call_options()))

    def head_object(self, blob_name: str) -> BlobInfo:
        name = validate_blob_name(blob_name)
        with self._mapped("head_object", name):
            props = self._container.get_blob_client(name).get_blob_properties(
                **self._call_options()
            )
        return blob_info(props)

    def delete_blob(self, blob_name: str, missing_ok: bool = False) -> bool:
        name = validate_blob_name(blob_name)
        try:
            with self._mapped("delete_blob", name):
                self._container.delete_blob(
                    name, delete_snapshots="include", **self._call_options()
                )
        except BlobNotFoundError:
            if missing_ok:
                return False
            raise
        return True

    def list_blobs(
        self, prefix: str | None = None, max_results: int | None = None
    ) -> list[BlobInfo]:
        if max_results is not None and max_results <= 0:
            return []
        page_size = min(max_results, 5000) if max_results is not None else None
        found: list[BlobInfo] = []
        for info in self.iter_blobs(prefix, page_size):
            found.append(info)
            if max_results is not None and len(found) >= max_results:
                break
        return found

    def iter_blobs(
        self, prefix: str | None = None, page_size: int | None = None
    ) -> Iterator[BlobInfo]:
        options = self._call_options()
        with self._mapped("list_blobs"):
            pages = self._container.list_blobs(
                name_starts_with=prefix or None,
                include=["metadata"],
                results_per_page=page_size,
                **options,
            ).by_page()
            for page in pages:
                for props in page:
                    yield blob_info(props)

    def get_blob_url(self, blob_name: str) -> str:
        return self._blob_url(validate_blob_name(blob_name))

    def _blob_url(self, name: str) -> str:
        """The URL the SDK's BlobClient would have, without its query (SAS) or building it."""
        return f"{self._container_url}/{quote(name, safe='~/')}"

    def create_container(self, exist_ok: bool = True) -> None:
        try:
            with self._mapped("create_container"):
                self._container.create_container(**self._call_options())
        except BlobConflictError:
            if not exist_ok:
                raise

    def delete_container(self, missing_ok: bool = True) -> None:
        try:
            with self._mapped("delete_container"):
                self._container.delete_container(**self._call_options())
        except BlobNotFoundError:
            if not missing_ok:
                raise

    def public_access_grants(self) -> list[str]:
        """How anonymous callers may read the container: [] when it is private.

        Not part of `StorageClient`: the pre-deployment checks ask it (container
        properties' public access level). Raises `BlobNotFoundError` for a missing container.
        """
        with self._mapped("get_container_properties"):
            level = self._container.get_container_properties(**call_options()).public_access
        if not level:
            return []
        reach = "the listing and every blob" if level == "container" else "every blob"
        return [f"container public access level {level!r}: anyone can read {reach}"]

    def cors_rules(self) -> list[CorsRule]:
        """The account's Blob service CORS rules (`get_service_properties()['cors']`): CORS
        is an account setting, not the container's. Not part of `StorageClient`: the
        pre-deployment checks ask it."""
        with self._mapped("get_service_properties"):
            properties = self._service.get_service_properties(**self._call_options())
        return [
            CorsRule.of(rule.allowed_origins, rule.allowed_methods, rule.allowed_headers)
            for rule in properties.get("cors") or []
        ]

    def close(self) -> None:
        self._whole_reads.close()
        self._service.close()
        credential = self._auth.credential
        if self._auth.owns_credential and credential is not None:
            close = getattr(credential, "close", None)
            if callable(close):
                close()
