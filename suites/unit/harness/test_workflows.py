"""The CI recipes in .github/workflows keep the promises the README's "For CI" section
makes: they parse, publish the JUnit files where make test writes them, keep the run
folder and predeploy's results as artifacts, read credentials only from secrets, and
never paste a workflow input into a shell script."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
WORKFLOWS = ROOT / ".github" / "workflows"


def _load(name: str) -> dict[str, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text("utf-8"))
    # YAML 1.1 reads the key `on` as True.
    document: dict[str, Any] = {str(k): v for k, v in loaded.items() if k is not True}
    document["on"] = loaded.get(True, loaded.get("on"))
    return document


def _steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in document["jobs"].values() for step in job["steps"]]


def _uses(document: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in _steps(document) if str(s.get("uses", "")).startswith(action + "@")]


def test_ci_runs_make_test_and_publishes_its_junit_and_run_folder() -> None:
    ci = _load("ci.yml")
    assert {"push", "pull_request", "workflow_dispatch"} <= set(ci["on"])
    assert any(".ci/run" in str(s.get("run", "")) for s in _steps(ci))
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "--junit-xml $(TEST_RUN_DIR)/junit/suites.xml" in makefile
    assert "TEST_RUN_DIR ?= reports/runs/" in makefile and "-make-test" in makefile
    [junit] = _uses(ci, "mikepenz/action-junit-report")
    assert junit["if"] == "always()"
    assert junit["with"]["report_paths"] == "reports/runs/*/junit/*.xml"
    [artifact] = _uses(ci, "actions/upload-artifact")
    assert artifact["if"] == "always()" and artifact["with"]["path"] == "reports/runs/"
    assert ci["permissions"]["checks"] == "write"


def test_predeploy_is_dispatched_by_hand_reads_secrets_and_keeps_its_results() -> None:
    predeploy = _load("predeploy.yml")
    assert set(predeploy["on"]) == {"workflow_dispatch"}
    [job] = predeploy["jobs"].values()
    env = job["env"]
    for secret in ("AZURE_STORAGE_CONNECTION_STRING", "AWS_SECRET_ACCESS_KEY", "DATABASE_URL"):
        assert env[secret] == "${{ secrets." + secret + " }}"
    [command] = [
        s["run"] for s in _steps(predeploy) if "crownsafe-harness predeploy" in str(s.get("run"))
    ]
    assert (
        "--junit-xml predeploy/junit.xml" in command and "--json predeploy/result.json" in command
    )
    [artifact] = _uses(predeploy, "actions/upload-artifact")
    assert artifact["if"] == "always()" and artifact["with"]["path"] == "predeploy/"
    [junit] = _uses(predeploy, "mikepenz/action-junit-report")
    assert junit["with"]["report_paths"] == "predeploy/junit.xml"


@pytest.mark.parametrize("name", ["ci.yml", "predeploy.yml"])
def test_no_expression_is_pasted_into_a_script(name: str) -> None:
    """`${{ inputs.x }}` inside `run:` is script injection; pass it through `env:`."""
    pasted = [
        s.get("name") for s in _steps(_load(name))
        if re.search(r"\$\{\{\s*(inputs|github\.event)\.", str(s.get("run", "")))
    ]  # fmt: skip
    assert not pasted, f"steps that paste an input into their script: {pasted}"
