"""The targets plugin end to end (pytester): a hand-made known-gaps file, every cell status.

The demo tests only take `backend_name`, so no service is started: what is tested is the
plugin's bookkeeping, in a real pytest run (serial and under xdist, where only the
controller writes compatibility.json).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["pytester"]

DEMO = textwrap.dedent(
    """
    import pytest

    pytestmark = pytest.mark.contract

    def test_promise_kept(backend_name):
        \"\"\"A promise the target keeps.\"\"\"
        assert backend_name == "s3"

    def test_known_gap(backend_name):
        \"\"\"A promise the target breaks the documented way.\"\"\"
        assert False, "[s3] expected 403, got 200"

    def test_gap_now_closed(backend_name):
        \"\"\"A promise listed as a gap that the target now keeps.\"\"\"

    def test_fails_another_way(backend_name):
        \"\"\"A known gap whose failure is not the documented one.\"\"\"
        assert False, "[s3] expected 403, got 500"

    def test_unsafe(backend_name):
        \"\"\"Would wedge the target: must not run.\"\"\"
        raise SystemExit("ran an unsafe test")

    @pytest.mark.promise("custom-id")
    def test_named_promise(backend_name):
        \"\"\"A promise with its own id.\"\"\"
    """
)

PROFILE = textwrap.dedent(
    """
    schema_version = 1
    target = "s3:moto"
    description = "hand-made for the plugin test"

    [[gap]]
    promise = "test_known_gap"
    behaviour = "answers 200 instead of 403"
    evidence = "seen by hand"
    seen = 2026-12-01
    match = "expected 403, got 200"

    [[gap]]
    promise = "test_gap_now_closed"
    behaviour = "used to answer 200"
    evidence = "seen by hand"
    seen = 2026-11-01

    [[gap]]
    promise = "test_fails_another_way"
    behaviour = "answers 200 instead of 403"
    evidence = "seen by hand"
    seen = 2026-12-01
    match = "got 200"

    [[gap]]
    promise = "test_unsafe"
    behaviour = "crashes the server"
    evidence = "seen by hand"
    seen = 2026-12-01
    mode = "unsafe"
    """
)


@pytest.fixture
def demo(pytester: pytest.Pytester) -> Path:
    pytester.makeini(
        "[pytest]\naddopts = -p no:locust\nmarkers =\n    contract: c\n    promise(id): p\n"
    )
    pytester.makepyfile(test_demo=DEMO)
    (pytester.path / "moto-gaps.toml").write_text(PROFILE)
    return pytester.path


@pytest.mark.parametrize("parallel", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_hand_made_profile_gives_every_cell_status(
    pytester: pytest.Pytester, demo: Path, parallel: list[str]
) -> None:
    """Known gap -> XFAIL and known_gap; closed gap -> failure saying so and gap_closed."""
    run_dir = demo / "run"
    result = pytester.runpytest_subprocess(
        *parallel,
        "--targets",
        "s3:moto",
        "--sas-targets",
        "none",
        "--known-gaps",
        str(demo / "moto-gaps.toml"),
        "--run-dir",
        str(run_dir),
        "-rA",
    )
    output = result.stdout.str()
    result.assert_outcomes(passed=2, failed=2, skipped=1, xfailed=1)
    assert "known gap on s3:moto (seen 2026-12-01): answers 200 instead of 403" in output
    assert "gap closed: s3:moto now keeps this promise" in output
    assert "does not match its documented behaviour" in output
    assert "not run on s3:moto: unsafe known gap (crashes the server" in output
    assert "ran an unsafe test" not in output

    matrix: dict[str, Any] = json.loads((run_dir / "compatibility.json").read_text())
    assert matrix["schema_version"] == 1
    cells = {c["promise"]: c for c in matrix["cells"]}
    status = {promise: cell["status"] for promise, cell in cells.items()}
    assert status == {
        "test_promise_kept": "kept",
        "test_known_gap": "known_gap",
        "test_gap_now_closed": "gap_closed",
        "test_fails_another_way": "broken",
        "test_unsafe": "not_run",
        "custom-id": "kept",
    }
    assert cells["test_known_gap"]["gap"]["evidence"] == "seen by hand"
    assert cells["test_unsafe"]["gap"]["mode"] == "unsafe"
    assert "unsafe known gap" in cells["test_unsafe"]["detail"]
    assert cells["test_promise_kept"]["tests"] == ["test_demo.py::test_promise_kept[s3]"]
    assert matrix["promises"]["test_known_gap"] == "A promise the target breaks the documented way."
    assert matrix["targets"] == [
        {
            "name": "s3:moto",
            "backend": "s3",
            "description": "moto's S3 server (moto[server] 5.x), a local process",
            "profile": str(demo / "moto-gaps.toml"),
            "scope": "contract",
        }
    ]
    assert matrix["totals"]["s3:moto"] == {
        "kept": 2,
        "broken": 1,
        "known_gap": 1,
        "gap_closed": 1,
        "not_run": 1,
    }


def test_a_broken_profile_is_a_usage_error(pytester: pytest.Pytester, demo: Path) -> None:
    """A profile with an unknown field stops the run before any test, naming the file."""
    bad = demo / "bad.toml"
    bad.write_text('target = "s3:moto"\n[[gap]]\npromise = "x"\nwhen = "yesterday"\n')
    result = pytester.runpytest_subprocess("--known-gaps", str(bad), "-p", "no:xdist")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "bad.toml" in result.stderr.str()


SCOPES = textwrap.dedent(
    """
    import pytest

    @pytest.mark.contract
    @pytest.mark.sas
    def test_presign(backend_name):
        pass

    @pytest.mark.contract
    def test_listing(backend_name):
        pass

    def test_not_contract(backend_name):
        pass
    """
)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            [],
            {
                "test_presign[azure]",
                "test_presign[s3]",
                "test_presign[s3-localstack]",
                "test_listing[azure]",
                "test_listing[s3]",
                "test_not_contract[azure]",
                "test_not_contract[s3]",
            },
        ),
        (
            ["--targets", "s3,s3:localstack"],
            {
                "test_presign[s3]",
                "test_presign[s3-localstack]",
                "test_listing[s3]",
                "test_listing[s3-localstack]",
                "test_not_contract[s3]",
            },
        ),
        (
            ["--backends", "azure", "--sas-targets", "none"],
            {"test_presign[azure]", "test_listing[azure]", "test_not_contract[azure]"},
        ),
    ],
    ids=["default", "two-s3-targets", "azure-only"],
)
def test_which_tests_run_on_which_targets(
    pytester: pytest.Pytester, args: list[str], expected: set[str]
) -> None:
    """SAS tests also on LocalStack; extra targets only for the contract."""
    pytester.makeini("[pytest]\naddopts = -p no:locust\nmarkers =\n    contract: c\n    sas: s\n")
    pytester.makepyfile(test_scopes=SCOPES)
    result = pytester.runpytest_subprocess("--collect-only", "-q", "-p", "no:xdist", *args)
    ids = {line.split("::")[1] for line in result.stdout.lines if "::" in line}
    assert ids == expected
