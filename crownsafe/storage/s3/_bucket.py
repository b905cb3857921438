"""Emptying an S3 bucket before deleting it: pending multipart uploads, then all versions.

Takes the boto3 client `crownsafe.storage.s3` created (this module imports no SDK); the
caller turns SDK exceptions into typed errors. Some S3-compatible services lack the calls
this needs and answer 501 NotImplemented or 405 MethodNotAllowed; then it falls back to
what every S3 service offers:

- ListMultipartUploads lacking: pending uploads cannot be listed, so none are aborted (a
  service without the listing usually keeps none, or discards them itself);
- ListObjectVersions lacking: the objects are listed with ListObjectsV2 and deleted by
  key (such a service keeps no versions to delete);
- DeleteObjects (batch) lacking: each object is deleted on its own, for the rest of
  that bucket.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crownsafe.errors import StorageError

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

__all__ = ["empty_bucket", "lacks_operation"]

Entry = tuple[str, str | None]
"""(key, version id); None when the service lists no versions."""


def empty_bucket(client: S3Client, bucket: str) -> None:
    """Abort pending multipart uploads, then delete every object version and delete marker.

    Lists the first page again after each batch instead of following markers: the
    listing shrinks as we delete (and moto loses its place when the marker is gone).
    """
    _abort_uploads(client, bucket)
    seen: set[Entry] = set()
    batch_delete = True
    first_page = _versions_page
    while True:
        try:
            batch = first_page(client, bucket)
        except Exception as exc:
            if first_page is _objects_page or not lacks_operation(exc):
                raise
            first_page = _objects_page
            continue
        if not batch:
            return
        _check_progress(bucket, seen, batch)
        if batch_delete:
            try:
                _delete_batch(client, bucket, batch)
                continue
            except Exception as exc:
                if not lacks_operation(exc):
                    raise
                batch_delete = False
        for key, version in sorted(batch, key=lambda entry: (entry[0], entry[1] or "")):
            if version is None:
                client.delete_object(Bucket=bucket, Key=key)
            else:
                client.delete_object(Bucket=bucket, Key=key, VersionId=version)


def _abort_uploads(client: S3Client, bucket: str) -> None:
    seen: set[Entry] = set()
    while True:
        try:
            uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        except Exception as exc:
            if lacks_operation(exc):
                return
            raise
        if not uploads:
            return
        batch: set[Entry] = {(upload["Key"], upload["UploadId"]) for upload in uploads}
        _check_progress(bucket, seen, batch)
        for key, upload_id in batch:
            assert upload_id is not None
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


def _versions_page(client: S3Client, bucket: str) -> set[Entry]:
    page = client.list_object_versions(Bucket=bucket, MaxKeys=1000)
    items = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
    return {(item["Key"], item["VersionId"]) for item in items}


def _objects_page(client: S3Client, bucket: str) -> set[Entry]:
    page = client.list_objects_v2(Bucket=bucket, MaxKeys=1000)
    return {(item["Key"], None) for item in page.get("Contents", [])}


def lacks_operation(exc: BaseException) -> bool:
    """A botocore ClientError for 501 NotImplemented or 405 MethodNotAllowed (read by
    shape: no SDK import): the service does not implement the call."""
    response: Any = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = response.get("Error", {}).get("Code")
    return bool(status in (501, 405) or code in ("NotImplemented", "MethodNotAllowed"))


def _delete_batch(client: S3Client, bucket: str, batch: set[Entry]) -> None:
    objects: Any = [
        {"Key": key, "VersionId": version} if version is not None else {"Key": key}
        for key, version in batch
    ]
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


def _check_progress(bucket: str, seen: set[Entry], batch: set[Entry]) -> None:
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
