"""The environment fingerprint of a run (`environment.json`): versions, CPU, commit, date.

Benchmark numbers mean little without it: the report prints it beside every figure. It
names the SDK distributions (azure-storage-blob, boto3, botocore) only to read their
installed versions; it imports neither.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["PACKAGES", "collect_environment"]

PACKAGES = (
    "crownsafe",
    "azure-storage-blob",
    "azure-core",
    "azure-identity",
    "boto3",
    "botocore",
    "moto",
    "sqlalchemy",
    "psycopg",
    "alembic",
    "pytest",
    "pytest-xdist",
    "pytest-benchmark",
    "testcontainers",
    "tenacity",
)

_REPO_ROOT = Path(__file__).resolve().parents[1]


def _package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _azurite_version(root: Path) -> str | None:
    try:
        data = json.loads((root / "node_modules" / "azurite" / "package.json").read_text())
    except (OSError, ValueError):
        return None
    version = data.get("version")
    return str(version) if version else None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_total_bytes() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except ImportError:
        return None


def _git(root: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _command_version(argv: list[str]) -> str | None:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def collect_environment(root: Path | None = None) -> dict[str, Any]:
    """Everything that makes two runs comparable or not; no secrets, no hostnames."""
    root = root or (Path.cwd() if (Path.cwd() / "pyproject.toml").exists() else _REPO_ROOT)
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    return {
        "date": datetime.now(UTC).isoformat(),
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "platform": platform.platform(),
        "packages": _package_versions(),
        "azurite": _azurite_version(root),
        "node": _command_version(["node", "--version"]),
        "cpu": {
            "model": _cpu_model(),
            "cores": os.cpu_count(),
            "usable_cores": len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else None,
        },
        "memory_total_bytes": _memory_total_bytes(),
        "git": {
            "commit": _git(root, "rev-parse", "HEAD"),
            "dirty": bool(status) if status is not None else None,
        },
    }
