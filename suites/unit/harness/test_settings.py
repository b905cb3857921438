"""The harness's settings: declared once, read once, and the README's table is theirs."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from harness.settings import SETTINGS, HarnessSettings, default_of, read_settings, settings_table

ROOT = Path(__file__).resolve().parents[3]
HARNESS = ROOT / "harness"
README_TABLE = re.compile(
    r"<!-- harness-settings: begin[^>]*-->\n(.*?)\n<!-- harness-settings: end -->", re.S
)


def test_the_readme_table_is_the_settings_table() -> None:
    """The README's table of harness variables equals `settings_table()`."""
    match = README_TABLE.search((ROOT / "README.md").read_text("utf-8"))
    assert match, "README.md has no harness-settings block"
    assert match.group(1) == settings_table(), (
        "README.md's harness settings table differs from harness/settings.py: run "
        "`python -m harness.settings --write-readme README.md`"
    )


def test_each_setting_is_one_attribute_of_the_settings_object() -> None:
    declared = [s.attribute for s in SETTINGS]
    assert declared == [f.name for f in fields(HarnessSettings)]
    variables = [s.variable for s in SETTINGS]
    assert len(set(variables)) == len(variables)
    assert all(s.meaning for s in SETTINGS)


def test_unset_and_empty_variables_take_the_declared_default() -> None:
    settings = read_settings({"HARNESS_PROVISION": "  ", "HARNESS_BACKENDS": " s3 "})
    assert settings.provision == default_of("HARNESS_PROVISION") == "local"
    assert settings.backends == "s3"
    assert read_settings({}).reports_root == Path.cwd() / "reports"
    assert read_settings({"HARNESS_REPORTS_DIR": "/x/r"}).reports_root == Path("/x/r")


def test_secrets_stay_out_of_the_repr() -> None:
    settings = read_settings(
        {"HARNESS_S3_SECRET_ACCESS_KEY": "sekrit-1", "HARNESS_AZURE_ACCOUNT_KEY": "sekrit-2"}
    )
    assert "sekrit" not in repr(settings)


def test_every_harness_variable_the_code_names_is_declared() -> None:
    """A HARNESS_* name spelled in harness/ but missing from SETTINGS is a setting with no
    row in the table (or a typo)."""
    declared = {s.variable for s in SETTINGS}
    named = {
        name
        for path in HARNESS.rglob("*.py")
        for name in re.findall(r"\bHARNESS_[A-Z0-9_]*[A-Z0-9]\b", path.read_text("utf-8"))
    }
    assert named - declared == set()


def test_only_the_settings_module_reads_the_environment() -> None:
    """Every other module of harness/ takes its settings (or the environment it hands a
    child process) from harness.settings."""
    readers = sorted(
        str(path.relative_to(ROOT))
        for path in HARNESS.rglob("*.py")
        if re.search(r"os\.environ|getenv", path.read_text("utf-8"))
    )
    assert readers == ["harness/settings.py"]
