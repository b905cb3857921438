"""`AsyncS3StorageClient`: the S3 backend of `AsyncStorageClient`, on aiobotocore.

It keeps the sync client's promises with the sync client's parts: the same setup and
botocore `Config` (`_setup`: SigV4, one HTTP attempt per request, path-style on a custom
endpoint, the checksum mode), the same correlation header hook, the same error mapping
(`_errors.s3_errors`; aiohttp's errors while a body is read count as connection
failures), the same presigned-URL rules (`_presign`) and part planning (`_parts`).
What is its own:

- the aiobotocore client is made on first use, inside the event loop (aiohttp needs
  one), with at most `max_connections` pooled connections and `connect_timeout`;
- uploads send bytes bodies only: data up to `multipart_threshold` in one PutObject,
  larger data as a multipart upload of `part_size` parts with at most `max_concurrency`
  in flight, each part read (from bytes, a file or a seekable stream) just before it is
  sent, so memory stays at about `max_concurrency` parts. An async iterable or a sync
  non-seekable stream is read in parts the same way (`crownsafe.storage._async_stream`);
  one of declared `length` up to `multipart_threshold` is read whole and sent in one PUT
  (its length is checked before anything is sent, so a short or long source stores
  nothing). Any failure aborts the multipart upload;
- what the service stored is checked by the sync transport's rule: a checksum in the
  response confirms the one botocore sent; without one (with S3_REQUEST_CHECKSUMS=
  when_supported) the stored size is read back (HEAD for a PutObject, ListParts before
  the complete), and a mismatch removes the object or never completes the upload, with
  `StorageIntegrityError`;
- `delete_container` empties and deletes the bucket with the sync client's code
  (`_bucket.empty_bucket`) in a worker thread: it is rare and has many fallbacks.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import threading
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from contextlib import AbstractContextManager, AsyncExitStack
from pathlib import Path
from typing import Any, BinaryIO, cast

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.httpsession import AIOHTTPSession
from aiobotocore.session import AioSession, get_session

from crownsafe.config import S3ChecksumMode, SecretStr, Settings
from crownsafe.errors import (
    BlobConflictError,
    BlobNotFoundError,
    StorageError,
    StorageIntegrityError,
)
from crownsafe.storage._aiohttp import one_attempt
from crownsafe.storage._async_stream import (
    Blocks,
    BlockSource,
    ReadParts,
    is_streamed_source,
    send_bounded,
    unretryable,
)
from crownsafe.storage._guards import check_length
from crownsafe.storage.async_base import AsyncClosingContextManager, AsyncUploadData
from crownsafe.storage.base import (
    DEFAULT_CHUNK_SIZE,
    BlobInfo,
    SasPermission,
    normalize_etag,
    utc_timestamp,
)
from crownsafe.storage.naming import validate_blob_name, validate_metadata, validate_s3_key
from crownsafe.storage.s3._client import (
    DEFAULT_CONTENT_TYPE,
    S3StorageClient,
    add_correlation_header,
)
from crownsafe.storage.s3._errors import SDK_ERRORS, map_s3_error, s3_errors
from crownsafe.storage.s3._parts import bytes_parts, plan_part_size, region_parts, stream_reader
from crownsafe.storage.s3._presign import object_url, presign_expiry_seconds, presign_method
from crownsafe.storage.s3._setup import S3Setup, plain_endpoint, resolve_s3_setup
from crownsafe.storage.s3._upload import UploadLimits

__all__ = ["AsyncS3StorageClient"]

log = logging.getLogger(__name__)

MiB = 1024 * 1024
_CHECKSUM_KEYS = ("ChecksumCRC32", "ChecksumCRC32C", "ChecksumSHA1", "ChecksumSHA256")
_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (aiohttp.ClientError, asyncio.TimeoutError)
_session_lock = threading.Lock()
_sessions: list[AioSession] = []


class OneAttemptHTTPSession(AIOHTTPSession):  # type: ignore[misc]
    """aiobotocore's aiohttp session without aiohttp's second attempt of an idempotent
    request on a reset connection (`crownsafe.storage._aiohttp.one_attempt`)."""

    async def _get_session(self, proxy_url: str | None) -> aiohttp.ClientSession:
        return one_attempt(await super()._get_session(proxy_url))


def _session() -> AioSession:
    """One aiobotocore session per process: a session loads botocore's service models."""
    with _session_lock:
        if not _sessions:
            _sessions.append(get_session())
        return _sessions[0]


