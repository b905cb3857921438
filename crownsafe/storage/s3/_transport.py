"""`ClientUploadTransport`: the S3 requests of an upload, on boto3, and a check of what
the service stored.

Why the check. botocore sends a streamed body (and, over https, every upload body)
`aws-chunked` with its CRC32 in a trailer. An S3-compatible service that does not know
the encoding stores the framing as the object's bytes (1,024 bytes read back as ~1,067)
and answers 200: wrong bytes, no error. So after each upload whose bytes the service
could have misread, the transport asks what was stored and refuses a mismatch with
`StorageIntegrityError`:

- the response carries the service's CRC32 of what it stored (S3 and the emulators do
  when they understood the checksum): it must equal the CRC32 of the bytes we sent;
- otherwise the stored size is read back: `HeadObject` for a PutObject, `ListParts` for
  a part (before the complete). It must equal the size we sent.

Checked: every streamed upload (a non-seekable body of known length, `put_stream` and
`upload_part_stream`), and every other PutObject / UploadPart that was sent with a
checksum the service did not confirm. Not checked: a plain body sent without any checksum
(S3_REQUEST_CHECKSUMS=when_required, bytes and files): it cannot be misread this way.

What is left after a mismatch, so no wrong bytes look valid: a part is never completed
(the multipart upload is aborted, an existing object stays as it was); a PutObject's
object is deleted (a new object: gone again; an overwrite of bytes or a file: the name
then reads as not found, as the old version was already replaced by the service).
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from crownsafe.errors import StorageError, StorageIntegrityError
from crownsafe.storage._crc32 import crc32
from crownsafe.storage.s3._parts import PartBody
from crownsafe.storage.s3._upload import Body, SdkGuard

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

__all__ = ["ClientUploadTransport", "Crc32Reader"]

log = logging.getLogger(__name__)

_CHECKSUM_KEYS = ("ChecksumCRC32", "ChecksumCRC32C", "ChecksumSHA1", "ChecksumSHA256")
_UNCHECKED = "_crownsafe_unchecked_size"
"""Key of a part entry whose checksum the service did not confirm (removed before use)."""
_FIX = (
    "set S3_REQUEST_CHECKSUMS=when_required for this S3-compatible endpoint (it does not "
    "understand aws-chunked uploads); see docs/s3-compatible.md"
)


def crc32_base64(crc: int) -> str:
    """A CRC32 as S3 writes it (x-amz-checksum-crc32): base64 of its 4 big-endian bytes."""
    return base64.b64encode((crc & 0xFFFFFFFF).to_bytes(4, "big")).decode()


class Crc32Reader:
    """A non-seekable view of a stream that computes the CRC32 of the bytes read through
    it (`crownsafe.storage._crc32`: ISA-L's, 0.02 ms per MiB here; zlib's took 0.3-0.45)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._readinto = getattr(stream, "readinto", None)
        self.crc = 0
        self.size = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self._stream.read(size) or b""
        self.crc = crc32(data, self.crc)
        self.size += len(data)
        return data

    def read1(self, size: int = -1, /) -> bytes | memoryview:
        """As `read`, through the stream's `read1` when it has one (pieces, not joined)."""
        read1 = getattr(self._stream, "read1", None) or self._stream.read  # Pieces: no read
        data: bytes | memoryview = read1(size) or b""
        self.crc = crc32(data, self.crc)
        self.size += len(data)
        return data

    def readinto(self, buffer: Any, /) -> int:
        target = memoryview(buffer).cast("B")
        if self._readinto is None:
            data = self.read(len(target))
            target[: len(data)] = data
            return len(data)
        count = int(self._readinto(target) or 0)
        self.crc = crc32(target[:count], self.crc)
        self.size += count
        return count

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self.size

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int:
        """Only to where it is (botocore's CRT signer wants a body with `seek`)."""
        if (whence, offset) in ((io.SEEK_SET, self.size), (io.SEEK_CUR, 0)):
            return self.size
        raise io.UnsupportedOperation("a streamed upload body cannot seek")

    @property
    def checksum(self) -> str:
        return crc32_base64(self.crc)


