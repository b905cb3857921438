"""The targets plugin end to end (pytester): a hand-made known-gaps file, every cell status.

The demo tests only take `backend_name`, so no service is started: what is tested is the
plugin's bookkeeping, in a real pytest run (serial and under xdist, where only the
controller writes compatibility.json).
"""

from __future__ import annotations

import json
import textwrap
import tomllib
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
    # every contract test runs on the sync and the async API (ids [s3] and [s3-async])
    result.assert_outcomes(passed=4, failed=4, skipped=2, xfailed=2)
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
    assert cells["test_promise_kept"]["tests"] == [
        "test_demo.py::test_promise_kept[s3-async]",
        "test_demo.py::test_promise_kept[s3]",
    ]
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
        (
            ["--storage-apis", "sync,async", "--targets", "s3"],
            {
                "test_presign[s3]",
                "test_presign[s3-async]",
                "test_presign[s3-localstack]",
                "test_presign[s3-localstack-async]",
                "test_listing[s3]",
                "test_listing[s3-async]",
                "test_not_contract[s3]",
            },
        ),
        (
            ["--storage-apis", "async", "--backends", "azure", "--sas-targets", "none"],
            {"test_presign[azure-async]", "test_listing[azure-async]", "test_not_contract[azure]"},
        ),
    ],
    ids=["default", "two-s3-targets", "azure-only", "both-apis", "async-only"],
)
def test_which_tests_run_on_which_targets(
    pytester: pytest.Pytester, args: list[str], expected: set[str]
) -> None:
    """SAS tests also on LocalStack; extra targets only for the contract; the contract's
    tests once per storage API (the async one's ids end in -async), other tests sync."""
    pytester.makeini("[pytest]\naddopts = -p no:locust\nmarkers =\n    contract: c\n    sas: s\n")
    pytester.makepyfile(test_scopes=SCOPES)
    if "--storage-apis" not in args:
        args = ["--storage-apis", "sync", *args]
    result = pytester.runpytest_subprocess("--collect-only", "-q", "-p", "no:xdist", *args)
    ids = {line.split("::")[1] for line in result.stdout.lines if "::" in line}
    assert ids == expected


PARAMETRIZED = textwrap.dedent(
    """
    import pytest

    pytestmark = pytest.mark.contract

    @pytest.mark.parametrize("size", ["1KiB", "1MiB"])
    def test_sized(backend_name, size):
        \"\"\"A promise checked at two sizes: broken at both.\"\"\"
        assert False, f"[s3] {size}: expected 403, got 200"

    @pytest.mark.parametrize("round", ["first", "second"])
    def test_racy(backend_name, round):
        \"\"\"Concurrent overwrites: the target tears one now and then.\"\"\"
        assert round == "first", "[s3] torn object: 2 writers mixed"

    def test_kept(backend_name):
        \"\"\"A promise kept.\"\"\"
    """
)

COVERING = textwrap.dedent(
    """
    schema_version = 1
    target = "s3:moto"

    [[gap]]
    promise = "test_sized"
    behaviour = "answers 200 instead of 403"
    evidence = "seen by hand"
    seen = 2026-12-01
    match = "expected 403, got 200"

    [[gap]]
    promise = "test_racy"
    behaviour = "concurrent overwrites of one key are torn in about one run of three"
    evidence = "seen by hand"
    seen = 2026-12-02
    match = "torn object"
    intermittent = true
    """
)


@pytest.fixture
def parametrized(pytester: pytest.Pytester) -> Path:
    pytester.makeini(
        "[pytest]\naddopts = -p no:locust\nmarkers =\n    contract: c\n    promise(id): p\n"
    )
    pytester.makepyfile(test_params=PARAMETRIZED)
    (pytester.path / "gaps.toml").write_text(COVERING)
    return pytester.path


def _run(pytester: pytest.Pytester, where: Path, profile: Path, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "--targets", "s3:moto", "--sas-targets", "none", "--known-gaps", str(profile),
        "--storage-apis", "sync", "--run-dir", str(where / "run"), "-rA", *args,
    )  # fmt: skip


