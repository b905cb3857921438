"""Stopping a harness command: SIGINT/SIGTERM reach its children and stop its services.

A command that starts processes (`run`, `bench`) runs inside `stop_on_signals()`: the first
SIGINT or SIGTERM raises `Interrupted` in the main thread, and further signals are ignored
while the command unwinds, so the clean-up that follows (stopping services by PID,
waiting for a child's teardown) is not cut short by an impatient second Ctrl-C or a CI
runner that signals twice. The command then exits `128 + signal` (130, 143), as a shell
reports a process killed by that signal.

Children (pytest, `crownsafe-harness load`) go through `run_child`: each runs in its own
process group and, when the wait for it is interrupted, gets the same signal, to the
whole group (the child pytest and its xdist workers: each runs its session teardown and
stops the emulators, PostgreSQL and Redis it started), and is waited for up to
`STOP_GRACE_S` before what is left is killed. Without this, SIGTERM killed the command at
once and left its children and services running; SIGINT made `subprocess.run` SIGKILL the
child pytest, whose workers' services then outlived it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import IO, Any

from harness.predeploy.interrupt import Interrupted

__all__ = [
    "STOP_GRACE_S",
    "STOP_SIGNALS",
    "Interrupted",
    "exit_status",
    "run_child",
    "signals_held",
    "stop_on_signals",
]

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
STOP_GRACE_S = 90.0
"""How long a signalled child may take to tear down (xdist gives its workers 10 s, LocalStack
takes ~4 s to stop) before its process group is killed."""

_FIRST_RAISES = "_crownsafe_first_raises"
_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


def exit_status(interrupted: Interrupted) -> int:
    """128 + the signal number: 130 for SIGINT, 143 for SIGTERM."""
    return 128 + interrupted.signum


@contextlib.contextmanager
def _handlers(handler: _Handler) -> Iterator[None]:
    previous = {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block the first SIGINT/SIGTERM raises `Interrupted`; later ones are ignored
    until the block is left (the clean-up runs to its end). Nested, the outer block rules
    (`bench` inside `run`: one signal, one `Interrupted`)."""
    if getattr(signal.getsignal(signal.SIGTERM), _FIRST_RAISES, False):
        yield
        return
    fired: list[int] = []

    def first_raises(signum: int, frame: FrameType | None) -> None:
        if fired:
            return
        fired.append(signum)
        raise Interrupted(signum)

    setattr(first_raises, _FIRST_RAISES, True)
    with _handlers(first_raises):
        yield


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Within the block a SIGINT/SIGTERM waits; it is acted on as the block ends.

    For the few steps that must not be split: starting a process and keeping its handle,
    starting services and handing them to whoever stops them."""
    received: list[signal.Signals] = []
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    with _handlers(lambda signum, frame: received.append(signal.Signals(signum))):
        yield
    if received:
        handler = previous[received[0]]
        if callable(handler):
            handler(received[0], None)
        elif handler == signal.SIG_DFL:
            os.kill(os.getpid(), received[0])


def _stop_group(child: subprocess.Popen[Any], signum: int, grace_s: float) -> None:
    """Pass `signum` to the child's process group, wait up to `grace_s`, then SIGKILL."""
    for sig, wait_s in ((signum, grace_s), (signal.SIGKILL, 10.0)):
        if child.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.communicate(timeout=wait_s)
    # a grandchild that left the group's leader behind must not outlive the command
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)


def run_child(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdout: int | IO[Any] | None = None,
    stderr: int | IO[Any] | None = None,
    grace_s: float = STOP_GRACE_S,
) -> subprocess.CompletedProcess[str]:
    """`subprocess.run` for a child that must stop with us (see the module docstring).

    `stdout=subprocess.PIPE` captures the child's output as text. An `Interrupted` raised
    while waiting is passed on to the child's process group, then re-raised once the child
    has ended."""
    with signals_held():
        child = subprocess.Popen(
            list(argv), cwd=cwd, env=env, stdout=stdout, stderr=stderr, text=True, process_group=0
        )
    try:
        out, err = child.communicate()
    except Interrupted as interrupted:
        _stop_group(child, interrupted.signum, grace_s)
        raise
    except BaseException:
        _stop_group(child, signal.SIGTERM, grace_s)
        raise
    return subprocess.CompletedProcess(list(argv), child.returncode, out, err)
