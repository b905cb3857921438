"""`AsyncAzureBlobStorageClient`: the Azure Blob backend of `AsyncStorageClient`
(`azure.storage.blob.aio` on aiohttp).

It keeps the sync client's promises with the sync client's parts: the same
authentication rule and SAS signing (`_auth`, `_sas`), the same pipeline options with the
SDK's retries off (`retry_total=0`) and the same correlation / one-attempt policies
(`_transfer`), the same error mapping (`_errors.azure_errors`), the same name and metadata
rules. What is its own:

- the transport: one aiohttp session per client with at most `max_connections`
  connections, `connect_timeout` to connect and `timeout` to read;
- streamed uploads from an async iterable (or a sync non-seekable stream): read in blocks
  of `block_size` (`crownsafe.storage._async_stream`), at most `max_concurrency` Put Block
  requests in flight, then one Put Block List with the content settings, metadata and
  `If-None-Match: *` for overwrite=False. A source that fits one block (or whose declared
  `length` fits `single_put_threshold`) goes up in one Put Blob. A failed or short source
  never commits, so no blob appears;
- managed identity: `azure.identity.aio.DefaultAzureCredential` when the settings ask for
  it (or any async `TokenCredential` passed as `credential`), and an async cache of the
  user delegation key for SAS.
"""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from contextlib import AbstractContextManager, suppress
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any, BinaryIO, cast
from urllib.parse import quote, urlsplit, urlunsplit

import aiohttp
from azure.core import MatchConditions
from azure.core.exceptions import AzureError
from azure.core.pipeline.transport import AioHttpTransport
from azure.storage.blob import BlobBlock, ContentSettings, UserDelegationKey
from azure.storage.blob.aio import BlobServiceClient, ContainerClient

from crownsafe.config import Settings, load_settings
from crownsafe.errors import BlobConflictError, BlobNotFoundError, StorageError
from crownsafe.storage._aiohttp import one_attempt
from crownsafe.storage._async_stream import Blocks, is_streamed_source, send_bounded, unretryable
from crownsafe.storage._guards import check_length
from crownsafe.storage.async_base import AsyncClosingContextManager, AsyncUploadData
from crownsafe.storage.azure._auth import (
    AsyncUserDelegationKeyCache,
    AzureAuth,
    build_sdk_client,
    resolve_azure_auth,
    utc_now,
)
from crownsafe.storage.azure._client import blob_info
from crownsafe.storage.azure._errors import azure_errors
from crownsafe.storage.azure._sas import no_signing_key, plan_blob_sas, sign_blob_sas
from crownsafe.storage.azure._transfer import (
    RESPONSE_READ_BLOCK,
    WHOLE_BLOB_GET_SIZE,
    BufferReader,
    CorrelationIdPolicy,
    MiB,
    OneAttemptPolicy,
    call_options,
    pipeline_options,
    remaining_length,
    verify_from_settings,
)
from crownsafe.storage.base import DEFAULT_CHUNK_SIZE, BlobInfo, SasPermission
from crownsafe.storage.naming import validate_blob_name, validate_container_name, validate_metadata
from crownsafe.storage.pool import pool_options

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential

__all__ = ["AsyncAzureBlobStorageClient", "PooledAioHttpTransport"]


def _default_async_credential() -> Any:
    from azure.identity.aio import DefaultAzureCredential

    return DefaultAzureCredential()


LARGE_BODY = 1024 * 1024
"""aiohttp's limit for a raw bytes body (its TOO_LARGE_BYTES_BODY) before it warns."""
SEND_SLICE = 256 * 1024


async def _slices(view: memoryview) -> AsyncIterator[memoryview]:
    for offset in range(0, len(view), SEND_SLICE):
        yield view[offset : offset + SEND_SLICE]


class PooledAioHttpTransport(AioHttpTransport):  # type: ignore[misc]
    """azure-core's aiohttp transport with a bounded connection pool and one attempt.

    The session is made when the transport opens (inside the event loop, as aiohttp
    requires), with a connector of at most `max_connections` connections. aiohttp sends
    an idempotent request (GET, HEAD, PUT, DELETE) a second time when its connection is
    reset: a retry below the resilience layer, turned off (`_aiohttp.one_attempt`).
    """

    def __init__(self, *, max_connections: int, **options: Any) -> None:
        super().__init__(**options)
        self._max_connections = max_connections

    async def open(self) -> None:
        if (
            getattr(self, "session", None) is None
            and self._session_owner
            and not self._has_been_opened
        ):
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections),
                trust_env=self._use_env_settings,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
            )
            one_attempt(self.session)
        await super().open()

    def _get_request_data(self, request: Any) -> Any:
        """A body of bytes over 1 MiB goes as an async iterable of views: aiohttp warns
        (ResourceWarning) about larger raw bytes; the Content-Length the SDK set is kept."""
        data = super()._get_request_data(request)
        if isinstance(data, bytes | bytearray) and len(data) > LARGE_BODY:
            return _slices(memoryview(data))
        return data


