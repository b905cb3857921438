"""Amazon S3 (and S3-compatible services) backend of `StorageClient`, via boto3.

The package's face: it names what its private modules define. The module map:

- `_client`: `S3StorageClient`, the storage contract on a boto3 client.
- `_upload`, `_parts`: single PUTs and our own multipart upload.
- `_streaming`: the second client that sends a stream of known length while reading it.
- `_presign`, `_bucket`, `_errors`: presigned URLs, emptying a bucket, typed errors.
"""

from crownsafe.storage.s3._client import S3StorageClient
from crownsafe.storage.s3._errors import map_s3_error

__all__ = ["S3StorageClient", "map_s3_error"]
