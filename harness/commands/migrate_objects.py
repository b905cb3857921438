"""`crownsafe-harness migrate-objects`: the product's `crownsafe-migrate-objects`, as a command.

The arguments and the run are crownsafe's own (`crownsafe.objects.cli`); this module only
hangs them under the harness's command line.
"""

from __future__ import annotations

import argparse

from crownsafe.objects import cli as objects_cli

__all__ = ["register"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `migrate-objects` to the `crownsafe-harness` sub-commands."""
    parser = commands.add_parser(
        "migrate-objects",
        help="copy an S3 bucket into an Azure container (resumable)",
        description=objects_cli.DESCRIPTION,
    )
    objects_cli.configure_parser(parser)
    parser.set_defaults(handler=objects_cli.run)
