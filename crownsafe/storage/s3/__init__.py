"""Amazon S3 (and S3-compatible services) backend of `StorageClient`, via boto3.

The package's face: it names what its private modules define. The module map:

- `_client`: `S3StorageClient`, the storage contract on a boto3 client.
- `_aio`: `AsyncS3StorageClient`, the async contract on aiobotocore.
- `_setup`: the configuration both clients are built from.
- `_upload`, `_parts`: single PUTs and our own multipart upload.
- `_streaming`: the second client that sends a stream of known length while reading it.
- `_presign`, `_bucket`, `_errors`: presigned URLs, emptying a bucket, typed errors.
"""

from typing import TYPE_CHECKING, Any

from crownsafe.storage.s3._client import S3StorageClient
from crownsafe.storage.s3._errors import map_s3_error

if TYPE_CHECKING:
    from crownsafe.storage.s3._aio import AsyncS3StorageClient

__all__ = ["AsyncS3StorageClient", "S3StorageClient", "map_s3_error"]


def __getattr__(name: str) -> Any:
    """`AsyncS3StorageClient` is imported on first use (it loads the async SDK)."""
    if name == "AsyncS3StorageClient":
        from crownsafe.storage.s3._aio import AsyncS3StorageClient

        return AsyncS3StorageClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
