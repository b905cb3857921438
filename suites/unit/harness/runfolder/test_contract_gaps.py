"""contract_gaps.json: the contract suite's recorded gaps go through their model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.runfolder import RunFileError, read_file, read_run, update_file
from harness.runfolder.contract_gaps import ContractGap, ContractGapsFile
from harness.runfolder.registry import model_for


def gap(
    test: str, backend: str, fact: str = "moto answered 2 of 8 racing PUTs with 500"
) -> ContractGap:
    return ContractGap(
        emulator=f"{backend}:emulator",
        test=test,
        backend=backend,
        check="racing overwrites of one key all succeed",
        fact=fact,
        asserted_instead="the final object is one writer's whole content",
    )


def record(run_dir: Path, entry: ContractGap) -> None:
    update_file(
        run_dir, ContractGapsFile, lambda current: (current or ContractGapsFile()).recorded(entry)
    )


def test_the_file_is_registered() -> None:
    assert model_for("contract_gaps.json") is ContractGapsFile


def test_a_later_record_of_the_same_test_and_backend_replaces_it_and_order_is_stable(
    tmp_path: Path,
) -> None:
    record(tmp_path, gap("test_racing", "s3"))
    record(tmp_path, gap("test_racing", "azure"))
    record(tmp_path, gap("test_a", "s3"))
    record(tmp_path, gap("test_racing", "s3", fact="moto answered 1 of 8"))
    written = json.loads((tmp_path / "contract_gaps.json").read_text())
    assert written["schema_version"] == 1
    gaps = read_file(tmp_path, "contract_gaps.json", ContractGapsFile).gaps
    assert [(g.test, g.backend) for g in gaps] == [
        ("test_a", "s3"),
        ("test_racing", "azure"),
        ("test_racing", "s3"),
    ]
    assert gaps[2].fact == "moto answered 1 of 8"
    assert read_run(tmp_path).contract_gaps == ContractGapsFile(gaps=gaps)


def test_a_hand_edited_entry_is_named_as_a_problem(tmp_path: Path) -> None:
    bad = {"gaps": [{"test": "t", "backend": "s3", "fact": "x"}]}
    (tmp_path / "contract_gaps.json").write_text(json.dumps(bad))
    with pytest.raises(RunFileError, match=r"contract_gaps\.json: does not match its schema"):
        read_file(tmp_path, "contract_gaps.json", ContractGapsFile)
    assert [p.relative for p in read_run(tmp_path).problems] == ["contract_gaps.json"]