class ClientUploadTransport:
    """`UploadTransport` on a boto3 S3 client (given by `crownsafe.storage.s3`).

    `sdk(operation, key)` is the client's context manager that turns SDK exceptions into
    typed errors. `trailer_checksums` (S3_REQUEST_CHECKSUMS=when_supported): the streaming
    client sends a CRC32 trailer, so streamed uploads are created with it, and botocore
    adds a checksum to every other upload, whose confirmation is then expected.
    """

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        sdk: SdkGuard,
        stream_client: Callable[[], S3Client] | None = None,
        *,
        trailer_checksums: bool = True,
    ) -> None:
        self._client = client
        self._stream_client = stream_client or (lambda: client)
        self._bucket = bucket
        self._sdk = sdk
        calculation = getattr(self._client.meta.config, "request_checksum_calculation", None)
        # As boto3's transfer manager: CRC32 per part when botocore adds checksums anyway.
        self._checksum: dict[str, Any] = (
            {"ChecksumAlgorithm": "CRC32"} if calculation == "when_supported" else {}
        )
        self.trailer_checksums = trailer_checksums
        self._stream_checksum: dict[str, Any] = (
            {"ChecksumAlgorithm": "CRC32"} if trailer_checksums else {}
        )

    # -- PutObject ----------------------------------------------------------------------

    def put(
        self, key: str, body: Body, extra: Mapping[str, Any], content_length: int | None = None
    ) -> None:
        sized: dict[str, Any] = {}
        if content_length is not None:
            sized["ContentLength"] = content_length
        with self._sdk("upload_file", key):
            response = self._client.put_object(
                Bucket=self._bucket, Key=key, Body=cast(Any, body), **extra, **sized
            )
        size = len(body) if isinstance(body, bytes | PartBody) else content_length
        if self.trailer_checksums and size is not None:
            self._check_put(key, response, size, None)

    def put_stream(
        self, key: str, body: BinaryIO, extra: Mapping[str, Any], content_length: int
    ) -> None:
        """On the streaming client (`crownsafe.storage.s3._streaming`); always checked."""
        reader = Crc32Reader(body)
        with self._sdk("upload_file", key):
            response = self._stream_client().put_object(
                Bucket=self._bucket,
                Key=key,
                Body=cast(Any, reader),
                ContentLength=content_length,
                **extra,
            )
        self._check_put(key, response, content_length, reader.checksum)

    def _check_put(
        self, key: str, response: Mapping[str, Any], size: int, sent_crc: str | None
    ) -> None:
        """`sent_crc`: the CRC32 of what we sent, when we computed it (streamed bodies);
        otherwise a CRC32 in the response is taken as the service's confirmation."""
        stored_crc = response.get("ChecksumCRC32")
        if stored_crc is not None and sent_crc is not None:
            if stored_crc != sent_crc:
                self._remove_bad(key)
                raise self._mismatch(key, f"CRC32 {stored_crc}, not the {sent_crc} of the "
                                     f"{size} bytes sent", removed=True)  # fmt: skip
            return
        if stored_crc is not None:
            return
        with self._sdk("upload_file", key):
            head = self._client.head_object(Bucket=self._bucket, Key=key)
        if response.get("ETag") and head.get("ETag") != response.get("ETag"):
            return  # replaced by another writer since: not ours to judge or remove
        if head["ContentLength"] != size:
            self._remove_bad(key)
            raise self._mismatch(
                key, f"{head['ContentLength']} bytes, not the {size} bytes sent", removed=True
            )

    def _remove_bad(self, key: str) -> None:
        try:
            with self._sdk("upload_file", key):
                self._client.delete_object(Bucket=self._bucket, Key=key)
        except StorageError as error:
            log.error(
                "could not remove %r after the service stored other bytes than were sent: %s",
                key,
                error,
                extra=error.log_fields(),
            )

    # -- multipart ----------------------------------------------------------------------

    def create_multipart(
        self, key: str, extra: Mapping[str, Any], *, streamed: bool = False
    ) -> str:
        checksum = self._stream_checksum if streamed else self._checksum
        with self._sdk("upload_file", key):
            created = self._client.create_multipart_upload(
                Bucket=self._bucket, Key=key, **{**extra, **checksum}
            )
            return created["UploadId"]

    def upload_part_stream(
        self, key: str, upload_id: str, number: int, body: BinaryIO, content_length: int
    ) -> dict[str, Any]:
        """On the streaming client (`crownsafe.storage.s3._streaming`); checked before the
        upload is completed (the part's CRC32, else its size from ListParts)."""
        reader = Crc32Reader(body)
        with self._sdk("upload_file", key):
            response = self._stream_client().upload_part(
                Bucket=self._bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                Body=cast(Any, reader),
                ContentLength=content_length,
                **self._stream_checksum,
            )
            part = self._part_entry(number, response)
        stored_crc = response.get("ChecksumCRC32")
        if stored_crc is not None and stored_crc != reader.checksum:
            raise self._mismatch(
                key, f"CRC32 {stored_crc} for part {number}, not the {reader.checksum} of the "
                f"{content_length} bytes sent", removed=False,
            )  # fmt: skip
        if stored_crc is None:
            self._check_part_sizes(key, upload_id, {number: content_length})
        return part

    def upload_part(self, key: str, upload_id: str, number: int, body: PartBody) -> dict[str, Any]:
        """A part of a non-seekable stream (its pieces in memory) goes as a streamed part
        when trailers are on: its pieces sent as they are, one CRC32 pass, no SigV4 hash
        of the payload over http (botocore hashed it, checksummed it and copied it on each
        of its three reads: py-spy, ~40 ms of app CPU per 10 MiB); others as they are."""
        if body.pieces is not None and self.trailer_checksums and self._checksum:
            length = len(body)
            pieces = body.take_pieces()  # freed as they are sent, not after the part
            return self.upload_part_stream(key, upload_id, number, cast(BinaryIO, pieces), length)
        with self._sdk("upload_file", key):
            response = self._client.upload_part(
                Bucket=self._bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                Body=cast(Any, body),
                ContentLength=len(body),
                **self._checksum,
            )
            part = self._part_entry(number, response)
        if self.trailer_checksums and not any(name in response for name in _CHECKSUM_KEYS):
            part[_UNCHECKED] = len(body)
        return part

    @staticmethod
    def _part_entry(number: int, response: Mapping[str, Any]) -> dict[str, Any]:
        """The part's entry for the complete request (a missing ETag: a cut-off response)."""
        part: dict[str, Any] = {"PartNumber": number, "ETag": response["ETag"]}
        part.update({name: response[name] for name in _CHECKSUM_KEYS if name in response})
        return part

    def _check_part_sizes(self, key: str, upload_id: str, sizes: Mapping[int, int]) -> None:
        """The stored size of each part in `sizes` ({number: bytes sent}), from ListParts."""
        with self._sdk("upload_file", key):
            listed = self._client.list_parts(
                Bucket=self._bucket, Key=key, UploadId=upload_id, MaxParts=1000
            )
        stored = {int(p["PartNumber"]): int(p["Size"]) for p in listed.get("Parts", [])}
        for number, size in sorted(sizes.items()):
            if number not in stored and listed.get("IsTruncated"):
                continue  # beyond the first page: left unchecked rather than re-listed
            if stored.get(number) != size:
                got = "no part" if number not in stored else f"{stored[number]} bytes"
                raise self._mismatch(
                    key, f"{got} for part {number}, not the {size} bytes sent", removed=False
                )

    def complete_multipart(
        self, key: str, upload_id: str, parts: list[dict[str, Any]], if_none_match: str | None
    ) -> None:
        unchecked = {int(p["PartNumber"]): p.pop(_UNCHECKED) for p in parts if _UNCHECKED in p}
        if unchecked:
            self._check_part_sizes(key, upload_id, unchecked)
        condition: dict[str, Any] = {"IfNoneMatch": if_none_match} if if_none_match else {}
        with self._sdk("upload_file", key):
            done = self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
                **condition,
            )
            if "ETag" not in done:  # S3 sends 200 early; only the body says it completed
                raise KeyError("ETag")

    def abort_multipart(self, key: str, upload_id: str) -> None:
        try:
            with self._sdk("abort_multipart_upload", key):
                self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=key, UploadId=upload_id
                )
        except StorageError as error:
            log.warning(
                "could not abort multipart upload of %r; its parts stay (invisible) until a "
                "lifecycle rule (AbortIncompleteMultipartUpload) removes them: %s",
                key,
                error,
                extra=error.log_fields(),
            )

    def _mismatch(self, key: str, stored: str, *, removed: bool) -> StorageIntegrityError:
        after = (
            "the object was removed so that no wrong bytes look valid"
            if removed
            else "the upload was not completed, so an existing object is unchanged"
        )
        return StorageIntegrityError(
            f"the service stored {stored}; {after}",
            backend="s3",
            operation="upload_file",
            blob_name=key,
            hint=_FIX,
        )
