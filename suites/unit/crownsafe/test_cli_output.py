"""`crownsafe.cli_output.json_stdout`: with it on, stdout holds the one JSON document;
prints, and child processes that inherit stdout, land on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import subprocess, sys
    from crownsafe.cli_output import json_stdout
    enabled = sys.argv[1] == "on"
    with json_stdout(enabled) as out:
        print("a progress line")
        subprocess.run([sys.executable, "-c", "print('the child says hi')"], check=True)
        out.emit({"b": 1, "a": [1, 2]})
    print("after the block")
    """
)


def _run(mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True
    )


def test_on_stdout_is_the_document_and_everything_else_is_on_stderr() -> None:
    result = _run("on")
    document, _, after = result.stdout.partition("}\n")
    assert json.loads(document + "}") == {"a": [1, 2], "b": 1}
    assert after == "after the block\n", "stdout is back to normal after the block"
    assert "a progress line" in result.stderr and "the child says hi" in result.stderr


def test_off_everything_stays_on_stdout() -> None:
    result = _run("off")
    assert "a progress line" in result.stdout and "the child says hi" in result.stdout
    assert '"a": [' in result.stdout and result.stderr == ""
