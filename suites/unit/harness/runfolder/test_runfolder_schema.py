"""The run-folder contract: golden runs validate, schemas are current, errors are named."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from harness.runfolder import RunFileError, merge_points, read_file, read_run, write_file
from harness.runfolder.bench import PairedFile, PairedSamples
from harness.runfolder.jsonschema import SCHEMA_DIR, render, schema_documents, schema_file_name
from harness.runfolder.registry import FILE_MODELS, model_for
from harness.runfolder.suites import SuiteFile

ROOT = Path(__file__).resolve().parents[4]
GOLDEN = ROOT / "fixtures" / "golden_runs"
DELIBERATELY_BROKEN = {("not_ready", "security.json"), ("corrupt_contract", "suites/contract.json")}


def golden_files() -> list[tuple[str, str]]:
    return sorted(
        (run.name, str(path.relative_to(run)))
        for run in GOLDEN.iterdir()
        if run.is_dir()
        for path in run.rglob("*.json")
    )


def test_every_golden_run_loads_through_the_schema() -> None:
    """Each golden folder loads with no problem but the one it breaks on purpose."""
    runs = [run for run in GOLDEN.iterdir() if run.is_dir()]
    assert {r.name for r in runs} >= {"full_pass", "not_ready", "minimal"}
    for run in runs:
        problems = {(run.name, p.relative) for p in read_run(run).problems}
        assert problems == {key for key in DELIBERATELY_BROKEN if key[0] == run.name}


@pytest.mark.parametrize(("run", "relative"), golden_files())
def test_every_golden_file_has_a_model_and_matches_the_published_schema(
    run: str, relative: str
) -> None:
    """CI consumers validate with the JSON Schema alone: it accepts every golden file."""
    model = model_for(relative)
    assert model is not None, f"{run}/{relative} is not a run-folder file"
    if (run, relative) in DELIBERATELY_BROKEN:
        return
    schema = json.loads((SCHEMA_DIR / schema_file_name(model)).read_text("utf-8"))
    jsonschema.validate(json.loads((GOLDEN / run / relative).read_text("utf-8")), schema)


def test_published_json_schemas_are_current() -> None:
    """docs/run-folder/ holds exactly what the models generate (regenerate with
    `python -m harness.runfolder.jsonschema`)."""
    expected = schema_documents()
    committed = {p.name for p in SCHEMA_DIR.glob("*.schema.json")}
    assert committed == set(expected), "stale or missing schema files in docs/run-folder"
    for name, schema in expected.items():
        stale = (SCHEMA_DIR / name).read_text("utf-8") != render(schema)
        assert not stale, (
            f"docs/run-folder/{name} is stale: run python -m harness.runfolder.jsonschema"
        )


def test_the_run_folder_doc_lists_every_file_with_its_model() -> None:
    """docs/run-folder.md's table has a row naming each file (`suites/<suite>.json` for
    `suites/*.json`) and its model."""
    doc = (ROOT / "docs" / "run-folder.md").read_text("utf-8")
    rows = [line for line in doc.splitlines() if line.startswith("| `")]
    for model in FILE_MODELS:
        name = re.escape(model.FILE).replace(r"\*", "<[a-z]+>")
        module = model.__module__.removeprefix("harness.runfolder.")
        row = next((r for r in rows if re.search(rf"`{name}`", r)), None)
        assert row is not None, f"docs/run-folder.md does not list {model.FILE}"
        assert f"{module}.{model.__name__}" in row, f"{model.FILE}'s row lacks its model"


def test_every_model_names_a_distinct_file_and_carries_a_version() -> None:
    files = [m.FILE for m in FILE_MODELS]
    assert len(files) == len(set(files))
    for model in FILE_MODELS:
        assert model.model_fields["schema_version"].default == 1


def test_a_bad_file_is_named_with_its_first_error(tmp_path: Path) -> None:
    (tmp_path / "suites").mkdir()
    bad = {"suite": "contract", "tests": [{"nodeid": "t[azure]", "outcome": "exploded"}]}
    (tmp_path / "suites" / "contract.json").write_text(json.dumps(bad))
    with pytest.raises(RunFileError) as caught:
        read_file(tmp_path, "suites/contract.json", SuiteFile)
    message = str(caught.value)
    assert message.startswith("suites/contract.json: does not match its schema: tests.0.outcome")
    assert "'exploded'" in message


def test_unknown_keys_are_drift_and_are_refused(tmp_path: Path) -> None:
    (tmp_path / "suites").mkdir()
    drifted = {"suite": "unit", "tests": [], "elapsed": 3}
    (tmp_path / "suites" / "unit.json").write_text(json.dumps(drifted))
    with pytest.raises(RunFileError, match="elapsed: Extra inputs are not permitted"):
        read_file(tmp_path, "suites/unit.json", SuiteFile)


def test_writes_round_trip_and_carry_the_schema_version(tmp_path: Path) -> None:
    suite = SuiteFile(suite="unit", tests=[])
    path = write_file(tmp_path, suite, "suites/unit.json")
    assert json.loads(path.read_text())["schema_version"] == 1
    assert read_file(tmp_path, "suites/unit.json", SuiteFile) == suite
    assert not list(tmp_path.rglob("*.tmp"))


def test_merge_points_replaces_the_same_identity_and_keeps_others(tmp_path: Path) -> None:
    first = PairedSamples(operation="upload", size_bytes=1024, samples={"azure": [1.0]})
    other = PairedSamples(operation="download", size_bytes=1024, samples={"s3": [2.0]})
    merge_points(tmp_path, PairedFile, [first, other])
    again = {"operation": "upload", "size_bytes": 1024, "samples": {"azure": [9.0]}}
    merge_points(tmp_path, PairedFile, [again])
    pairs = read_file(tmp_path, PairedFile.FILE, PairedFile).pairs
    assert [(p.operation, p.samples) for p in pairs] == [
        ("download", {"s3": [2.0]}),
        ("upload", {"azure": [9.0]}),
    ]
