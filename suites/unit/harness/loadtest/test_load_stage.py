"""The `load` stage of `crownsafe-harness run`: the child command it starts, its verdict."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness import stages
from harness.stages import RunContext


def _ctx(tmp_path: Path, lines: list[str]) -> RunContext:
    return RunContext(
        root=tmp_path, run_dir=tmp_path / "run", backends=["azure", "s3"], mode="local",
        print=lines.append,
    )  # fmt: skip


@pytest.mark.parametrize(("code", "ok"), [(0, True), (1, False), (3, False)])
def test_load_stage_runs_the_load_command_into_the_run_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, ok: bool
) -> None:
    seen: list[list[str]] = []
    breaches = ["s3: SLO breached: Aggregated p95_ms <= 1 (measured 9)"] if code == 1 else []

    def fake_run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen.append(command)
        assert kwargs["env"]["HARNESS_RUN_DIR"] == str(tmp_path / "run")
        return subprocess.CompletedProcess(command, code, json.dumps({"breaches": breaches}))

    monkeypatch.setattr("harness.stages.run_child", fake_run)
    lines: list[str] = []
    result = stages.STAGES["load"].run(_ctx(tmp_path, lines))
    assert result.ok is ok and f"load exit {code}" in result.detail
    (command,) = seen
    assert command[1:4] == ["-m", "harness.cli", "load"]
    assert command[command.index("--run-dir") + 1] == str(tmp_path / "run")
    assert [command[i + 1] for i, a in enumerate(command) if a == "--backend"] == ["azure", "s3"]
    assert "--json" in command and "--duration" in command
    assert all(b in "\n".join(lines) for b in breaches)


def test_load_runs_after_the_benchmarks_and_before_the_report() -> None:
    order = list(stages.DEFAULT_STAGES)
    assert order.index("benchmarks") < order.index("load") < order.index("report")
