"""The verdict a release manager ships on: ready / not ready / incomplete, per run profile.

Each golden run folder stands for a case a new user met; the report (and its exit code)
must call each of them as designed.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from harness.bench import command as bench
from harness.cli import main as cli_main
from harness.report import analyse, build_report, read_inputs
from harness.report.profile import ProfileError, read_run_profile

GOLDEN = Path(__file__).resolve().parents[4] / "fixtures" / "golden_runs"


def golden(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(GOLDEN / name, target)
    return target


@pytest.mark.parametrize(
    ("name", "outcome", "code"),
    [
        ("full_pass", "ready", 0),
        ("not_ready", "not ready", 1),
        ("minimal", "incomplete", 3),
        ("azure_roundtrip_only", "incomplete", 3),
        ("corrupt_contract", "not ready", 1),
        ("no_suites", "incomplete", 3),
        ("generator_saturated", "incomplete", 3),  # load only: nothing else assessed
    ],
)
def test_each_golden_run_gets_its_designed_verdict_and_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, outcome: str, code: int
) -> None:
    assert cli_main(["report", str(golden(tmp_path, name))]) == code
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"verdict: {outcome.upper()} (run profile default)"
    assert out[-1].startswith("report: ") and out[-1].endswith("index.html")


def test_an_empty_run_folder_is_incomplete_not_ready(tmp_path: Path) -> None:
    verdict = analyse(read_inputs(tmp_path)).verdict
    assert verdict.outcome == "incomplete" and verdict.exit_code == 3
    assert all(item.status == "not assessed" for item in verdict.items)


def test_a_contract_only_run_is_incomplete_and_names_what_was_not_assessed(
    tmp_path: Path,
) -> None:
    verdict = analyse(read_inputs(golden(tmp_path, "minimal"))).verdict
    assert verdict.outcome == "incomplete"
    assert not verdict.reasons
    assert "resilience suite: not assessed (did not run)" in verdict.missing
    assert any(
        m.startswith("benchmark goal crownsafe_vs_raw: not assessed") for m in verdict.missing
    )
    contract = next(i for i in verdict.items if i.label == "contract suite")
    assert (contract.status, contract.assessed_backends) == ("passed", ("azure", "s3"))


def test_azure_only_is_incomplete_because_s3_was_never_assessed(tmp_path: Path) -> None:
    verdict = analyse(read_inputs(golden(tmp_path, "azure_roundtrip_only"))).verdict
    contract = next(i for i in verdict.items if i.label == "contract suite")
    assert (contract.status, contract.assessed_backends) == ("not assessed", ("azure",))
    assert "contract suite: not assessed on s3 (18 tests ran, 0 failed)" in verdict.missing


def test_a_corrupt_suite_file_is_not_ready_and_named_with_its_first_error(tmp_path: Path) -> None:
    verdict = analyse(read_inputs(golden(tmp_path, "corrupt_contract"))).verdict
    assert verdict.outcome == "not ready"
    assert verdict.reasons[0].startswith("suites/contract.json: not JSON")


def test_the_same_contract_run_is_ready_under_the_contract_profile(tmp_path: Path) -> None:
    verdict = analyse(read_inputs(golden(tmp_path, "minimal"), profile="contract")).verdict
    assert (verdict.outcome, verdict.profile) == ("ready", "contract")


def test_undecided_goals_are_shown_with_their_floor_and_fail_only_when_the_profile_says(
    tmp_path: Path,
) -> None:
    run = golden(tmp_path, "full_pass")
    # Undecided by its numbers (the verdict stored in the file is not read: the one goal
    # rule, harness.bench.overhead.decide, judges every entry): a floor of 6% is wider
    # than the 5% the 0.95 goal allows.
    data = json.loads((run / "bench" / "ratios.json").read_text())
    first = next(e for e in data["comparisons"] if e["comparison"] == "crownsafe_vs_raw")
    first["noise_floor"] = 0.06
    (run / "bench" / "ratios.json").write_text(json.dumps(data))
    default = analyse(read_inputs(run)).verdict
    assert default.outcome == "ready"
    goal = next(i for i in default.items if i.label.startswith("benchmark goal crownsafe_vs_raw"))
    assert goal.status == "undecided" and re.search(r"floor \d+\.\d%", goal.detail)
    assert any("undecided" in n for n in default.notes)
    strict = read_run_profile().model_dump() | {"name": "strict"}
    strict["benchmarks"]["undecided_fails"] = True
    path = tmp_path / "strict.toml"
    path.write_text(_toml(strict))
    judged = analyse(read_inputs(run, profile=path)).verdict
    assert judged.outcome == "not ready"
    assert any("counts undecided as failed" in r for r in judged.reasons)


def _toml(profile: dict[str, object]) -> str:
    lines = [f'name = "{profile["name"]}"']
    for suite in profile["suites"]:  # type: ignore[attr-defined]
        lines += ["[[suites]]", f'name = "{suite["name"]}"', f"backends = {suite['backends']!r}"]
    for table in ("resilience", "migration", "benchmarks", "load"):
        body = profile[table]
        if body is None:
            continue
        lines.append(f"[{table}]")
        for key, value in body.items():  # type: ignore[attr-defined]
            shown = str(value).lower() if isinstance(value, bool) else repr(value)
            lines.append(f"{key} = {shown}".replace("'", '"'))
    return "\n".join(lines) + "\n"


def test_an_unknown_profile_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ProfileError, match="pass one of bench, contract, default"):
        read_run_profile("nightly")
    assert cli_main(["report", str(golden(tmp_path, "minimal")), "--profile", "nightly"]) == 2
    assert "run profile 'nightly' not found" in capsys.readouterr().out


def test_regressions_are_listed_with_their_size_grouped_by_operation(tmp_path: Path) -> None:
    report = build_report(golden(tmp_path, "not_ready"), golden(tmp_path, "full_pass"))
    groups = report.findings.regressions
    assert "Upload 1 MiB" in groups
    line = groups["Upload 1 MiB"][0]
    assert re.fullmatch(r"\+\d+% \[CI \+\d+%, \+\d+%\]", line.change), line.change
    assert line.baseline == "full_pass"
    html = report.path.read_text("utf-8")
    assert "Regressions: Upload 1 MiB" in html and "baseline full_pass" in html


def test_the_report_opens_with_the_verdict_then_what_was_assessed(tmp_path: Path) -> None:
    html = build_report(golden(tmp_path, "minimal")).path.read_text("utf-8")
    verdict, assessed = html.index('class="big">Incomplete<'), html.index("What was assessed")
    assert verdict < assessed < html.index('id="seed"')


def test_bench_gate_only_fails_when_a_measured_goal_is_not_met(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    met, missed = golden(tmp_path, "full_pass"), golden(tmp_path, "not_ready")
    (met / "benchmarks.json").unlink()
    (missed / "benchmarks.json").unlink()
    (met / "benchmarks.json").write_text('{"benchmarks": []}')
    (missed / "benchmarks.json").write_text('{"benchmarks": []}')
    assert bench.main(["--gate-only", "--run-dir", str(met), "--baseline", str(met)]) == 0
    assert bench.main(["--gate-only", "--run-dir", str(missed), "--baseline", str(met)]) == 1
    err = capsys.readouterr().err
    assert "GOAL NOT MET performance goal S3 Upload 1 KiB: crownsafe / raw SDK" in err, err
    assert "GOAL NOT MET API goal" in err  # the API goals are the verdict's too


def test_report_json_is_the_verdict_for_machines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    assert cli_main(["report", str(golden(tmp_path, "azure_roundtrip_only")), "--json"]) == 3
    document = json.loads(capsys.readouterr().out)
    assert (document["outcome"], document["exit_code"], document["profile"]) == (
        "incomplete",
        3,
        "default",
    )
    assert document["report"].endswith("index.html")
    contract = next(i for i in document["items"] if i["label"] == "contract suite")
    assert contract["assessed_backends"] == ["azure"]


def test_a_missed_api_goal_makes_the_run_not_ready_and_is_shown_per_backend(
    tmp_path: Path,
) -> None:
    report = build_report(golden(tmp_path, "not_ready"))
    verdict = report.findings.verdict
    assert any(
        r.startswith(
            "API goal upload_vs_direct 10 MiB raw [s3] not met: app CPU 3.38 ms/MiB beyond "
            "its fixed 7.0 ms per upload = 2.6x the floor's 1.3 ms/MiB > 2x"
        )
        for r in verdict.reasons
    )
    html = report.path.read_text("utf-8")
    assert "The API under load, per backend" in html
    assert html.count('class="fail">not met<') >= 1


def test_goal_summaries_name_how_many_and_which() -> None:
    """ "8 measured ratios: met, not met" said neither how many nor which."""
    items = {i.label: i for i in analyse(read_inputs(GOLDEN / "not_ready")).verdict.items}
    sdk = items["benchmark goal crownsafe_vs_raw (>= 0.95x)"].detail
    assert re.fullmatch(
        r"6 of 8 met; not met: S3 Upload 1 KiB 0\.\d{3}x; "
        r"undecided: Azure Download 1 KiB 0\.\d{3}x \(floor 7\.7%\)",
        sdk,
    ), sdk
    memory = items["memory goal: streamed upload RSS below its size"].detail
    assert memory.startswith("1 of 2 met; not met: S3 Upload 64 MiB +70.0 MiB"), memory
    api = next(i for label, i in items.items() if label.startswith("API goals")).detail
    assert api.startswith("9 of 10 met; not met: upload vs direct 10 MiB (raw) [s3]"), api
    passing = {i.label: i for i in analyse(read_inputs(GOLDEN / "full_pass")).verdict.items}
    assert passing["benchmark goal crownsafe_vs_raw (>= 0.95x)"].detail == "8 of 8 met"
