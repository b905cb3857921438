"""harness.stopping: one signal, one `Interrupted`; a held signal waits; a child gets it.

Signals are sent to this very process (os.kill), from a helper thread that first waits
until the child says it is ready, so nothing depends on timing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from harness.stopping import (
    Interrupted,
    exit_status,
    run_child,
    signals_held,
    stop_on_signals,
)

CHILD = """
import os, signal, subprocess, sys
from pathlib import Path
out = Path(sys.argv[1])
grandchild = subprocess.Popen(
    [sys.executable, "-c", "import signal; print('up', flush=True); signal.pause()"],
    stdout=subprocess.PIPE,
)
grandchild.stdout.readline()  # "ready" only once the grandchild is past its start-up
def stop(signum, frame):
    try:  # the group's own signal ends it; terminate() only if it did not
        grandchild.wait(timeout=10)
    except subprocess.TimeoutExpired:
        grandchild.terminate()
        grandchild.wait()
    out.write_text(f"{signal.Signals(signum).name} {grandchild.returncode}")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
draft = Path(sys.argv[2] + ".draft")  # renamed: "ready" never seen half-written
draft.write_text(str(grandchild.pid))
draft.rename(sys.argv[2])
signal.pause()  # until the signal under test
"""


def test_the_first_signal_raises_and_a_second_one_is_ignored() -> None:
    unwound: list[str] = []
    with pytest.raises(Interrupted) as caught, stop_on_signals():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
        finally:
            os.kill(os.getpid(), signal.SIGINT)  # while unwinding: ignored
            unwound.append("clean-up ran to its end")
    assert caught.value.signum == signal.SIGTERM
    assert exit_status(caught.value) == 143
    assert unwound == ["clean-up ran to its end"]


def test_nested_blocks_raise_once() -> None:
    with pytest.raises(Interrupted) as caught, stop_on_signals():
        try:
            with stop_on_signals():
                os.kill(os.getpid(), signal.SIGINT)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # the outer block ignores it too
    assert exit_status(caught.value) == 130


def test_a_held_signal_acts_when_the_block_ends() -> None:
    steps: list[str] = []
    with pytest.raises(Interrupted), stop_on_signals():
        with signals_held():
            os.kill(os.getpid(), signal.SIGTERM)
            steps.append("the held block finished")
        steps.append("never reached")
    assert steps == ["the held block finished"]


def test_the_handlers_are_given_back() -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with stop_on_signals():
        pass
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_an_interrupted_wait_passes_the_signal_to_the_childs_group(
    tmp_path: Path, signum: signal.Signals
) -> None:
    """The child (and its group) get the same signal; we return only after it ended."""
    script, seen, ready = tmp_path / "child.py", tmp_path / "seen", tmp_path / "ready"
    script.write_text(CHILD)

    def signal_when_ready() -> None:
        while not ready.exists():
            threading.Event().wait(0.01)
        os.kill(os.getpid(), signum)

    sender = threading.Thread(target=signal_when_ready, daemon=True)
    with pytest.raises(Interrupted) as caught, stop_on_signals():
        sender.start()
        run_child([sys.executable, str(script), str(seen), str(ready)])
    sender.join(timeout=10)
    assert caught.value.signum == signum
    # the grandchild, in the child's group, got the signal itself (not only the child's
    # terminate() that follows)
    assert seen.read_text() == f"{signum.name} {-signum}"
    with pytest.raises(ProcessLookupError):
        os.kill(int(ready.read_text()), 0)


def test_a_child_runs_in_its_own_process_group(tmp_path: Path) -> None:
    """So a terminal's Ctrl-C reaches it once, through us."""
    done = run_child(
        [sys.executable, "-c", "import os; print(os.getpgid(0))"], stdout=subprocess.PIPE
    )
    assert done.returncode == 0
    assert int(done.stdout) != os.getpgid(0)
