"""pytest's JUnit XML, a CI artifact, passes through the one redactor before anyone reads it.

pytest truncates long reprs in assertion messages ('DefaultEndpo...SECRETKEY123;'), which
can cut a key off its `AccountKey=` prefix: the configured secrets themselves (here the
account key in the environment, as in a real run) are redacted wherever they appear."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

LEAKY = textwrap.dedent(
    """
    def test_leaks_a_connection_string():
        conn = "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=SECRETKEY123;"
        assert conn == "", f"failed with {conn} and https://h/c/b?sv=1&sig=SIG456"
    """
)


def test_junit_xml_written_by_pytest_holds_no_secret(tmp_path: Path) -> None:
    (tmp_path / "suites" / "demo").mkdir(parents=True)
    (tmp_path / "suites" / "demo" / "test_leak.py").write_text(LEAKY)
    junit = tmp_path / "run" / "junit" / "suites.xml"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "suites/demo", "-p", "no:cacheprovider", "-p",
         "no:xdist", "--run-dir", str(tmp_path / "run"), f"--junit-xml={junit}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=240, check=False,
        env={**os.environ, "AZURE_STORAGE_ACCOUNT_KEY": "SECRETKEY123"},
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    text = junit.read_text("utf-8")
    assert "SECRETKEY123" not in text and "SIG456" not in text
    assert "AccountKey=&lt;redacted&gt;" in text
    (case,) = ET.fromstring(text).iter("testcase")
    assert case.get("name") == "test_leaks_a_connection_string"
    assert case.find("failure") is not None
