"""`crownsafe-migrate-objects`: copy an S3 bucket into an Azure container, then fix the rows.

Usage (settings from the environment, as for the app):

    DATABASE_URL=... S3_ENDPOINT_URL=... AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \\
    AZURE_STORAGE_CONNECTION_STRING=... crownsafe-migrate-objects \\
        --source-bucket crownsafe-images --target-container crownsafe-images [--dry-run]

The database must be at the Alembic head (`alembic upgrade head`): progress is kept in
`object_migration`, so a killed run resumes without copying twice and a finished
migration re-run copies nothing. Progress goes to stderr; a summary of the counts is
printed to stdout, or with `--json` the tally as one JSON object and nothing else (keys:
`JSON_HELP`); `--tally PATH` also writes that JSON to PATH. Exit status: 0 when every
object is verified (or for a dry run), 1 when objects failed or mismatched, 2 for
configuration errors (among them AZURE_BLOB_ENABLED=false: the migration writes to Azure,
so it refuses to run; a dry run only notes it).

`configure_parser` and `run` are public so that another command line (the harness's
`migrate-objects` command) can offer the same arguments and behaviour under its own parser.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from crownsafe.cli_arguments import positive_int
from crownsafe.cli_output import dumps, json_stdout
from crownsafe.config import Settings, load_settings
from crownsafe.db.session import DatabaseConfigError, describe_database_error, make_engine
from crownsafe.errors import StorageError, StorageWritesDisabledError
from crownsafe.objects import (
    ClientFactory,
    LedgerError,
    MigrationOptions,
    MigrationTally,
    ObjectMigrator,
)
from crownsafe.redaction import redact
from crownsafe.storage.base import StorageClient

__all__ = ["DESCRIPTION", "JSON_HELP", "build_parser", "configure_parser", "main", "run"]

DESCRIPTION = (
    "Copy every object of an S3 bucket into an Azure Blob container, verify each copy "
    "(size + sha256), and rewrite the rows that point at S3. Progress goes to stderr, a "
    "summary (or, with --json, the JSON tally) to stdout. Exit 0: every object verified "
    "(or a dry run); 1: objects failed or mismatched; 2: configuration error."
)
JSON_HELP = (
    "print the tally as one JSON object on stdout instead of the summary, nothing else "
    "(progress goes to stderr). Keys: source, target, dry_run, ok, objects, bytes; the "
    "real run's copied, copied_bytes, adopted, skipped, failed, mismatches, "
    "verified_total, metadata_keys_renamed, blob_names_mapped, url_rows_rewritten and "
    "url_rows_unresolved (per table, with total), unresolved_sample, failures (key, "
    "error), mb_per_s, objects_per_s; the dry run's would_copy, would_copy_bytes, "
    "would_rename_metadata_keys, would_fail (0 in a real run) and plan; duration_s, "
    "copy_duration_s; exit_code. A configuration error prints {ok: false, exit_code: 2, "
    "error: why}. No credential appears in it"
)


def build_parser() -> argparse.ArgumentParser:
    """The `crownsafe-migrate-objects` parser."""
    parser = argparse.ArgumentParser(prog="crownsafe-migrate-objects", description=DESCRIPTION)
    configure_parser(parser)
    return parser


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the migration's arguments to `parser` (this tool's own, or a sub-command's)."""
    parser.add_argument("--source-bucket", help="S3 bucket (default: S3_BUCKET)")
    parser.add_argument(
        "--target-container", help="Azure container (default: AZURE_STORAGE_CONTAINER)"
    )
    parser.add_argument("--database-url", help="default: DATABASE_URL")
    parser.add_argument(
        "--workers", type=positive_int, default=8, help="parallel copies (default 8)"
    )
    parser.add_argument("--max-attempts", type=positive_int, default=3, help="tries per object")
    parser.add_argument("--dry-run", action="store_true", help="list what would happen only")
    parser.add_argument(
        "--url-style",
        choices=("https", "blob"),
        default="https",
        help="rewritten URLs: the blob's https URL (default) or blob://container/name",
    )
    parser.add_argument(
        "--s3-url-endpoint",
        action="append",
        default=[],
        help="an S3 endpoint whose path-style URLs rows may hold (S3_ENDPOINT_URL is included)",
    )
    parser.add_argument("--no-rewrite-urls", action="store_true", help="copy objects only")
    parser.add_argument("--progress-every", type=positive_int, default=100, help="objects per line")
    parser.add_argument("--tally", type=Path, help="also write the JSON tally here")
    parser.add_argument("--json", action="store_true", help=JSON_HELP)


def _factories(
    settings: Settings, bucket: str, container: str
) -> tuple[ClientFactory, ClientFactory]:
    def source() -> StorageClient:
        from crownsafe.storage.s3 import S3StorageClient

        return S3StorageClient(bucket_name=bucket, settings=settings, read_legacy_keys=True)

    def target() -> StorageClient:
        from crownsafe.storage.azure import AzureBlobStorageClient

        return AzureBlobStorageClient(container_name=container, settings=settings)

    return source, target


