"""`crownsafe-cutover`: move the fleet through the live S3 -> Azure cut-over.

    crownsafe-cutover status [--json]
    crownsafe-cutover set-phase PHASE [--note TEXT] [--force]

Every app and worker running with `STORAGE_MIGRATION_PHASE=live` follows the phase log
in DATABASE_URL's `storage_migration_phase` table within STORAGE_MIGRATION_PHASE_TTL
seconds. Phases move one step at a time (dual-write, backfill, azure-reads, azure-only),
forward or back (docs/migration-guide.md says when each step is safe). Exit status: 0
done, 1 a refused step (the message says why and what to do), 2 a usage or
configuration error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from crownsafe.cli_output import json_stdout
from crownsafe.config import load_settings
from crownsafe.cutover.phases import MigrationPhase, parse_phase
from crownsafe.cutover.state import PhaseTransitionError, phase_history, set_phase
from crownsafe.db.session import describe_database_error, make_engine
from crownsafe.errors import StorageConfigError

__all__ = ["build_parser", "main"]


def _phase(text: str) -> MigrationPhase:
    try:
        return parse_phase(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crownsafe-cutover",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--database-url", help="default: DATABASE_URL")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    status = commands.add_parser("status", help="the phase in force and every change")
    status.add_argument("--json", action="store_true", help="one JSON object on stdout")
    step = commands.add_parser("set-phase", help="enter a phase (one step either way)")
    step.add_argument("phase", type=_phase, help="dual-write, backfill, azure-reads, azure-only")
    step.add_argument("--note", help="why (kept in the phase log)")
    step.add_argument(
        "--force", action="store_true", help="step back to S3 reads after azure-only anyway"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        url = args.database_url or load_settings().database_url.get()
        if not url:
            raise StorageConfigError("DATABASE_URL is not set", hint="export DATABASE_URL")
        engine = make_engine(url)
    except StorageConfigError as exc:
        print(f"crownsafe-cutover: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command == "status":
            history = phase_history(engine)
            with json_stdout(args.json) as out:
                if args.json:
                    out.emit(
                        {
                            "phase": history[-1].phase.value if history else None,
                            "history": [
                                {
                                    "phase": c.phase.value,
                                    "changed_at": c.changed_at.isoformat(),
                                    "note": c.note,
                                }
                                for c in history
                            ],
                        }
                    )
                else:
                    for change in history:
                        note = f"  ({change.note})" if change.note else ""
                        print(f"{change.changed_at:%Y-%m-%d %H:%M:%S%z}  {change.phase}{note}")
                    if not history:
                        print(
                            "no cut-over phase set (the mode is off until `set-phase dual-write`)"
                        )
            return 0
        change = set_phase(engine, args.phase, note=args.note, force=args.force)
        print(f"cut-over: {change.phase} in force from {change.changed_at:%H:%M:%S%z}")
        return 0
    except PhaseTransitionError as exc:
        print(f"crownsafe-cutover: refused: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"crownsafe-cutover: {describe_database_error(exc)}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
