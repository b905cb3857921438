"""One backend list, and a docstring plus `__all__` in every package of the project.

The backend names are defined once (`crownsafe.config.BACKENDS`, from the `Backend`
Literal); a module that spells the tuple out again would drift when a backend is added.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

import pytest

from crownsafe.config import BACKENDS, Backend

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("crownsafe", "harness", "load")


def _sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def test_the_backend_constants_are_the_config_s() -> None:
    from harness.loadtest.options import BACKEND_CHOICES, LoadOptions
    from harness.report import labels
    from harness.runfolder.benchmarks import BACKEND_NAMES

    assert labels.BACKENDS is BACKENDS
    assert BACKEND_NAMES is BACKENDS
    assert LoadOptions().backends is BACKENDS
    assert BACKEND_CHOICES[:-1] == BACKENDS
    assert BACKEND_CHOICES[-1] == "both"


def _spelled_backend_lists(tree: ast.AST) -> list[int]:
    """Lines of a tuple, list or set of exactly the backend names (not a `Literal[...]`)."""
    literal_args = {
        id(node.slice)
        for node in ast.walk(tree)
        if isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name | ast.Attribute)
        and (node.value.id if isinstance(node.value, ast.Name) else node.value.attr) == "Literal"
    }
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Tuple | ast.List | ast.Set) or id(node) in literal_args:
            continue
        if not all(isinstance(e, ast.Constant) for e in node.elts):
            continue
        values = tuple(e.value for e in node.elts if isinstance(e, ast.Constant))
        # A set in any order; a sequence in BACKENDS' order (a table that puts S3 first,
        # harness/report/view/figures.py, names its own column order, not the list).
        if (set(values) == set(BACKENDS)) if isinstance(node, ast.Set) else values == BACKENDS:
            lines.append(node.lineno)
    return lines


def test_no_module_spells_the_backend_tuple_out_again() -> None:
    config = ROOT / "crownsafe" / "config.py"
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _sources()
        if path != config
        for line in _spelled_backend_lists(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert get_args(Backend) == BACKENDS
    assert found == [], "import crownsafe.config.BACKENDS instead"


def test_the_backend_check_finds_a_copy() -> None:
    copies = ast.parse('A = ("azure", "s3")\nB = {"s3", "azure"}\nC: Literal["azure", "s3"]\n')
    assert _spelled_backend_lists(copies) == [1, 2]


@pytest.mark.parametrize(
    "init",
    sorted(
        p.relative_to(ROOT).as_posix()
        for pkg in PACKAGES
        for p in (ROOT / pkg).rglob("__init__.py")
    ),
)
def test_every_package_has_a_docstring_and_all(init: str) -> None:
    tree = ast.parse((ROOT / init).read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{init} has no docstring"
    assigned = {
        t.id
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(t, ast.Name)
    }
    assert "__all__" in assigned, f"{init} has no __all__"
