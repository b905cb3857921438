"""Every data file the packages read at run time ships with them (pyproject package-data).

An editable install finds any file in the tree; a wheel holds only the `.py` files and
what `[tool.setuptools.package-data]` names. A file missing there works in this checkout
and fails on a user's `pip install .` (a run profile, a template, a migration).
"""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("crownsafe", "harness")
NOT_DATA = {".py", ".pyc", ".pyi"}


def _declared() -> dict[str, list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    data: dict[str, list[str]] = config["tool"]["setuptools"]["package-data"]
    return data


def _shipped(path: Path, declared: dict[str, list[str]]) -> bool:
    relative = path.relative_to(ROOT)
    for package, patterns in declared.items():
        folder = Path(*package.split("."))
        if folder not in relative.parents:
            continue
        inside = relative.relative_to(folder).as_posix()
        if any(fnmatch(inside, pattern) for pattern in patterns):
            return True
    return False


def test_every_data_file_of_the_packages_is_declared() -> None:
    declared = _declared()
    files = [
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*")
        if path.is_file() and path.suffix not in NOT_DATA and "__pycache__" not in path.parts
    ]
    assert files, "found no data files at all: the walk is broken"
    missing = [str(p.relative_to(ROOT)) for p in files if not _shipped(p, declared)]
    assert not missing, f"add these to [tool.setuptools.package-data] in pyproject.toml: {missing}"
