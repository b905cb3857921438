"""`S3StorageClient`: the storage contract on Amazon S3 (and S3-compatible services) via boto3.

With its private modules, the only code importing boto3/botocore. What it promises beyond
the protocol:

- One HTTP attempt per request (`total_max_attempts=1`): crownsafe's resilience layer owns
  retries. SigV4 everywhere (boto3 would presign with SigV2 otherwise). Path-style
  addressing when an endpoint URL is given.
- The current correlation id goes out as `x-crownsafe-correlation-id` on every request,
  part uploads in worker threads included (added at send time, so presigned URLs do not
  sign it).
- Uploads stream (see `crownsafe.storage.s3._upload`): one `PutObject` up to
  `multipart_threshold` bytes of known size, else our own multipart upload with at most
  `max_concurrency` parts in flight, aborted on any failure so no partial object ever
  becomes visible. `overwrite=False` is `If-None-Match: *` on the PUT or on the complete.
  A non-seekable stream of known `length` is sent while it is read, by a second client
  made for that (`crownsafe.storage.s3._streaming`: aws-chunked with a CRC32 trailer, or
  a plain body with `request_checksums="when_required"`).
- `request_checksums` (S3_REQUEST_CHECKSUMS): "when_supported" (botocore's default, a
  CRC32 with every upload) or "when_required" (plain bodies) for S3-compatible services
  that do not understand aws-chunked. Either way what the service stored is checked after
  uploads it could have misread, and wrong bytes raise `StorageIntegrityError`
  (`crownsafe.storage.s3._transport`).
- `delete_blob` keeps the protocol's not-found promise with a HEAD before the DELETE
  (S3's DELETE is idempotent). That costs one request, and an object deleted by someone
  else between the two requests still reports True. `create_container(exist_ok=False)`
  likewise HEADs the bucket first (us-east-1 answers 200 to re-creating one's own bucket).
- S3 returns metadata keys in lower case (`Owner` comes back as `owner`); listings carry
  no content type or metadata (`head_object` does).
- Every SDK exception becomes a typed `StorageError` (`map_s3_error`); no secret in messages.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.response import StreamingBody

from crownsafe.config import (
    S3ChecksumMode,
    SecretStr,
    Settings,
)
from crownsafe.correlation import CORRELATION_HEADER_S3, get_correlation_id
from crownsafe.errors import (
    BlobConflictError,
    BlobNotFoundError,
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
from crownsafe.storage.naming import (
    validate_blob_name,
    validate_metadata,
    validate_s3_key,
)
from crownsafe.storage.s3._bucket import empty_bucket
from crownsafe.storage.s3._errors import SDK_ERRORS, map_s3_error, s3_errors
from crownsafe.storage.s3._presign import object_url, presign_expiry_seconds, presign_method
from crownsafe.storage.s3._setup import plain_endpoint, resolve_s3_setup
from crownsafe.storage.s3._streaming import LazyStreamingClient, streaming_config
from crownsafe.storage.s3._transport import ClientUploadTransport
from crownsafe.storage.s3._upload import Uploader, UploadLimits

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

__all__ = ["S3StorageClient"]

log = logging.getLogger(__name__)

MiB = 1024 * 1024
DEFAULT_CONTENT_TYPE = "application/octet-stream"
_PUBLIC_GROUPS = ("AllUsers", "AuthenticatedUsers")


_session_lock = threading.Lock()
_sessions: list[boto3.session.Session] = []


def _new_client(
    region: str, endpoint_url: str | None, key_id: str | None, secret: str | None, config: Config
) -> S3Client:
    """A client from one process-wide boto3 Session, its credentials passed explicitly.

    A Session per client would load botocore's service models again each time (0.1-0.8 s
    per client here). Clients are thread-safe; the Session is not, so client creation is
    serialized. Without explicit keys the default AWS credential chain is used (resolved
    once per process, as with `boto3.client`).
    """
    with _session_lock:
        if not _sessions:
            _sessions.append(boto3.session.Session())
        return _sessions[0].client(
            "s3",
            region_name=region,
            endpoint_url=endpoint_url,
            aws_access_key_id=key_id or None,
            aws_secret_access_key=secret,
            config=config,
        )


def add_correlation_header(request: Any, **_: Any) -> None:
    """botocore `before-send` hook: tag the outgoing request with the correlation id."""
    correlation_id = get_correlation_id()
    if correlation_id and correlation_id.isascii() and correlation_id.isprintable():
        request.headers[CORRELATION_HEADER_S3] = correlation_id


class S3StorageClient(ClosingContextManager):
    """Crown Safe storage on one S3 bucket (`container_name` is the bucket).

    Names follow the common rule of `crownsafe.storage.naming` (valid on both backends).
    `read_legacy_keys=True` lets reads, HEADs and deletes use S3's own looser key rule, for
    tools such as the object migration that must read keys written before the rule existed
    (e.g. ending in '/' or '.'); writes always keep the common rule.
    """

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
        connect_timeout: float | None = None,
        max_connections: int | None = None,
        multipart_threshold: int = 16 * MiB,
        part_size: int = 8 * MiB,
        max_concurrency: int = 4,
        read_legacy_keys: bool = False,
        request_checksums: S3ChecksumMode | None = None,
    ) -> None:
        self._read_key = validate_s3_key if read_legacy_keys else validate_blob_name
        limits = UploadLimits(multipart_threshold, part_size, max_concurrency)
        setup = resolve_s3_setup(
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
        self.max_connections = setup.max_connections
        self.request_checksums: S3ChecksumMode = setup.request_checksums
        self.container_name = setup.bucket
        self.region = setup.region
        self.endpoint_url = setup.endpoint_url
        self._secret = setup.secret
        key_id, config, checksums = setup.access_key_id, setup.config, setup.request_checksums
        self._client = self._build_client(key_id, self._secret, config)
        trailer = checksums == "when_supported"
        stream_config = streaming_config(
            config, path_style=bool(self.endpoint_url), trailer_checksums=trailer
        )
        self._streaming = LazyStreamingClient(
            lambda: self._build_client(key_id, self._secret, stream_config),
            trailer_checksums=trailer,
        )
        self._uploader = Uploader(
            ClientUploadTransport(
                self._client,
                self.container_name,
                self._sdk,
                self._streaming_client,
                trailer_checksums=trailer,
            ),
            limits,
        )

    def _streaming_client(self) -> S3Client:
        """The client of streamed PUTs, built on first use (`crownsafe.storage.s3._streaming`)."""
        return self._streaming.get()

    def _build_client(self, key_id: str | None, secret: str | None, config: Config) -> S3Client:
        """A client with `config`: one attempt, the correlation id on every request."""
        try:
            client = _new_client(self.region, self.endpoint_url, key_id, secret, config)
        except SDK_ERRORS as exc:
            raise map_s3_error(exc, operation="connect", secrets=(self._secret,)) from exc
        client.meta.events.register(
            "before-send.s3", add_correlation_header, unique_id="crownsafe-correlation-id"
        )
        return client

    def __repr__(self) -> str:
        return (
            f"S3StorageClient(bucket={self.container_name!r}, region={self.region!r}, "
            f"endpoint_url={plain_endpoint(self.endpoint_url)!r})"
        )

    def close(self) -> None:
        self._client.close()
        self._streaming.close()

    def _sdk(self, operation: str, blob_name: str | None = None) -> AbstractContextManager[None]:
        return s3_errors(operation, blob_name, self.container_name, (self._secret,))

    # uploads

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
        """Store `data` (bytes, a path, or a binary stream) under `blob_name`; return its URL.

        With `length` a non-seekable stream up to `multipart_threshold` is sent in ONE
        streamed PutObject (CRC32 trailer: see `crownsafe.storage.s3._streaming`); a stream
        shorter or longer than `length` raises `UploadLengthMismatchError`, nothing stored.
        A non-seekable stream that fails after some of it was read raises
        `NonRetryableUploadError` (for transient failures) since it cannot be sent again.
        """
        key = validate_blob_name(blob_name)
        extra: dict[str, Any] = {
            "ContentType": content_type or DEFAULT_CONTENT_TYPE,
            "Metadata": validate_metadata(metadata),
        }
        if not overwrite:
            extra["IfNoneMatch"] = "*"
        self._uploader.upload(key, data, extra, length)
        return self.get_blob_url(key)

    # downloads

    def download_blob(self, blob_name: str) -> bytes:
        key = self._read_key(blob_name)
        with self._sdk("download_blob", key):
            body = self._get_body(key)
            try:
                return body.read()
            finally:
                body.close()

    def iter_blob_chunks(
        self, blob_name: str, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[bytes]:
        """Stream the object in chunks of at most `chunk_size` bytes.

        The GET is sent at once (a missing blob raises here); the body is read lazily.
        """
        key = self._read_key(blob_name)
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be positive, got {chunk_size}")
        with self._sdk("iter_blob_chunks", key):
            body = self._get_body(key)
        return self._read_body(body, key, chunk_size)

    def _get_body(self, key: str) -> StreamingBody:
        response = self._client.get_object(Bucket=self.container_name, Key=key)
        if "ContentLength" not in response:  # headers cut off: the body could be short
            response["Body"].close()
            raise KeyError("ContentLength")
        return response["Body"]

    def _read_body(self, body: StreamingBody, key: str, chunk_size: int) -> Iterator[bytes]:
        try:
            with self._sdk("iter_blob_chunks", key):
                yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    def download_to(self, blob_name: str, file: BinaryIO | os.PathLike[str] | str) -> int:
        """Stream the object into `file`; a path is written atomically (temp file + rename)."""
        chunks = self.iter_blob_chunks(blob_name, DEFAULT_CHUNK_SIZE)
        if not isinstance(file, str | os.PathLike):
            return _write_chunks(chunks, file)
        target = Path(file)
        handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(handle, "wb") as temp:
                written = _write_chunks(chunks, temp)
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        return written

    # presigned URLs, properties, deletion, listing

    def generate_sas_url(
        self, blob_name: str, expiry_hours: float = 24, permission: SasPermission = "r"
    ) -> str:
        """A SigV4 presigned URL for one method: 'r' GET, 'w' PUT or 'd' DELETE (<= 7 days)."""
        key = validate_blob_name(blob_name)
        method = presign_method(permission)
        expires = presign_expiry_seconds(expiry_hours)
        with self._sdk("generate_sas_url", key):
            return self._client.generate_presigned_url(
                method, Params={"Bucket": self.container_name, "Key": key}, ExpiresIn=expires
            )

    def blob_exists(self, blob_name: str) -> bool:
        try:
            self._head(self._read_key(blob_name), "blob_exists")
        except BlobNotFoundError:
            return False
        return True

    def head_object(self, blob_name: str) -> BlobInfo:
        return self._head(self._read_key(blob_name), "head_object")

    def _head(self, key: str, operation: str) -> BlobInfo:
        with self._sdk(operation, key):
            response = self._client.head_object(Bucket=self.container_name, Key=key)
            return BlobInfo(
                name=key,
                size=response["ContentLength"],
                content_type=response.get("ContentType"),
                etag=normalize_etag(response.get("ETag")),
                last_modified=utc_timestamp(response.get("LastModified")),
                metadata=dict(response.get("Metadata", {})),
            )

    def delete_blob(self, blob_name: str, missing_ok: bool = False) -> bool:
        """Delete the object; True if it existed. One HEAD first (S3's DELETE never says)."""
        key = self._read_key(blob_name)
        try:
            self._head(key, "delete_blob")
        except BlobNotFoundError:
            if missing_ok:
                return False
            raise
        with self._sdk("delete_blob", key):
            self._client.delete_object(Bucket=self.container_name, Key=key)
        return True

    def list_blobs(
        self, prefix: str | None = None, max_results: int | None = None
    ) -> list[BlobInfo]:
        """Objects under `prefix` in key order (at most `max_results`); no content type or
        metadata (S3 listings carry neither; use head_object)."""
        if max_results is not None and max_results < 0:
            raise ValueError(f"max_results must be >= 0, got {max_results}")
        if max_results == 0:
            return []
        page_size = min(1000, max_results) if max_results else None
        return list(islice(self.iter_blobs(prefix, page_size), max_results))

    def iter_blobs(
        self, prefix: str | None = None, page_size: int | None = None
    ) -> Iterator[BlobInfo]:
        """All objects under `prefix`, following continuation tokens; pages of <= 1000."""
        if page_size is not None and page_size < 1:
            raise ValueError(f"page_size must be positive, got {page_size}")
        args: dict[str, Any] = {
            "Bucket": self.container_name,
            "MaxKeys": min(page_size or 1000, 1000),
        }
        if prefix:
            args["Prefix"] = prefix
        return self._iter_pages(args)

    def _iter_pages(self, args: dict[str, Any]) -> Iterator[BlobInfo]:
        while True:
            with self._sdk("list_blobs", args.get("Prefix")):
                page = self._client.list_objects_v2(**args)
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
            yield from blobs
            token = page.get("NextContinuationToken")
            if not more or not token:
                return
            args["ContinuationToken"] = token

    def get_blob_url(self, blob_name: str) -> str:
        """The unsigned URL: path-style on a custom endpoint, else virtual-hosted AWS."""
        key = self._read_key(blob_name)
        return object_url(
            self.container_name,
            key,
            region=self.region,
            endpoint_url=plain_endpoint(self.endpoint_url),
        )

    # the bucket

    def _bucket_exists(self, operation: str) -> bool:
        try:
            with self._sdk(operation):
                self._client.head_bucket(Bucket=self.container_name)
        except BlobNotFoundError:
            return False
        return True

    def create_container(self, exist_ok: bool = True) -> None:
        """Create the bucket (HEAD first: us-east-1 answers 200 to re-creating one's own).

        A bucket created by someone else between the HEAD and the create is only reported
        as a conflict when S3 says so (BucketAlreadyExists, or outside us-east-1).
        """
        if self._bucket_exists("create_container"):
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
                self._client.create_bucket(**args)
        except BlobConflictError as exc:
            if not (exist_ok and exc.error_code == "BucketAlreadyOwnedByYou"):
                raise

    def delete_container(self, missing_ok: bool = True) -> None:
        """Delete the bucket after aborting its multipart uploads and deleting every version."""
        try:
            with self._sdk("delete_container"):
                empty_bucket(self._client, self.container_name)
                self._client.delete_bucket(Bucket=self.container_name)
        except BlobNotFoundError:
            if not missing_ok:
                raise

    def public_access_grants(self) -> list[str]:
        """How anonymous callers may reach the bucket: [] when it is private.

        Not part of `StorageClient`: the pre-deployment checks ask it. Reads the bucket
        policy status (no policy counts as not public) and the ACL's grants to the
        AllUsers / AuthenticatedUsers groups. Raises `BlobNotFoundError` for a missing bucket.
        """
        grants: list[str] = []
        try:
            with self._sdk("get_bucket_policy_status"):
                status = self._client.get_bucket_policy_status(Bucket=self.container_name)
            if status.get("PolicyStatus", {}).get("IsPublic"):
                grants.append("the bucket policy is public")
        except BlobNotFoundError as exc:
            if exc.error_code != "NoSuchBucketPolicy":
                raise
        with self._sdk("get_bucket_acl"):
            acl = self._client.get_bucket_acl(Bucket=self.container_name)
        for grant in acl.get("Grants", []):
            uri = str(grant.get("Grantee", {}).get("URI", ""))
            group = uri.rsplit("/", 1)[-1]
            if group in _PUBLIC_GROUPS:
                grants.append(f"the ACL grants {grant.get('Permission', '?')} to {group}")
        return grants

    def cors_rules(self) -> list[CorsRule]:
        """The bucket's CORS rules (`get_bucket_cors`; none configured: []). Not part of
        `StorageClient`: the pre-deployment checks ask it."""
        try:
            with self._sdk("get_bucket_cors"):
                got = self._client.get_bucket_cors(Bucket=self.container_name)
        except BlobNotFoundError as exc:
            if exc.error_code != "NoSuchCORSConfiguration":
                raise
            return []
        return [
            CorsRule.of(r.get("AllowedOrigins"), r.get("AllowedMethods"), r.get("AllowedHeaders"))
            for r in got.get("CORSRules", [])
        ]


def _write_chunks(chunks: Iterator[bytes], file: BinaryIO) -> int:
    written = 0
    for chunk in chunks:
        file.write(chunk)
        written += len(chunk)
    return written
