"""`crownsafe-harness bench` on a terminal: a live stage with the benchmarks' counts as
they come, the child's output kept in logs/benchmarks.log, its tail shown on failure."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from harness.bench import command
from harness.progress import StageView


def _report(nodeid: str, when: str, outcome: str) -> str:
    return json.dumps({"$report_type": "TestReport", "nodeid": nodeid, "when": when,
                       "outcome": outcome}) + "\n"  # fmt: skip


@pytest.mark.parametrize("exit_code", [0, 1])
def test_live_bench_counts_the_benchmarks_and_keeps_the_output_in_a_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exit_code: int
) -> None:
    seen: list[list[str]] = []

    def child(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen.append(cmd)
        [log_arg] = [a for a in cmd if a.startswith("--report-log=")]
        with Path(log_arg.split("=", 1)[1]).open("w") as log:
            log.write(_report("b.py::up[s3]", "call", "passed"))
            log.write(_report("b.py::down[s3]", "call", "failed"))
        kwargs["stdout"].write("the child's own output\n")
        return subprocess.CompletedProcess(cmd, exit_code)

    monkeypatch.setattr(command, "run_child", child)
    lines: list[str] = []
    console = Console(file=io.StringIO(), force_terminal=True)
    view = StageView(lines.append, console)
    code = command._run_benchmarks(
        tmp_path, "s3", [], profile="quick", provision="local", view=view
    )
    assert code == exit_code and len(seen) == 1
    assert lines[0].startswith("==> [1/1] benchmarks: pytest benchmarks (quick level)")
    assert "benchmarks: 1 passed, 1 failed, 0 errors, 0 skipped" in lines[1]
    log = tmp_path / "logs" / "benchmarks.log"
    assert log.read_text() == "the child's own output\n"
    shown_tail = any("the child's own output" in line for line in lines)
    assert shown_tail == (exit_code != 0), lines


def test_without_a_view_the_child_writes_straight_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Off a terminal (CI logs, pipes; also inside `run`, which has its own view): no
    report log, no redirection."""
    calls: list[tuple[list[str], dict[str, Any]]] = []

    def child(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append((cmd, kwargs))
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(command, "run_child", child)
    assert command._run_benchmarks(tmp_path, "s3", [], profile="quick", provision="local") == 0
    [(cmd, kwargs)] = calls
    assert not any(a.startswith("--report-log=") for a in cmd)
    assert "stdout" not in kwargs
