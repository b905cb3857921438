"""The report's load section and the load verdict, against the golden run folders.

full_pass: timed and step runs on Azure and S3, knees reported; not_ready: Azure misses its
upload SLOs with failed requests, S3's soak grows past its bound; generator_saturated: S3's
generator ran out of CPU in the step load, so the report names it instead of a knee.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.report import analyse, build_report, read_inputs
from harness.report.loadfindings import GENERATOR_LIMIT, load_findings
from harness.report.profile import ProfileError, read_run_profile
from harness.report.view.svg import Series, envelope, time_chart
from harness.runfolder import read_run

GOLDEN = Path(__file__).resolve().parents[4] / "fixtures" / "golden_runs"


def golden(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(GOLDEN / name, target)
    return target


def edit_load(run: Path, change: Any) -> None:
    path = run / "load.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def load_html(run: Path) -> str:
    html = build_report(run).path.read_text("utf-8")
    return html[html.index('id="load"') : html.index('id="suites"')]


def rows(section: str, caption_start: str) -> list[str]:
    table = section[section.index(f"<caption>{caption_start}") :].split("</table>")[0]
    return re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]


def item(run: Path, label: str, profile: str | None = None) -> Any:
    verdict = analyse(read_inputs(run, profile=profile)).verdict
    return next(i for i in verdict.items if i.label == label)


AZURE = "load on azure: SLOs met, no failed request"
S3 = "load on s3: SLOs met, no failed request"


def test_full_pass_shows_every_run_side_by_side_with_both_knees(tmp_path: Path) -> None:
    section = load_html(golden(tmp_path, "full_pass"))
    summary = rows(section, "Load runs")
    assert [re.findall(r"<td[^>]*>([^<]*)</td>", r)[:2] for r in summary] == [
        ["Azure", "duration"],
        ["S3", "duration"],
        ["Azure", "step"],
        ["S3", "step"],
    ]
    assert all(">passed<" in r for r in summary[:2])
    assert "knee at 40 users, 148 req/s" in summary[2]
    assert "knee at 20 users, 82.0 req/s" in summary[3]
    slos = rows(section, "Service level objectives per backend")
    assert len(slos) == 6
    assert all(r.count('class="pass">') == 2 and ": met<" in r for r in slos)
    assert "<td>&lt;= 500 ms</td>" in slos[0] and "120 ms: met" in slos[0]
    headers = section[section.index("Service level objectives per backend") :]
    assert '<th scope="col">Azure</th><th scope="col">S3</th>' in headers.split("</tr>")[0]
    knees = rows(section, "The knee per backend")
    assert "40 users, 148 req/s (step 3)" in knees[0] and "= 29% of its 2 cores" in knees[0]
    assert "20 users, 82.0 req/s (step 2)" in knees[1]
    assert "The requests/s shown are the generator" not in section
    step_chart = section[section.index('aria-labelledby="load-steps-rps-t') :].split("</svg>")[0]
    assert step_chart.count(">knee</text>") == 2


def test_charts_cover_history_steps_and_each_process_with_the_generator_line(
    tmp_path: Path,
) -> None:
    section = load_html(golden(tmp_path, "full_pass"))
    ids = re.findall(r'aria-labelledby="(load-[\w-]+)-t ', section)
    assert ids == [
        "load-duration-rps",
        "load-duration-p95",
        "load-duration-cpu-azure",
        "load-duration-cpu-s3",
        "load-duration-rss-azure",
        "load-duration-rss-s3",
        "load-step-rps",
        "load-step-p95",
        "load-steps-rps",
        "load-steps-p95",
        "load-step-cpu-azure",
        "load-step-cpu-s3",
        "load-step-rss-azure",
        "load-step-rss-s3",
    ]
    assert section.count("generator limit: 50% of its 2 cores") == 4 * 2  # label + tooltip
    assert section.count("<figure>") == len(ids) == len(set(ids))
    # the duration runs' history: 30 points per backend, each with its tooltip
    rps = section[section.index('aria-labelledby="load-duration-rps-t') :].split("</svg>")[0]
    assert rps.count("<circle") == 60 and rps.count("<polyline") == 2


def test_a_breached_slo_failed_requests_and_a_growing_soak_are_not_ready(tmp_path: Path) -> None:
    run = golden(tmp_path, "not_ready")
    verdict = analyse(read_inputs(run)).verdict
    assert (
        "load SLO missed on azure: POST /api/v1/uploads p95_ms <= 500, measured 900 ms "
        "(duration run)"
    ) in verdict.reasons
    assert (
        "load on azure: 41 of 5,520 requests failed (duration run: POST /api/v1/uploads 41)"
        in verdict.reasons
    )
    assert any(
        r.startswith("soak on s3: memory grows") and "worker 38.0 MiB/h" in r
        for r in verdict.reasons
    )
    azure, s3 = item(run, AZURE), item(run, S3)
    assert (azure.status, s3.status) == ("failed", "failed")
    section = load_html(run)
    assert 'class="fail">900 ms: missed<' in section
    soak = rows(section, "Soak: memory growth per hour")
    assert ">within bound<" in soak[0] and ">grows too fast<" in soak[1]


def test_a_saturated_generator_is_named_instead_of_a_knee(tmp_path: Path) -> None:
    run = golden(tmp_path, "generator_saturated")
    section = load_html(run)
    assert (
        "S3: the load generator was the bottleneck: 192% CPU at the knee (80 users, step 4) "
        "= 96% of its 2 cores (limit 50%). The requests/s shown are the generator&#39;s limit, "
        "not the service&#39;s; no knee is reported."
    ) in section
    knees = rows(section, "The knee per backend")
    assert "40 users, 148 req/s (step 3)" in knees[0]
    assert 'class="fail">not reported: the generator was the bottleneck<' in knees[1]
    assert "no knee: the generator was the bottleneck" in rows(section, "Load runs")[3]
    assert analyse(read_inputs(run)).verdict.reasons == []
    step_chart = section[section.index('aria-labelledby="load-steps-rps-t') :].split("</svg>")[0]
    assert step_chart.count(">knee</text>") == 1  # Azure's only
    assert "No knee for S3: the load generator was the bottleneck." in step_chart
    verdict = analyse(read_inputs(run)).verdict
    assert any(
        "load step run on s3: the load generator was the bottleneck" in n for n in verdict.notes
    )
    # both timed runs held their SLOs: load is assessed and passed on both backends
    assert item(run, AZURE).status == item(run, S3).status == "passed"


def test_the_generator_figure_decides_even_when_the_flag_is_not_set(tmp_path: Path) -> None:
    run = golden(tmp_path, "generator_saturated")

    def unflag(data: dict[str, Any]) -> None:
        for r in data["runs"]:
            r["generator_saturated"] = False

    edit_load(run, unflag)
    found = {(f.backend, f.run.mode): f for f in load_findings(read_run(run))}
    s3 = found["s3", "step"]
    assert s3.generator is not None and s3.generator.share >= GENERATOR_LIMIT
    assert s3.generator_limited and s3.knee is None
    assert not found["azure", "step"].generator_limited


def test_the_flag_alone_also_withholds_the_knee(tmp_path: Path) -> None:
    run = golden(tmp_path, "full_pass")

    def flag(data: dict[str, Any]) -> None:
        data["runs"][2]["generator_saturated"] = True  # Azure's step run, generator at 29%

    edit_load(run, flag)
    azure = next(f for f in load_findings(read_run(run)) if f.run.mode == "step")
    assert azure.generator is not None and azure.generator.share < GENERATOR_LIMIT
    assert azure.generator_limited and azure.knee is None


def test_without_load_the_default_profile_is_incomplete(tmp_path: Path) -> None:
    run = golden(tmp_path, "full_pass")
    (run / "load.json").unlink()
    verdict = analyse(read_inputs(run)).verdict
    assert verdict.outcome == "incomplete" and not verdict.reasons
    assert f"{AZURE}: not assessed (no load.json)" in verdict.missing
    assert f"{S3}: not assessed (no load.json)" in verdict.missing
    assert "No load results (load.json) in this run" in load_html(run)


def test_load_on_one_backend_only_is_incomplete_on_the_other(tmp_path: Path) -> None:
    run = golden(tmp_path, "full_pass")
    edit_load(run, lambda d: d.update(runs=[r for r in d["runs"] if r["backend"] == "azure"]))
    verdict = analyse(read_inputs(run)).verdict
    assert verdict.outcome == "incomplete"
    assert item(run, AZURE).status == "passed"
    assert item(run, S3).status == "not assessed"
    section = load_html(run)
    assert '<th scope="col">S3</th>' not in section


def test_a_step_search_with_a_knee_breaks_nothing_and_assesses_no_slo(tmp_path: Path) -> None:
    """Steps above the knee miss their SLOs and fail requests by design: that is neither
    a failure nor an assessment of the SLOs."""
    run = golden(tmp_path, "full_pass")
    edit_load(run, lambda d: d.update(runs=[r for r in d["runs"] if r["mode"] == "step"]))
    verdict = analyse(read_inputs(run)).verdict
    assert verdict.outcome == "incomplete" and not verdict.reasons
    azure = item(run, AZURE)
    assert azure.status == "not assessed" and "knee at 40 users" in azure.detail


def test_a_step_search_without_a_knee_is_not_ready_in_the_report_too(tmp_path: Path) -> None:
    run = golden(tmp_path, "full_pass")

    def no_knee(data: dict[str, Any]) -> None:
        step = data["runs"][3]  # S3's step run
        step["knee"] = {"step": None, "users": None, "rps": None, "reason": "step 0 broke"}
        step["passed"] = False

    edit_load(run, no_knee)
    verdict = analyse(read_inputs(run)).verdict
    assert verdict.outcome == "not ready"
    assert verdict.reasons == ["load step run on s3: no step held every SLO (step 0 broke)"]
    assert item(run, S3).status == "failed" and item(run, AZURE).status == "passed"


def test_the_contract_profile_does_not_ask_for_load(tmp_path: Path) -> None:
    verdict = analyse(read_inputs(golden(tmp_path, "minimal"), profile="contract")).verdict
    assert verdict.outcome == "ready"
    assert not any(i.label.startswith("load on") for i in verdict.items)


def test_the_default_profile_requires_load_on_both_backends(tmp_path: Path) -> None:
    profile = read_run_profile()
    assert profile.load.required and profile.load.backends == ["azure", "s3"]
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[load]\nrequired = true\nbackend = ["azure"]\n')
    with pytest.raises(ProfileError, match=r"load\.backend: Extra inputs are not permitted"):
        read_run_profile(bad)


def test_envelope_thins_long_series_but_keeps_every_spike() -> None:
    points = [(float(t), 10.0) for t in range(5000)]
    points[3217] = (3217.0, 900.0)
    kept = envelope(points, limit=400)
    assert len(kept) <= 400
    assert (3217.0, 900.0) in kept
    assert kept == sorted(kept) and kept[0] == (0.0, 10.0)
    assert envelope(points[:10]) == points[:10]


def test_time_chart_axis_covers_the_data_and_draws_dashed_series() -> None:
    svg = time_chart(
        "t",
        "title",
        "desc",
        [Series("app", [(0.0, 1.0), (61.0, 2.0)]), Series("worker", [(5.0, 1.0)], dashed=True)],
        "MiB",
    )
    ticks = [float(t) for t in re.findall(r'text-anchor="middle" fill="#111">([\d.]+)<', svg)]
    assert ticks[0] == 0 and ticks[-1] >= 61 and len(ticks) <= 8
    assert svg.count('stroke-dasharray="5 3"') == 2  # the worker's line and its legend
    assert 'role="img" aria-labelledby="t-t t-d"' in svg


def test_a_failed_run_with_no_other_reason_is_not_ready_and_names_its_notes(
    tmp_path: Path,
) -> None:
    run = golden(tmp_path, "full_pass")

    def crash(data: dict[str, Any]) -> None:
        data["runs"][1] |= {"passed": False, "notes": ["locust exited with code 2"]}

    edit_load(run, crash)
    verdict = analyse(read_inputs(run)).verdict
    assert verdict.outcome == "not ready"
    assert "load duration run on s3 did not pass: locust exited with code 2" in verdict.reasons
    assert item(run, S3).status == "failed" and item(run, AZURE).status == "passed"


def test_an_slo_nobody_exercised_is_missed_with_no_requests(tmp_path: Path) -> None:
    run = golden(tmp_path, "full_pass")

    def unexercised(data: dict[str, Any]) -> None:
        data["runs"][0]["slos"][0] |= {"measured": None, "passed": False}

    edit_load(run, unexercised)
    reasons = analyse(read_inputs(run)).verdict.reasons
    assert reasons == [
        "load SLO missed on azure: POST /api/v1/uploads p95_ms <= 500, measured no requests "
        "(duration run)"
    ]
    assert 'class="fail">no requests: missed<' in load_html(run)


def test_an_endpoint_a_plain_run_never_called_is_a_note_not_a_reason(tmp_path: Path) -> None:
    """load --duration: a rare endpoint the random mix missed is 'not measured' (its SLOs
    not judged), named in the verdict's notes; the run stays ready."""
    run = golden(tmp_path, "full_pass")
    SHARES = "GET /api/v1/shares/{token}"

    def drop_scans(data: dict[str, Any]) -> None:
        for r in data["runs"]:
            if r["mode"] == "duration" and r["backend"] == "azure":
                r["slos"] = [s for s in r["slos"] if s["endpoint"] != SHARES]
                r["not_measured"] = [SHARES]

    edit_load(run, drop_scans)
    verdict = analyse(read_inputs(run)).verdict
    assert verdict.outcome == "ready", verdict.reasons
    [note] = [n for n in verdict.notes if "not measured" in n]
    assert "duration run on azure" in note and SHARES in note