class AsyncAzureBlobStorageClient(AsyncClosingContextManager):
    """`AsyncStorageClient` on one Azure Blob container. Not a secret holder in any repr."""

    backend = "azure"

    def __init__(
        self,
        container_name: str | None = None,
        *,
        connection_string: str | None = None,
        account_url: str | None = None,
        account_key: str | None = None,
        credential: AsyncTokenCredential | None = None,
        settings: Settings | None = None,
        connection_verify: bool | str | None = None,
        timeout: float | None = None,
        single_put_threshold: int = 16 * MiB,
        block_size: int = 4 * MiB,
        max_concurrency: int = 4,
        clock: Callable[[], datetime] = utc_now,
        delegation_key_lifetime: timedelta = timedelta(hours=24),
        max_connections: int | None = None,
        connect_timeout: float | None = None,
    ) -> None:
        cfg = settings if settings is not None else load_settings()
        self.container_name = validate_container_name(
            container_name if container_name is not None else cfg.azure_storage_container
        )
        self._auth: AzureAuth = resolve_azure_auth(
            connection_string=connection_string,
            account_url=account_url,
            account_key=account_key,
            credential=cast(Any, credential),
            settings=cfg,
            credential_factory=_default_async_credential,
        )
        self._clock = clock
        self._max_concurrency = max(1, int(max_concurrency))
        self._single_put_threshold = int(single_put_threshold)
        self._block_size = int(block_size)
        self._timeout = float(timeout if timeout is not None else cfg.storage_timeout_seconds)
        self._connect_timeout, self.max_connections = pool_options(
            connect_timeout,
            max_connections,
            cfg,
            timeout=self._timeout,
            max_concurrency=self._max_concurrency,
        )
        verify = (
            connection_verify
            if connection_verify is not None
            else verify_from_settings(cfg.azure_connection_verify)
        )
        options = pipeline_options(
            timeout=self._timeout,
            request_policies=(CorrelationIdPolicy(), OneAttemptPolicy()),
            single_put_threshold=single_put_threshold,
            block_size=block_size,
            connection_verify=verify,
            connect_timeout=self._connect_timeout,
        )
        transport_options: dict[str, Any] = {
            "connection_timeout": self._connect_timeout,
            "read_timeout": self._timeout,
            "connection_data_block_size": RESPONSE_READ_BLOCK,
        }
        if verify is not None:
            transport_options["connection_verify"] = verify
        self._transport = PooledAioHttpTransport(
            max_connections=self.max_connections, **transport_options
        )
        options["transport"] = self._transport
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
        self._delegation_keys: AsyncUserDelegationKeyCache[UserDelegationKey] | None = None
        if self._auth.mode == "token":
            self._delegation_keys = AsyncUserDelegationKeyCache(
                self._fetch_delegation_key, clock=clock, lifetime=delegation_key_lifetime
            )

    def __repr__(self) -> str:
        return (
            f"AsyncAzureBlobStorageClient(container={self.container_name!r}, "
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

    def _call_options(self) -> dict[str, Any]:
        return call_options(self._timeout, self._connect_timeout)

    # -- uploads ------------------------------------------------------------------------

    async def upload_file(
        self,
        blob_name: str,
        data: AsyncUploadData,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        overwrite: bool = True,
        *,
        length: int | None = None,
    ) -> str:
        """Store `data`; an async iterable or non-seekable stream goes up in blocks."""
        name = validate_blob_name(blob_name)
        if length is not None and length < 0:
            raise ValueError(f"length must be >= 0, got {length}")
        options: dict[str, Any] = {
            "overwrite": overwrite,
            "metadata": validate_metadata(metadata) or None,
            "max_concurrency": self._max_concurrency,
        }
        if content_type:
            options["content_settings"] = ContentSettings(content_type=content_type)
        if isinstance(data, str | os.PathLike):
            with open(os.fspath(data), "rb") as file:
                size = os.fstat(file.fileno()).st_size
                check_length("azure", name, size, length)
                await self._put(name, file, size, options)
        elif isinstance(data, bytes):
            check_length("azure", name, len(data), length)
            await self._put(name, data, len(data), options)
        elif isinstance(data, bytearray | memoryview):
            reader = BufferReader(data)
            size = reader.seek(0, io.SEEK_END) - reader.seek(0)
            check_length("azure", name, size, length)
            await self._put(name, reader, size, options)
        elif is_streamed_source(data):
            await self._put_streamed(name, data, options, length)
        elif callable(getattr(data, "read", None)):
            stream = cast(IO[bytes], data)
            known = remaining_length(stream)
            if known is not None:
                check_length("azure", name, known, length)
            await self._put(name, stream, known if known is not None else length, options)
        else:
            raise TypeError(
                "upload_file takes bytes, a path, a binary stream or an async iterable of "
                f"bytes, not {type(data).__name__}"
            )
        return self._blob_url(name)

    async def _put(self, name: str, body: Any, size: int | None, options: dict[str, Any]) -> None:
        with self._mapped("upload_file", name):
            await self._container.get_blob_client(name).upload_blob(
                body, length=size, **options, **self._call_options()
            )

    async def _put_streamed(
        self,
        name: str,
        source: AsyncIterable[bytes] | BinaryIO,
        options: dict[str, Any],
        length: int | None,
    ) -> None:
        one_shot = length is not None and 0 < length <= self._single_put_threshold
        size = length if one_shot and length is not None else self._block_size
        blocks = Blocks(source, size, length=length, backend="azure", blob_name=name)
        try:
            first = await blocks.next()
            if first is None:
                await self._put(name, b"", 0, options)
                return
            second = await blocks.next() if len(first) == size else None
            if second is None and len(first) <= self._single_put_threshold:
                await self._put(name, first, len(first), options)
                return
            queued = [first] if second is None else [first, second]
            await self._put_blocks(name, blocks, queued, options)
        except BaseException as err:
            if blocks.consumed:
                await self._discard_staged(name)
            if not isinstance(err, StorageError):
                raise
            raise unretryable(err, blocks.consumed, name) from err

    async def _discard_staged(self, name: str) -> None:
        """The sync client's `_discard_staged`: no uncommitted blob is left behind."""
        blob = self._container.get_blob_client(name)
        with suppress(AzureError):
            empty = await blob.commit_block_list(
                [], match_condition=MatchConditions.IfMissing, **self._call_options()
            )
            await blob.delete_blob(
                etag=str(empty["etag"]),
                match_condition=MatchConditions.IfNotModified,
                **self._call_options(),
            )

    async def _put_blocks(
        self, name: str, blocks: Blocks, first: list[bytes], options: dict[str, Any]
    ) -> None:
        """Put Block for each block (bounded concurrency), then Put Block List."""
        blob = self._container.get_blob_client(name)

        async def stage(number: int, block: bytes) -> str:
            block_id = f"crownsafe-{number:07d}"
            with self._mapped("upload_file", name):
                await blob.stage_block(block_id, block, length=len(block), **self._call_options())
            return block_id

        ids = await send_bounded(blocks, stage, self._max_concurrency, first=first)
        commit: dict[str, Any] = {
            "metadata": options["metadata"],
            "content_settings": options.get("content_settings"),
        }
        if not options["overwrite"]:
            commit["match_condition"] = MatchConditions.IfMissing
        with self._mapped("upload_file", name):
            await blob.commit_block_list(
                [BlobBlock(block_id=i) for i in ids], **commit, **self._call_options()
            )

    # -- downloads ----------------------------------------------------------------------

    async def download_blob(self, blob_name: str) -> bytes:
        name = validate_blob_name(blob_name)
        with self._mapped("download_blob", name):
            downloader = await self._whole_reads.get_blob_client(name).download_blob(
                max_concurrency=self._max_concurrency, **self._call_options()
            )
            return bytes(await downloader.readall())

    async def download_to(self, blob_name: str, file: BinaryIO | os.PathLike[str] | str) -> int:
        name = validate_blob_name(blob_name)
        if not isinstance(file, str | os.PathLike):
            return await self._download_into(name, file)
        path = os.fspath(file)
        try:
            with open(path, "wb") as target:
                return await self._download_into(name, target)
        except BaseException:
            with suppress(OSError):
                os.unlink(path)
            raise

    async def _download_into(self, name: str, target: IO[bytes]) -> int:
        seekable = getattr(target, "seekable", None)
        concurrency = self._max_concurrency if callable(seekable) and seekable() else 1
        with self._mapped("download_to", name):
            downloader = await self._container.download_blob(
                name, max_concurrency=concurrency, **self._call_options()
            )
            return int(await downloader.readinto(target))

    async def iter_blob_chunks(
        self, blob_name: str, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> AsyncIterator[bytes]:
        """The GET is sent now (a missing blob raises here); the body is read lazily."""
        name = validate_blob_name(blob_name)
        if chunk_size <= 0:
            raise ValueError(f"chunk_size must be positive, got {chunk_size}")
        with self._mapped("iter_blob_chunks", name):
            downloader = await self._container.download_blob(name, **self._call_options())
        return self._chunks(name, downloader.chunks(), chunk_size)

    async def _chunks(
        self, name: str, source: AsyncIterator[bytes], chunk_size: int
    ) -> AsyncIterator[bytes]:
        with self._mapped("iter_blob_chunks", name):
            async for piece in source:
                for offset in range(0, len(piece), chunk_size):
                    yield piece[offset : offset + chunk_size]

    # -- SAS, properties, deletion, listing ---------------------------------------------

    async def generate_sas_url(
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
            key = await self._delegation_keys.get(plan.expiry)
            token = sign_blob_sas(plan, delegation_key=key)
        else:
            raise no_signing_key(name)
        return f"{self._blob_url(name)}?{token}"

    async def _fetch_delegation_key(self, start: datetime, expiry: datetime) -> UserDelegationKey:
        with self._mapped("get_user_delegation_key"):
            return await self._service.get_user_delegation_key(
                start, expiry, **self._call_options()
            )

    async def blob_exists(self, blob_name: str) -> bool:
        name = validate_blob_name(blob_name)
        with self._mapped("blob_exists", name):
            return bool(await self._container.get_blob_client(name).exists(**self._call_options()))

    async def head_object(self, blob_name: str) -> BlobInfo:
        name = validate_blob_name(blob_name)
        with self._mapped("head_object", name):
            props = await self._container.get_blob_client(name).get_blob_properties(
                **self._call_options()
            )
        return blob_info(props)

    async def delete_blob(self, blob_name: str, missing_ok: bool = False) -> bool:
        name = validate_blob_name(blob_name)
        try:
            with self._mapped("delete_blob", name):
                await self._container.delete_blob(
                    name, delete_snapshots="include", **self._call_options()
                )
        except BlobNotFoundError:
            if missing_ok:
                return False
            raise
        return True

    async def list_blobs(
        self, prefix: str | None = None, max_results: int | None = None
    ) -> list[BlobInfo]:
        if max_results is not None and max_results <= 0:
            return []
        page_size = min(max_results, 5000) if max_results is not None else None
        found: list[BlobInfo] = []
        async for info in self.iter_blobs(prefix, page_size):
            found.append(info)
            if max_results is not None and len(found) >= max_results:
                break
        return found

    async def iter_blobs(
        self, prefix: str | None = None, page_size: int | None = None
    ) -> AsyncIterator[BlobInfo]:
        options = self._call_options()
        with self._mapped("list_blobs"):
            pages = self._container.list_blobs(
                name_starts_with=prefix or None,
                include=["metadata"],
                results_per_page=page_size,
                **options,
            ).by_page()
            async for page in pages:
                async for props in page:
                    yield blob_info(props)

    def get_blob_url(self, blob_name: str) -> str:
        return self._blob_url(validate_blob_name(blob_name))

    def _blob_url(self, name: str) -> str:
        return f"{self._container_url}/{quote(name, safe='~/')}"

    async def create_container(self, exist_ok: bool = True) -> None:
        try:
            with self._mapped("create_container"):
                await self._container.create_container(**self._call_options())
        except BlobConflictError:
            if not exist_ok:
                raise

    async def delete_container(self, missing_ok: bool = True) -> None:
        try:
            with self._mapped("delete_container"):
                await self._container.delete_container(**self._call_options())
        except BlobNotFoundError:
            if not missing_ok:
                raise

    async def close(self) -> None:
        await self._whole_reads.close()
        await self._service.close()
        credential = self._auth.credential
        if self._auth.owns_credential and credential is not None:
            close = getattr(credential, "close", None)
            if callable(close):
                await close()
