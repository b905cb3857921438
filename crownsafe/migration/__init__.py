"""Object migration from S3 to Azure Blob Storage (see crownsafe.migrate_objects)."""

from crownsafe.migration.copier import ClientFactory, ObjectMigrator, VerificationMismatch
from crownsafe.migration.keys import (
    MappedMetadata,
    MetadataKeyCollisionError,
    azure_metadata_key,
    map_metadata,
    target_blob_name,
)
from crownsafe.migration.ledger import Ledger, LedgerError
from crownsafe.migration.report import MigrationOptions, MigrationReport
from crownsafe.migration.rows import S3UrlMatcher, rewrite_rows
from crownsafe.migration.streams import ChunkReader, Digest, digest_chunks

__all__ = [
    "ChunkReader",
    "ClientFactory",
    "Digest",
    "Ledger",
    "LedgerError",
    "MappedMetadata",
    "MetadataKeyCollisionError",
    "MigrationOptions",
    "MigrationReport",
    "ObjectMigrator",
    "S3UrlMatcher",
    "VerificationMismatch",
    "azure_metadata_key",
    "digest_chunks",
    "map_metadata",
    "rewrite_rows",
    "target_blob_name",
]
