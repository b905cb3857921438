"""Crown Safe storage: one `StorageClient` contract over Azure Blob and S3.

Importing this package loads no SDK: the Azure and S3 clients are imported by
`create_storage_client` (or directly from `crownsafe.storage.azure` / `.s3`); the async
clients by `create_async_storage_client` (`crownsafe.storage.async_base`).
"""

from crownsafe.errors import (
    BlobConflictError,
    BlobNotFoundError,
    InvalidBlobNameError,
    InvalidMetadataError,
    NonRetryableUploadError,
    StorageAuthError,
    StorageConfigError,
    StorageError,
    StorageGaveUpError,
    StorageIntegrityError,
    StorageNotSupportedError,
    StorageThrottledError,
    StorageUnavailableError,
)
from crownsafe.storage.base import (
    DEFAULT_CHUNK_SIZE,
    BlobInfo,
    SasPermission,
    StorageClient,
    UploadData,
)
from crownsafe.storage.factory import create_async_storage_client, create_storage_client
from crownsafe.storage.naming import (
    is_valid_blob_name,
    sanitize_blob_name,
    validate_blob_name,
    validate_bucket_name,
    validate_container_name,
    validate_metadata,
)
from crownsafe.storage.urls import (
    BlobLocation,
    InvalidBlobUrlError,
    azure_blob_url,
    is_azure_blob_url,
    is_s3_url,
    parse_blob_url,
    s3_object_url,
    to_blob_uri,
    to_s3_uri,
)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "BlobConflictError",
    "BlobInfo",
    "BlobLocation",
    "BlobNotFoundError",
    "InvalidBlobNameError",
    "InvalidBlobUrlError",
    "InvalidMetadataError",
    "NonRetryableUploadError",
    "SasPermission",
    "StorageAuthError",
    "StorageClient",
    "StorageConfigError",
    "StorageError",
    "StorageGaveUpError",
    "StorageIntegrityError",
    "StorageNotSupportedError",
    "StorageThrottledError",
    "StorageUnavailableError",
    "UploadData",
    "azure_blob_url",
    "create_async_storage_client",
    "create_storage_client",
    "is_azure_blob_url",
    "is_s3_url",
    "is_valid_blob_name",
    "parse_blob_url",
    "s3_object_url",
    "sanitize_blob_name",
    "to_blob_uri",
    "to_s3_uri",
    "validate_blob_name",
    "validate_bucket_name",
    "validate_container_name",
    "validate_metadata",
]
