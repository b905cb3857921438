"""Emptying an S3 bucket before deleting it: pending multipart uploads, then all versions.

Takes the boto3 client `crownsafe.storage.s3` created (this module imports no SDK); the
caller turns SDK exceptions into typed errors. Some S3-compatible services do not
implement the batch DeleteObjects call (501 NotImplemented): then each version is
deleted on its own, for the rest of that bucket.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crownsafe.errors import StorageError

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

__all__ = ["empty_bucket"]


def empty_bucket(client: S3Client, bucket: str) -> None:
    """Abort pending multipart uploads, then delete every object version and delete marker.

    Lists the first page again after each batch instead of following markers: the
    listing shrinks as we delete (and moto loses its place when the marker is gone).
    """
    seen: set[tuple[str, str]] = set()
    while uploads := client.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        batch = {(upload["Key"], upload["UploadId"]) for upload in uploads}
        _check_progress(bucket, seen, batch)
        for key, upload_id in batch:
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    seen = set()
    batch_delete = True
    while True:
        page = client.list_object_versions(Bucket=bucket, MaxKeys=1000)
        items = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        if not items:
            return
        batch = {(item["Key"], item["VersionId"]) for item in items}
        _check_progress(bucket, seen, batch)
        if batch_delete:
            try:
                _delete_batch(client, bucket, batch)
                continue
            except Exception as exc:
                if not _not_implemented(exc):
                    raise
                batch_delete = False
        for key, version in sorted(batch):
            client.delete_object(Bucket=bucket, Key=key, VersionId=version)


def _not_implemented(exc: Exception) -> bool:
    """A botocore ClientError for 501 / NotImplemented (read by shape: no SDK import)."""
    response: Any = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = response.get("Error", {}).get("Code")
    return bool(status == 501 or code == "NotImplemented")


def _delete_batch(client: S3Client, bucket: str, batch: set[tuple[str, str]]) -> None:
    objects: Any = [{"Key": key, "VersionId": version} for key, version in batch]
    result = client.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
    if result.get("Errors"):
        first = result["Errors"][0]
        raise StorageError(
            f"could not empty bucket {bucket!r}: {len(result['Errors'])} objects "
            f"not deleted, first {first.get('Key')!r}: {first.get('Message')}",
            backend="s3",
            operation="delete_container",
            error_code=first.get("Code"),
        )


def _check_progress(bucket: str, seen: set[tuple[str, str]], batch: set[tuple[str, str]]) -> None:
    """Refuse to loop forever when deleted entries keep coming back."""
    if batch & seen:
        raise StorageError(
            f"could not empty bucket {bucket!r}: objects or uploads listed again after "
            "they were deleted",
            backend="s3",
            operation="delete_container",
            hint="check for object lock / retention or a concurrent writer",
        )
    seen |= batch
