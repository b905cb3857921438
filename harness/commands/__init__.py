"""The `crownsafe-harness` commands, one module each.

Each module exposes `register(commands)`, which adds its sub-parser (help on the command
and on every argument) with `set_defaults(handler=...)`; `harness.cli` lists the modules.
The `bench` command lives with the benchmark code, in `harness.bench.command`.
"""

from __future__ import annotations

__all__ = [
    "app_up",
    "arguments",
    "audit",
    "inspect_url",
    "migrate_objects",
    "report",
    "run",
    "services",
    "token",
]
