"""`crownsafe-harness load`: the orchestration around load/locustfile.py.

One concern per module: `options` (the arguments, checked), `stack` (the target per
backend), `launch` (locust's command lines and processes), `sampling` (CPU/RSS of the
process trees), `generator` (the generator's CPU per step, saturation), `soak` (memory
growth), `progress` (live status), `runner` (one backend's run), `record` (load.json),
`verdict` (exit code, breaches, the table). The command is harness/commands/load.py.
"""

from __future__ import annotations

__all__ = [
    "generator",
    "launch",
    "options",
    "progress",
    "record",
    "runner",
    "sampling",
    "soak",
    "stack",
    "verdict",
]
