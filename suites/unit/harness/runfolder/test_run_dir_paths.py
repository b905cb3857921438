"""The one resolver of the run folder: explicit, then HARNESS_RUN_DIR, then a new one."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from harness.runfolder.paths import new_run_dir, resolve_run_dir

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def test_explicit_wins_over_the_environment(tmp_path: Path) -> None:
    env = {"HARNESS_RUN_DIR": str(tmp_path / "from-env")}
    assert resolve_run_dir(tmp_path / "explicit", env) == (tmp_path / "explicit").resolve()
    assert (tmp_path / "explicit").is_dir() and not (tmp_path / "from-env").exists()


def test_the_environment_names_the_folder_when_nothing_explicit(tmp_path: Path) -> None:
    env = {"HARNESS_RUN_DIR": str(tmp_path / "from-env")}
    assert resolve_run_dir(None, env) == (tmp_path / "from-env").resolve()


def test_otherwise_a_new_timestamped_folder_and_latest_points_at_it(tmp_path: Path) -> None:
    env = {"HARNESS_REPORTS_DIR": str(tmp_path)}
    run = resolve_run_dir(None, env)
    assert run.parent == tmp_path / "runs"
    assert (tmp_path / "latest").resolve() == run.resolve()


def test_new_run_dirs_never_collide(tmp_path: Path) -> None:
    first, second = new_run_dir(tmp_path, now=NOW), new_run_dir(tmp_path, now=NOW)
    assert (first.name, second.name) == ("20261201T093000Z", "20261201T093000Z-2")


def test_resolving_never_changes_the_callers_environment(tmp_path: Path) -> None:
    before = dict(os.environ)
    resolve_run_dir(None, {"HARNESS_REPORTS_DIR": str(tmp_path)})
    resolve_run_dir(tmp_path / "x")
    assert dict(os.environ) == before
