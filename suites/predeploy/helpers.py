"""Helpers for the predeploy suite: run the real command in a subprocess with a given
environment, and read back its table, JSON and JUnit XML."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crownsafe.redaction import MARKER

# Variables of the test process that would leak into the command's configuration.
_APP_VARIABLES = re.compile(r"^(AZURE_|AWS_|S3_|STORAGE_|DATABASE_URL$|REDIS_URL$|HARNESS_)")
_SIGNATURE = re.compile(r"(?i)\b(sig|x-amz-signature)=(?!" + re.escape(MARKER) + ")[^&\\s\"'<]+")


def command_env(values: Mapping[str, str]) -> dict[str, str]:
    """The test process's environment without app settings, plus `values`."""
    base = {k: v for k, v in os.environ.items() if not _APP_VARIABLES.match(k)}
    return {**base, **values}


def argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli", "predeploy", *args]


@dataclass
class PredeployRun:
    returncode: int
    stdout: str
    stderr: str
    json_text: str
    junit_text: str

    @property
    def report(self) -> dict[str, Any]:
        return dict(json.loads(self.json_text))

    def status(self, check_id: str) -> str:
        return str(self.check(check_id)["status"])

    def check(self, check_id: str) -> dict[str, Any]:
        for check in self.report["checks"]:
            if check["id"] == check_id:
                return dict(check)
        raise AssertionError(f"{check_id} not in the report: {self.stdout}")

    def junit(self) -> ET.Element:
        return ET.fromstring(self.junit_text)

    def failed_ids(self) -> list[str]:
        return [c["id"] for c in self.report["checks"] if c["status"] == "failed"]

    def all_text(self) -> str:
        return "\n".join((self.stdout, self.stderr, self.json_text, self.junit_text))


def run_predeploy(env: Mapping[str, str], out_dir: Path, *args: str) -> PredeployRun:
    """`crownsafe-harness predeploy` with `--json` and `--junit-xml` into `out_dir`."""
    json_path, junit_path = out_dir / "predeploy.json", out_dir / "predeploy.xml"
    done = subprocess.run(
        argv("--json", str(json_path), "--junit-xml", str(junit_path), *args),
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return PredeployRun(
        done.returncode,
        done.stdout,
        done.stderr,
        json_path.read_text() if json_path.exists() else "",
        junit_path.read_text() if junit_path.exists() else "",
    )


def assert_no_secret(run: PredeployRun, secrets: Iterable[str]) -> None:
    """No secret value, and no unredacted SAS/presigned signature, in any of the outputs."""
    text = run.all_text()
    for secret in secrets:
        assert secret and secret not in text, f"a secret ({len(secret)} chars) is in the output"
    assert not _SIGNATURE.search(text), "an unredacted signature is in the output"
