"""Object migration from S3 to Azure Blob Storage (see crownsafe.objects.cli)."""

from crownsafe.objects.copier import ClientFactory, ObjectMigrator, VerificationMismatch
from crownsafe.objects.keys import (
    MappedMetadata,
    MetadataKeyCollisionError,
    azure_metadata_key,
    map_metadata,
    target_blob_name,
)
from crownsafe.objects.ledger import Ledger, LedgerError
from crownsafe.objects.rows import S3UrlMatcher, rewrite_rows
from crownsafe.objects.streams import ChunkReader, Digest, digest_chunks
from crownsafe.objects.tally import MigrationOptions, MigrationTally

__all__ = [
    "ChunkReader",
    "ClientFactory",
    "Digest",
    "Ledger",
    "LedgerError",
    "MappedMetadata",
    "MetadataKeyCollisionError",
    "MigrationOptions",
    "MigrationTally",
    "ObjectMigrator",
    "S3UrlMatcher",
    "VerificationMismatch",
    "azure_metadata_key",
    "digest_chunks",
    "map_metadata",
    "rewrite_rows",
    "target_blob_name",
]
