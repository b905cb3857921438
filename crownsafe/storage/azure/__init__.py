"""Azure Blob Storage backend of `StorageClient` (azure-storage-blob 12.x).

The package's face: it names what its private modules define. The module map:

- `_client`: `AzureBlobStorageClient`, the storage contract on the SDK's sync API.
- `_aio`: `AsyncAzureBlobStorageClient`, the async contract on `azure.storage.blob.aio`.
- `_sas`: SAS planning and signing, shared by both clients.
- `_auth`: connection strings, the credential rule, SAS signing and the user delegation key.
- `_transfer`: per-request policies (correlation id, one attempt) and the block streamer.
- `_errors`: every SDK exception mapped to a typed `StorageError`.
"""

from typing import TYPE_CHECKING, Any

from crownsafe.storage.azure._auth import parse_connection_string
from crownsafe.storage.azure._client import AzureBlobStorageClient
from crownsafe.storage.azure._transfer import CorrelationIdPolicy

if TYPE_CHECKING:
    from crownsafe.storage.azure._aio import AsyncAzureBlobStorageClient

__all__ = [
    "AsyncAzureBlobStorageClient",
    "AzureBlobStorageClient",
    "CorrelationIdPolicy",
    "parse_connection_string",
]


def __getattr__(name: str) -> Any:
    """`AsyncAzureBlobStorageClient` is imported on first use (it loads the async SDK)."""
    if name == "AsyncAzureBlobStorageClient":
        from crownsafe.storage.azure._aio import AsyncAzureBlobStorageClient

        return AsyncAzureBlobStorageClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
