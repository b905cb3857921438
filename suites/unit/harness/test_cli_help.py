"""Every command and argument of `crownsafe-harness` explains itself in `--help`."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from harness.cli import build_parser


def _walk(parser: argparse.ArgumentParser, path: str) -> Iterator[tuple[str, argparse.Action]]:
    """(where, action) for every action of `parser` and of its sub-parsers, recursively."""
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        yield path, action
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                yield f"{path} {choice.dest}", choice
            for name, child in action.choices.items():
                yield from _walk(child, f"{path} {name}")


def _label(action: argparse.Action) -> str:
    return "/".join(action.option_strings) or str(action.metavar or action.dest)


def test_every_command_and_argument_has_a_help_text() -> None:
    """No action of the parser tree (sub-commands included) lacks a help text (-h aside)."""
    actions = list(_walk(build_parser(), "crownsafe-harness"))
    missing = [
        f"{where}: {_label(action)}"
        for where, action in actions
        if not (action.help and action.help.strip()) or action.help == argparse.SUPPRESS
    ]
    assert len(actions) > 20, f"the walk found only {len(actions)} actions"
    assert not missing, "actions without a help text:\n" + "\n".join(missing)