class AsyncS3StorageClient(AsyncClosingContextManager):
    """Crown Safe storage on one S3 bucket for asyncio code (`container_name` is the bucket)."""

    backend = "s3"

    def __init__(
        self,
        bucket_name: str | None = None,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | SecretStr | None = None,
        settings: Settings | None = None,
        timeout: float = 30.0,
        multipart_threshold: int = 16 * MiB,
        part_size: int = 8 * MiB,
        max_concurrency: int = 4,
        read_legacy_keys: bool = False,
        request_checksums: S3ChecksumMode | None = None,
        max_connections: int | None = None,
        connect_timeout: float | None = None,
    ) -> None:
        self._read_key = validate_s3_key if read_legacy_keys else validate_blob_name
        self._limits = UploadLimits(multipart_threshold, part_size, max_concurrency)
        self._setup: S3Setup = resolve_s3_setup(
            bucket_name=bucket_name,
            endpoint_url=endpoint_url,
            region=region,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            settings=settings,
            timeout=timeout,
            request_checksums=request_checksums,
            connect_timeout=connect_timeout,
            max_connections=max_connections,
            max_concurrency=max_concurrency,
        )
        self.max_connections = self._setup.max_connections
        self._timeout = timeout
        self.container_name = self._setup.bucket
        self.region = self._setup.region
        self.endpoint_url = self._setup.endpoint_url
        self.request_checksums: S3ChecksumMode = self._setup.request_checksums
        self._secret = self._setup.secret
        self._client: Any = None
        self._exit = AsyncExitStack()
        self._opening: asyncio.Lock | None = None
        self._admin: S3StorageClient | None = None

    def __repr__(self) -> str:
        return (
            f"AsyncS3StorageClient(bucket={self.container_name!r}, region={self.region!r}, "
            f"endpoint_url={plain_endpoint(self.endpoint_url)!r})"
        )

    async def _sdk_client(self) -> Any:
        """The aiobotocore client, made on first use in the running event loop."""
        if self._client is not None:
            return self._client
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._client is None:
                setup = self._setup
                try:
                    client = await self._exit.enter_async_context(
                        _session().create_client(
                            "s3",
                            region_name=setup.region,
                            endpoint_url=setup.endpoint_url,
                            aws_access_key_id=setup.access_key_id,
                            aws_secret_access_key=setup.secret,
                            config=AioConfig(
                                http_session_cls=OneAttemptHTTPSession,
                                **setup.config_options,
                            ),
                        )
                    )
                except SDK_ERRORS as exc:
                    raise map_s3_error(exc, operation="connect", secrets=(self._secret,)) from exc
                client.meta.events.register(
                    "before-send.s3", add_correlation_header, unique_id="crownsafe-correlation-id"
                )
                self._client = client
        return self._client

    def _sdk(self, operation: str, blob_name: str | None = None) -> AbstractContextManager[None]:
        return s3_errors(
            operation, blob_name, self.container_name, (self._secret,), _TRANSPORT_ERRORS
        )

    async def close(self) -> None:
        self._client = None
        await self._exit.aclose()
        admin, self._admin = self._admin, None
        if admin is not None:
            admin.close()

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
        """Store `data` (bytes, a path, a binary stream or an async iterable of bytes)."""
        key = validate_blob_name(blob_name)
        if length is not None and length < 0:
            raise ValueError(f"length must be >= 0, got {length}")
        extra: dict[str, Any] = {
            "ContentType": content_type or DEFAULT_CONTENT_TYPE,
            "Metadata": validate_metadata(metadata),
        }
        if not overwrite:
            extra["IfNoneMatch"] = "*"
        if isinstance(data, bytes | bytearray | memoryview):
            view = memoryview(data).cast("B")
            check_length("s3", key, len(view), length)
            if len(view) <= self._limits.multipart_threshold:
                await self._put(key, data if isinstance(data, bytes) else bytes(view), extra)
            else:
                part_size = plan_part_size(len(view), self._limits.part_size)
                await self._multipart(key, ReadParts(bytes_parts(view, part_size)), [], extra)
        elif isinstance(data, str | os.PathLike):
            with open(data, "rb") as file:
                size = os.fstat(file.fileno()).st_size
                check_length("s3", key, size, length)
                await self._upload_seekable(key, file, 0, size, extra)
        elif is_streamed_source(data):
            await self._upload_streamed(key, data, extra, length)
        elif callable(getattr(data, "read", None)):
            stream = cast(BinaryIO, data)
            start = stream.tell()
            size = stream.seek(0, os.SEEK_END) - start
            stream.seek(start)
            check_length("s3", key, size, length)
            try:
                await self._upload_seekable(key, stream, start, size, extra)
            except BaseException:
                stream.seek(start)
                raise
        else:
            raise TypeError(
                "upload_file expects bytes, a path, a binary stream or an async iterable of "
                f"bytes, got {type(data).__name__}"
            )
        return self.get_blob_url(key)

    async def _upload_seekable(
        self, key: str, stream: BinaryIO, start: int, size: int, extra: Mapping[str, Any]
    ) -> None:
        read_at = stream_reader(stream, start)
        if size <= self._limits.multipart_threshold:
            await self._put(key, read_at(0, size), extra)
            return
        part_size = plan_part_size(size, self._limits.part_size)
        await self._multipart(key, ReadParts(region_parts(read_at, size, part_size)), [], extra)

    async def _upload_streamed(
        self,
        key: str,
        source: AsyncIterable[bytes] | BinaryIO,
        extra: Mapping[str, Any],
        length: int | None,
    ) -> None:
        threshold = self._limits.multipart_threshold
        one_shot = length is not None and 0 < length <= threshold
        size = length if one_shot and length is not None else self._limits.part_size
        blocks = Blocks(source, size, length=length, backend="s3", blob_name=key)
        try:
            first = await blocks.next()
            if first is None:
                await self._put(key, b"", extra)
                return
            second = await blocks.next() if len(first) == size and not one_shot else None
            if second is None and len(first) <= threshold:
                await self._put(key, first, extra)
                return
            queued = [first] if second is None else [first, second]
            await self._multipart(key, blocks, queued, extra)
        except StorageError as err:
            raise unretryable(err, blocks.consumed, key) from err

    async def _put(self, key: str, body: bytes, extra: Mapping[str, Any]) -> None:
        client = await self._sdk_client()
        with self._sdk("upload_file", key):
            response = await client.put_object(
                Bucket=self.container_name, Key=key, Body=body, **extra
            )
        if self.request_checksums == "when_supported":
            await self._check_put(key, response, body)

    async def _check_put(self, key: str, response: Mapping[str, Any], body: bytes) -> None:
        """The sync transport's rule: a CRC32 in the response is the service's confirmation
        of the checksum botocore sent; without one, the stored size is read by a HEAD."""
        if response.get("ChecksumCRC32") is not None:
            return
        client = await self._sdk_client()
        with self._sdk("upload_file", key):
            head = await client.head_object(Bucket=self.container_name, Key=key)
        if response.get("ETag") and head.get("ETag") != response.get("ETag"):
            return  # replaced by another writer since: not ours to judge or remove
        if head["ContentLength"] != len(body):
            await self._remove_bad(key)
            raise _mismatch(key, f"{head['ContentLength']} bytes, not the {len(body)} sent")

    async def _remove_bad(self, key: str) -> None:
        try:
            client = await self._sdk_client()
            with self._sdk("upload_file", key):
                await client.delete_object(Bucket=self.container_name, Key=key)
        except StorageError as error:
            log.error(
                "could not remove %r after the service stored other bytes than were sent: %s",
                key,
                error,
                extra=error.log_fields(),
            )

    async def _multipart(
        self, key: str, parts: BlockSource, first: list[bytes], extra: Mapping[str, Any]
    ) -> None:
        client = await self._sdk_client()
        if_none_match = extra.get("IfNoneMatch")
        fields = {k: v for k, v in extra.items() if k != "IfNoneMatch"}
        if self.request_checksums == "when_supported":
            # as the sync transport (and boto3's transfer manager): botocore adds a CRC32
            # to every part anyway, so the upload is created with that algorithm
            fields["ChecksumAlgorithm"] = "CRC32"
        with self._sdk("upload_file", key):
            created = await client.create_multipart_upload(
                Bucket=self.container_name, Key=key, **fields
            )
            upload_id = created["UploadId"]

        unconfirmed: dict[int, int] = {}

        async def send(number: int, body: bytes) -> dict[str, Any]:
            with self._sdk("upload_file", key):
                response = await client.upload_part(
                    Bucket=self.container_name,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=body,
                )
                entry: dict[str, Any] = {"PartNumber": number, "ETag": response["ETag"]}
            entry.update({name: response[name] for name in _CHECKSUM_KEYS if name in response})
            if self.request_checksums == "when_supported" and not any(
                name in response for name in _CHECKSUM_KEYS
            ):
                unconfirmed[number] = len(body)
            return entry

        try:
            completed = await send_bounded(parts, send, self._limits.max_concurrency, first=first)
            if unconfirmed:
                await self._check_part_sizes(key, upload_id, unconfirmed)
            condition = {"IfNoneMatch": if_none_match} if if_none_match else {}
            with self._sdk("upload_file", key):
                done = await client.complete_multipart_upload(
                    Bucket=self.container_name,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": completed},
                    **condition,
                )
                if "ETag" not in done:  # S3 sends 200 early; only the body says it completed
                    raise KeyError("ETag")
        except BaseException:
            await asyncio.shield(self._abort(key, upload_id))
            raise

    async def _check_part_sizes(self, key: str, upload_id: str, sizes: Mapping[int, int]) -> None:
        """Parts the service sent no checksum for: their stored sizes from ListParts (the
        sync transport's rule); a mismatch is never completed."""
        client = await self._sdk_client()
        with self._sdk("upload_file", key):
            listed = await client.list_parts(
                Bucket=self.container_name, Key=key, UploadId=upload_id, MaxParts=1000
            )
        stored = {int(p["PartNumber"]): int(p["Size"]) for p in listed.get("Parts", [])}
        for number, size in sorted(sizes.items()):
            if number not in stored and listed.get("IsTruncated"):
                continue  # beyond the first page: left unchecked rather than re-listed
            if stored.get(number) != size:
                got = "no part" if number not in stored else f"{stored[number]} bytes"
                raise _mismatch(key, f"{got} for part {number}, not the {size} bytes sent")

    async def _abort(self, key: str, upload_id: str) -> None:
        try:
            client = await self._sdk_client()
            with self._sdk("abort_multipart_upload", key):
                await client.abort_multipart_upload(
                    Bucket=self.container_name, Key=key, UploadId=upload_id
                )
        except StorageError as error:
            log.warning(
                "could not abort multipart upload of %r; its parts stay (invisible) until a "
                "lifecycle rule (AbortIncompleteMultipartUpload) removes them: %s",
                key,
                error,
                extra=error.log_fields(),
            )

    # -- downloads ----------------------------------------------------------------------

    async def _get_body(self, key: str) -> Any:
        client = await self._sdk_client()
        response = await client.get_object(Bucket=self.container_name, Key=key)
        if "ContentLength" not in response:  # headers cut off: the body could be short
            response["Body"].close()
            raise KeyError("ContentLength")
        return response["Body"]

    async def download_blob(self, blob_name: str) -> bytes:
        key = self._read_key(blob_name)
        with self._sdk("download_blob", key):
            body = await self._get_body(key)
            try:
                return bytes(await body.read())
            finally:
                body.close()

    async def iter_blob_chunks(
        self, blob_name: str, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> AsyncIterator[bytes]:
        """The GET is sent now (a missing blob raises here); the body is read lazily."""
        key = self._read_key(blob_name)
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be positive, got {chunk_size}")
        with self._sdk("iter_blob_chunks", key):
            body = await self._get_body(key)
        return self._read_body(body, key, chunk_size)

    async def _read_body(self, body: Any, key: str, chunk_size: int) -> AsyncIterator[bytes]:
        try:
            with self._sdk("iter_blob_chunks", key):
                async for chunk in body.iter_chunks(chunk_size):
                    yield chunk
        finally:
            body.close()

    async def download_to(self, blob_name: str, file: BinaryIO | os.PathLike[str] | str) -> int:
        """Stream the object into `file`; a path is written atomically (temp file + rename)."""
        chunks = await self.iter_blob_chunks(blob_name, DEFAULT_CHUNK_SIZE)
        if not isinstance(file, str | os.PathLike):
            return await _write_chunks(chunks, file)
        target = Path(file)
        handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(handle, "wb") as temp:
                written = await _write_chunks(chunks, temp)
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        return written

    # -- presigned URLs, properties, deletion, listing ----------------------------------

    async def generate_sas_url(
        self, blob_name: str, expiry_hours: float = 24, permission: SasPermission = "r"
    ) -> str:
        """A SigV4 presigned URL for one method: 'r' GET, 'w' PUT or 'd' DELETE (<= 7 days)."""
        key = validate_blob_name(blob_name)
        method = presign_method(permission)
        expires = presign_expiry_seconds(expiry_hours)
        client = await self._sdk_client()
        with self._sdk("generate_sas_url", key):
            url: str = await client.generate_presigned_url(
                method, Params={"Bucket": self.container_name, "Key": key}, ExpiresIn=expires
            )
            return url

    async def blob_exists(self, blob_name: str) -> bool:
        try:
            await self._head(self._read_key(blob_name), "blob_exists")
        except BlobNotFoundError:
            return False
        return True

    async def head_object(self, blob_name: str) -> BlobInfo:
        return await self._head(self._read_key(blob_name), "head_object")

    async def _head(self, key: str, operation: str) -> BlobInfo:
        client = await self._sdk_client()
        with self._sdk(operation, key):
            response = await client.head_object(Bucket=self.container_name, Key=key)
            return BlobInfo(
                name=key,
                size=response["ContentLength"],
                content_type=response.get("ContentType"),
                etag=normalize_etag(response.get("ETag")),
                last_modified=utc_timestamp(response.get("LastModified")),
                metadata=dict(response.get("Metadata", {})),
            )

    async def delete_blob(self, blob_name: str, missing_ok: bool = False) -> bool:
        """Delete the object; True if it existed. One HEAD first (S3's DELETE never says)."""
        key = self._read_key(blob_name)
        try:
            await self._head(key, "delete_blob")
        except BlobNotFoundError:
            if missing_ok:
                return False
            raise
        client = await self._sdk_client()
        with self._sdk("delete_blob", key):
            await client.delete_object(Bucket=self.container_name, Key=key)
        return True

    async def list_blobs(
        self, prefix: str | None = None, max_results: int | None = None
    ) -> list[BlobInfo]:
        if max_results is not None and max_results < 0:
            raise ValueError(f"max_results must be >= 0, got {max_results}")
        if max_results == 0:
            return []
        page_size = min(1000, max_results) if max_results else None
        found: list[BlobInfo] = []
        async for info in self.iter_blobs(prefix, page_size):
            found.append(info)
            if max_results is not None and len(found) >= max_results:
                break
        return found

    async def iter_blobs(
        self, prefix: str | None = None, page_size: int | None = None
    ) -> AsyncIterator[BlobInfo]:
        """All objects under `prefix`, following continuation tokens; pages of <= 1000."""
        if page_size is not None and page_size < 1:
            raise ValueError(f"page_size must be positive, got {page_size}")
        args: dict[str, Any] = {
            "Bucket": self.container_name,
            "MaxKeys": min(page_size or 1000, 1000),
        }
        if prefix:
            args["Prefix"] = prefix
        client = await self._sdk_client()
        while True:
            with self._sdk("list_blobs", prefix):
                page = await client.list_objects_v2(**args)
                more = page["IsTruncated"]  # absent only from a cut-off response
                blobs = [
                    BlobInfo(
                        name=item["Key"],
                        size=item["Size"],
                        etag=normalize_etag(item.get("ETag")),
                        last_modified=utc_timestamp(item.get("LastModified")),
                    )
                    for item in page.get("Contents", [])
                ]
            for info in blobs:
                yield info
            token = page.get("NextContinuationToken")
            if not more or not token:
                return
            args["ContinuationToken"] = token

    def get_blob_url(self, blob_name: str) -> str:
        """The unsigned URL: path-style on a custom endpoint, else virtual-hosted AWS."""
        return object_url(
            self.container_name,
            self._read_key(blob_name),
            region=self.region,
            endpoint_url=plain_endpoint(self.endpoint_url),
        )

    # -- the bucket ---------------------------------------------------------------------

    async def create_container(self, exist_ok: bool = True) -> None:
        """Create the bucket; HEAD first, as the sync client (us-east-1 answers 200 to
        re-creating one's own bucket)."""
        client = await self._sdk_client()
        try:
            with self._sdk("create_container"):
                await client.head_bucket(Bucket=self.container_name)
            exists = True
        except BlobNotFoundError:
            exists = False
        if exists:
            if exist_ok:
                return
            raise BlobConflictError(
                f"bucket {self.container_name!r} already exists",
                backend="s3",
                operation="create_container",
                status=409,
                error_code="BucketAlreadyOwnedByYou",
                hint="pass exist_ok=True or choose another S3_BUCKET",
            )
        args: dict[str, Any] = {"Bucket": self.container_name}
        if self.region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            with self._sdk("create_container"):
                await client.create_bucket(**args)
        except BlobConflictError as exc:
            if not (exist_ok and exc.error_code == "BucketAlreadyOwnedByYou"):
                raise

    async def delete_container(self, missing_ok: bool = True) -> None:
        """The sync client's `delete_container` (empty, then delete) in a worker thread."""
        if self._admin is None:
            setup = self._setup
            self._admin = S3StorageClient(
                setup.bucket,
                endpoint_url=setup.endpoint_url or "",
                region=setup.region,
                access_key_id=setup.access_key_id or "",
                secret_access_key=setup.secret or "",
                timeout=self._timeout,
                request_checksums=setup.request_checksums,
            )
        await asyncio.to_thread(self._admin.delete_container, missing_ok)


def _mismatch(key: str, stored: str) -> StorageIntegrityError:
    return StorageIntegrityError(
        f"the service stored {stored}; no wrong bytes were left to look valid",
        backend="s3",
        operation="upload_file",
        blob_name=key,
        hint="set S3_REQUEST_CHECKSUMS=when_required for this S3-compatible endpoint (it "
        "does not understand aws-chunked uploads); see docs/s3-compatible.md",
    )


async def _write_chunks(chunks: AsyncIterator[bytes], file: BinaryIO) -> int:
    written = 0
    async for chunk in chunks:
        file.write(chunk)
        written += len(chunk)
    return written