def _options(args: argparse.Namespace, settings: Settings) -> MigrationOptions:
    endpoints = tuple(args.s3_url_endpoint) + (
        (settings.s3_endpoint_url,) if settings.s3_endpoint_url else ()
    )
    return MigrationOptions(
        source_bucket=args.source_bucket or settings.s3_bucket,
        target_container=args.target_container or settings.azure_storage_container,
        workers=max(1, args.workers),
        dry_run=args.dry_run,
        max_attempts=max(1, args.max_attempts),
        url_style=args.url_style,
        s3_endpoints=endpoints,
        rewrite_urls=not args.no_rewrite_urls,
        progress_every=max(1, args.progress_every),
    )


def _check_azure_writes(settings: Settings, dry_run: bool) -> None:
    """The migration writes to Azure: refuse when AZURE_BLOB_ENABLED is false (a dry run
    writes nothing, so it only says so)."""
    if settings.azure_blob_enabled:
        return
    if dry_run:
        print(
            "crownsafe-migrate-objects: note: AZURE_BLOB_ENABLED is false; the real run "
            "would refuse to write to Azure until it is true",
            file=sys.stderr,
        )
        return
    raise StorageWritesDisabledError(
        "AZURE_BLOB_ENABLED is false, so writes to Azure are off and the migration (which "
        "copies into an Azure container) cannot run",
        backend="azure",
        operation="migrate_objects",
        hint="set AZURE_BLOB_ENABLED=true (or run with --dry-run to see what would happen)",
    )


def _migrate(args: argparse.Namespace) -> MigrationTally:
    settings = load_settings()
    _check_azure_writes(settings, args.dry_run)
    options = _options(args, settings)
    engine = make_engine(
        args.database_url or settings.database_url.get() or None,
        pool_size=options.workers + 2,  # one per worker, the run lock, the main thread
    )
    try:
        source, target = _factories(settings, options.source_bucket, options.target_container)
        if not options.dry_run:
            client = target()
            try:
                client.create_container(exist_ok=True)
            finally:
                client.close()
        return ObjectMigrator(options, engine, source, target).run()
    finally:
        engine.dispose()


def _summary(tally: MigrationTally) -> list[str]:
    """The counts a person reads, one line each (the JSON tally has them all)."""
    head = f"{tally.source} -> {tally.target}: {tally.objects} object(s), {tally.bytes} B"
    if tally.dry_run:
        return [
            f"dry run, nothing changed. {head}",
            f"  would copy {tally.would_copy} ({tally.would_copy_bytes} B), rename "
            f"metadata keys on {tally.would_rename_metadata_keys}, fail "
            f"{tally.would_fail}",
        ]
    rows = sum(tally.url_rows_rewritten.values())
    unresolved = sum(tally.url_rows_unresolved.values())
    lines = [
        head,
        f"  copied {tally.copied} ({tally.copied_bytes} B), adopted {tally.adopted}, "
        f"skipped {tally.skipped}, failed {tally.failed}, mismatches {tally.mismatches}",
        f"  verified {tally.verified_total} of {tally.objects}; metadata keys renamed on "
        f"{tally.metadata_keys_renamed}; rows rewritten {rows}, unresolved {unresolved}",
    ]
    lines += [f"  FAILED {f.get('key', '?')}: {f.get('error', '')}" for f in tally.failures]
    lines.append(f"migrate-objects: {'ok' if tally.ok else 'NOT ok'} in {tally.duration_s:.1f} s")
    return lines


def _database_url(args: argparse.Namespace) -> str | None:
    """The URL the run connects to (for error messages; the password is never shown)."""
    try:
        return str(args.database_url or load_settings().database_url.get() or "") or None
    except Exception:
        return None


def run(args: argparse.Namespace) -> int:
    """Migrate as `args` (parsed by a `configure_parser` parser) say; the exit status."""
    with json_stdout(args.json) as out:
        try:
            tally = _migrate(args)
        except (DatabaseConfigError, LedgerError, StorageError, SQLAlchemyError) as exc:
            reason = (
                describe_database_error(exc, _database_url(args))
                if isinstance(exc, SQLAlchemyError)
                else str(exc)
            )
            message = redact(f"crownsafe-migrate-objects: {reason}")
            print(message, file=sys.stderr)
            if out.enabled:
                out.emit({"ok": False, "exit_code": 2, "error": message})
            return 2
        code = 0 if tally.ok else 1
        document = {**tally.to_dict(), "exit_code": code}
        if args.tally:
            args.tally.parent.mkdir(parents=True, exist_ok=True)
            args.tally.write_text(dumps(document), encoding="utf-8")
        if out.enabled:
            out.emit(document)
        else:
            print("\n".join(_summary(tally)))
            if args.tally:
                print(f"tally: {args.tally}")
        return code


def main(argv: Sequence[str] | None = None) -> int:
    """`crownsafe-migrate-objects`."""
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