@pytest.mark.parametrize("parallel", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_bare_entry_covers_every_parameter_and_an_intermittent_gap_may_pass(
    pytester: pytest.Pytester, parametrized: Path, parallel: list[str]
) -> None:
    """`test_sized` covers [1KiB] and [1MiB]; the racy gap that did not show is an XPASS,
    not "gap closed", and the matrix says in how many tests it showed."""
    result = _run(pytester, parametrized, parametrized / "gaps.toml", *parallel)
    result.assert_outcomes(passed=1, xfailed=3, xpassed=1)
    output = result.stdout.str()
    assert "gap closed" not in output
    assert "intermittent known gap on s3:moto did not show this time" in output
    matrix: dict[str, Any] = json.loads((parametrized / "run" / "compatibility.json").read_text())
    cells = {c["promise"]: c for c in matrix["cells"]}
    assert {p: c["status"] for p, c in cells.items()} == {
        "test_sized[1KiB]": "known_gap",
        "test_sized[1MiB]": "known_gap",
        "test_racy[first]": "known_gap",
        "test_racy[second]": "known_gap",
        "test_kept": "kept",
    }
    assert cells["test_racy[first]"]["occurrence"] == {"shown": 0, "ran": 1}
    assert cells["test_racy[second]"]["occurrence"] == {"shown": 1, "ran": 1}
    assert cells["test_racy[second]"]["gap"]["intermittent"] is True
    assert cells["test_sized[1KiB]"]["occurrence"] is None
    assert cells["test_sized[1KiB]"]["gap"]["intermittent"] is False
    suite = json.loads((parametrized / "run" / "suites" / "other.json").read_text())
    outcomes = {t["nodeid"].split("::")[1]: t["outcome"] for t in suite["tests"]}
    assert outcomes["test_racy[s3-first]"] == "xpassed"


@pytest.mark.parametrize("parallel", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_an_entry_that_matches_no_test_is_an_error_naming_it(
    pytester: pytest.Pytester, parametrized: Path, parallel: list[str]
) -> None:
    profile = parametrized / "typo.toml"
    profile.write_text(
        COVERING.replace('promise = "test_sized"', 'promise = "test_sizes"')
        + '\n[[gap]]\npromise = "test_kept[2MiB]"\nbehaviour = "b"\nevidence = "e"\n'
        "seen = 2026-12-01\n"
    )
    result = _run(pytester, parametrized, profile, *parallel)
    output = result.stdout.str()
    assert result.ret != pytest.ExitCode.OK
    for entry in ("test_sizes", "test_kept[2MiB]"):
        assert f"entry promise = {entry!r} (target s3:moto) matches no contract test" in output
    assert "'test_racy'" not in output
    assert str(profile) in output
    if parallel[0] == "-p":  # serially the run stops before its tests
        assert result.ret == pytest.ExitCode.INTERRUPTED
        assert "passed" not in output.splitlines()[-1]


def test_a_run_of_chosen_tests_does_not_judge_entries_for_the_others(
    pytester: pytest.Pytester, parametrized: Path
) -> None:
    """`pytest file::test_kept` collects one test: the other entries may well match."""
    result = _run(
        pytester,
        parametrized,
        parametrized / "gaps.toml",
        "-p",
        "no:xdist",
        "test_params.py::test_kept",
    )
    result.assert_outcomes(passed=1)
    assert "matches no contract test" not in result.stdout.str()


def test_deselected_tests_still_count_as_matches(
    pytester: pytest.Pytester, parametrized: Path
) -> None:
    result = _run(
        pytester, parametrized, parametrized / "gaps.toml", "-p", "no:xdist", "-k", "kept"
    )
    result.assert_outcomes(passed=1, deselected=4)
    assert "matches no contract test" not in result.stdout.str()


def test_an_unsafe_gap_cannot_be_intermittent(
    pytester: pytest.Pytester, parametrized: Path
) -> None:
    profile = parametrized / "both.toml"
    profile.write_text(
        COVERING.replace("intermittent = true", 'intermittent = true\nmode = "unsafe"')
    )
    result = _run(pytester, parametrized, profile, "-p", "no:xdist")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "an unsafe gap is never run, so it cannot be intermittent" in result.stderr.str()


def test_every_built_in_gap_entry_names_a_contract_promise(pytester: pytest.Pytester) -> None:
    """The built-in known-gaps files given as --known-gaps to a collection of the contract: an
    entry left behind by a renamed test is the same collection error a user's typo is."""
    root = Path(__file__).resolve().parents[4]
    profiles = sorted((root / "harness" / "targets" / "gaps").glob("*.toml"))
    targets = ",".join(tomllib.loads(p.read_text())["target"] for p in profiles)
    args = [str(root / "suites" / "contract"), "--collect-only", "-q", "-p", "no:xdist"]
    args += ["--targets", targets, "--sas-targets", "none"]
    args += ["--run-dir", str(pytester.path / "run"), f"--rootdir={root}"]
    for profile in profiles:
        args += ["--known-gaps", str(profile)]
    result = pytester.runpytest_subprocess(*args)
    assert "matches no contract test" not in result.stdout.str()
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]
