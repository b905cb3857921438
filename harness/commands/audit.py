"""`crownsafe-harness audit`: read the blob audit trail (`blob_audit_log`).

Filters by user, blob (exact, or a prefix ending in `*`), operation, outcome, correlation
id and time (`--since` / `--until`: ISO 8601 or an age such as 15m, 2h, 7d). Prints a
table, or with `--json` one JSON document (`{"rows": [...]}`) and nothing else on stdout.
The database is DATABASE_URL's (the app's). Exit status: 0 (rows or not), 2 for bad
arguments or an unreachable database (the message says which and what to set).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from crownsafe.cli_arguments import positive_int

__all__ = ["register", "run"]

COLUMNS = ("occurred_at", "operation", "outcome", "user_id", "client_ip", "blob_name",
           "size_bytes", "correlation_id")  # fmt: skip


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from crownsafe.db.models import AUDIT_OPERATIONS, AUDIT_OUTCOMES

    parser = commands.add_parser(
        "audit",
        help="read the blob audit trail (who did what to which blob)",
        description="Rows of blob_audit_log (DATABASE_URL), oldest first; the newest "
        "--limit of them when more match.",
    )
    parser.add_argument("--user", type=positive_int, help="only this user id")
    parser.add_argument("--blob", help="only this blob name (a trailing * matches a prefix)")
    parser.add_argument("--operation", choices=AUDIT_OPERATIONS, help="only this operation")
    parser.add_argument("--outcome", choices=AUDIT_OUTCOMES, help="only this outcome")
    parser.add_argument("--correlation-id", help="only this request's correlation id")
    parser.add_argument("--since", help="from this time: ISO 8601 or an age (90s, 15m, 2h, 7d)")
    parser.add_argument("--until", help="before this time: ISO 8601 or an age")
    parser.add_argument(
        "--limit", type=positive_int, default=100, help="at most this many rows (default 100)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document only")
    parser.set_defaults(handler=run)


def _table(rows: list[dict[str, Any]]) -> str:
    cells = [[("" if row[c] is None else str(row[c])) for c in COLUMNS] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(COLUMNS)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from crownsafe.audit_query import AuditQuery, find_audit_rows, parse_when, row_dict
    from crownsafe.cli_output import json_stdout
    from crownsafe.db.session import (
        DatabaseConfigError,
        database_url_from_env,
        describe_database_error,
        make_engine,
        make_session_factory,
    )

    try:
        query = AuditQuery(
            user_id=args.user,
            blob_name=args.blob,
            operation=args.operation,
            outcome=args.outcome,
            correlation_id=args.correlation_id,
            since=parse_when(args.since) if args.since else None,
            until=parse_when(args.until) if args.until else None,
            limit=args.limit,
        )
        url = database_url_from_env()
    except (ValueError, DatabaseConfigError) as exc:
        print(f"audit: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(url)
    try:
        with json_stdout(args.json) as out, make_session_factory(engine)() as session:
            rows = [row_dict(row) for row in find_audit_rows(session, query)]
            if args.json:
                out.emit({"rows": rows})
            elif rows:
                out.emit(_table(rows))
            else:
                print("audit: no row matches", file=sys.stderr)
    except SQLAlchemyError as exc:
        print(f"audit: {describe_database_error(exc)}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0
