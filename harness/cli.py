"""`crownsafe-harness`: run the whole verification, start services, render reports.

crownsafe-harness run [--backends azure,s3] [--provision local] [--full] [--json] [-- PYTEST_ARGS]
crownsafe-harness services up [--services azure,s3,redis] [--with-app [--backend azure|s3]] [--json]
crownsafe-harness token --user ID [--ttl SECONDS]   (harness.commands.token)
crownsafe-harness report RUN_DIR [--baseline RUN_DIR] [--json]
crownsafe-harness bench [--gate-only] [--json] ...    (harness.bench.command)
crownsafe-harness migrate-objects [--dry-run] [--json] ...  (-> crownsafe.objects.cli)
crownsafe-harness predeploy [--json [PATH]] [--junit-xml PATH] [--dry-run]  (harness.predeploy)
crownsafe-harness load [--backend azure|s3|both] [--duration 20s] ...  (harness.loadtest)
crownsafe-harness cutover [--objects 2000] [--json]   (harness.cutover: the live cut-over drill)
crownsafe-harness inspect-url URL [--json]   (what a SAS / presigned URL grants; our key signed it?)
crownsafe-harness audit [--user ID] [--blob NAME] [--operation OP] [--since 2h] [--json]

`--json` means one JSON object on stdout and nothing else (crownsafe.cli_output); each
command's `--help` lists its keys. Shared argument types: harness.commands.arguments.

Adding a command: write a module (e.g. `harness/commands/token.py`) with

    def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        parser = commands.add_parser("token", help="...", description="...")
        parser.add_argument("--flag", help="...")  # help on every argument
        parser.set_defaults(handler=_token)       # _token(args: Namespace) -> int

and add the module to `COMMANDS`. `main` parses once and calls the chosen handler; its
return value is the exit status. Keep heavy imports inside the handler when only that
command needs them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Protocol

from harness.bench import command as bench
from harness.commands import (
    audit,
    cutover,
    inspect_url,
    load,
    migrate_objects,
    predeploy,
    report,
    run,
    services,
    token,
)

__all__ = ["COMMANDS", "CommandModule", "build_parser", "main", "unrecognized"]


class CommandModule(Protocol):
    """A module that adds one sub-command to `crownsafe-harness`."""

    def register(self, commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        """Add the command's parser and `set_defaults(handler=...)`."""


COMMANDS: tuple[CommandModule, ...] = (
    run,
    services,
    report,
    bench,
    migrate_objects,
    predeploy,
    token,
    load,
    cutover,
    audit,
    inspect_url,
)


def build_parser() -> argparse.ArgumentParser:
    """The `crownsafe-harness` parser with every module of `COMMANDS` registered."""
    parser = argparse.ArgumentParser(
        prog="crownsafe-harness",
        description="Crown Safe verification and benchmark harness (Azure Blob and S3).",
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help="the command to run"
    )
    for module in COMMANDS:
        module.register(commands)
    return parser


def _relax(parser: argparse.ArgumentParser) -> None:
    """Make every argument of `parser` and of its sub-parsers optional, recursively."""
    for action in parser._actions:
        action.required = False
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _relax(child)


def unrecognized(argv: Sequence[str]) -> list[str]:
    """The arguments of `argv` that no parser of the tree knows, in order.

    argparse checks required arguments before it reports unknown ones, so a typo such as
    `crownsafe-harness --bogus` or `token --bogus` used to be answered with "required:
    COMMAND" / "required: --user", which names the wrong thing. A probe parse with nothing
    required finds the unknown arguments first.
    """
    probe = build_parser()
    _relax(probe)
    _, extras = probe.parse_known_args(list(argv))
    return extras


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` (default: sys.argv[1:]) and run the chosen command; its exit status.

    An unknown argument is a usage error (exit 2) that names it, before or after the command.
    """
    arguments = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    unknown = unrecognized(arguments)
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args = parser.parse_args(arguments)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
