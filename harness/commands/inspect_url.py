"""`crownsafe-harness inspect-url URL`: what a SAS or presigned URL grants, until when, and
whether our key signed it (crownsafe.storage.url_inspect).

The keys come from the environment as the app reads them: AZURE_STORAGE_ACCOUNT_KEY or the
AccountKey of AZURE_STORAGE_CONNECTION_STRING, and AWS_SECRET_ACCESS_KEY. Neither the keys
nor the URL's signature are ever printed. Exit status: 0 when the signature verifies, 1
when it does not (tampered, expired keys, another account), 3 when it could not be
checked (no key), 2 for a URL that is neither kind.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["register", "run"]

EXIT = {"verified": 0, "does not verify": 1, "not checked": 3}


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "inspect-url",
        help="read a SAS or presigned URL: object, permissions, expiry, signature check",
        description="Say what an Azure SAS or S3 presigned URL grants and until when, and "
        "whether the configured key signed it (exit 0 verified, 1 not, 3 not checked).",
    )
    parser.add_argument("url", help="the URL (quote it: it holds & characters)")
    parser.add_argument("--json", action="store_true", help="print one JSON document only")
    parser.set_defaults(handler=run)


def _keys() -> tuple[str | None, str | None]:
    from crownsafe.storage.azure._auth import parse_connection_string
    from harness.settings import process_environment

    env = process_environment()
    azure = env.get("AZURE_STORAGE_ACCOUNT_KEY") or None
    if azure is None and env.get("AZURE_STORAGE_CONNECTION_STRING"):
        parts = parse_connection_string(env["AZURE_STORAGE_CONNECTION_STRING"])
        azure = parts.get("ACCOUNTKEY") or None
    return azure, env.get("AWS_SECRET_ACCESS_KEY") or None


def run(args: argparse.Namespace) -> int:
    from crownsafe.cli_output import json_stdout
    from crownsafe.errors import ConfigError
    from crownsafe.redaction import redact
    from crownsafe.storage.url_inspect import inspect_url

    try:
        azure_key, s3_key = _keys()
    except ConfigError as exc:
        print(f"inspect-url: {exc}", file=sys.stderr)
        return 2
    try:
        seen = inspect_url(args.url, azure_account_key=azure_key, s3_secret_key=s3_key)
    except (ValueError, KeyError) as exc:
        print(f"inspect-url: {redact(str(exc))}", file=sys.stderr)
        return 2
    with json_stdout(args.json) as out:
        if args.json:
            out.emit(seen.as_dict())
        else:
            start = seen.start.isoformat() if seen.start else "(none)"
            state = "EXPIRED" if seen.expired else f"{seen.remaining_seconds:.0f} s left"
            lines = [
                f"kind:        {seen.kind}",
                f"object:      {seen.container}/{seen.blob_name}",
                f"url:         {seen.url}",
                f"permissions: {', '.join(seen.permissions) or '(none verified)'}",
                f"valid:       {start} .. {seen.expiry.isoformat()} ({state})",
                f"signature:   {seen.signature} ({seen.signature_detail})",
            ]
            out.emit("\n".join(lines))
    return EXIT[seen.signature]
