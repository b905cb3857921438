"""The metrics-scrape goal in the report: its assessed item, its reasons in the verdict and
its table, all judged by `ScrapePoint.decide` (today's rule, not a stored verdict)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.report.assessment import assess
from harness.report.profile import read_run_profile
from harness.report.verdict import verdict
from harness.report.view.tables import scrape_table
from harness.runfolder import RunData, read_run
from harness.runfolder.bench import ScrapePoint
from harness.runfolder.folder import BenchData

GOLDEN = Path(__file__).resolve().parents[4] / "fixtures" / "golden_runs"
LABEL = "metrics scrape under load: p99 < 50 ms"


def _point(backend: str, **change: Any) -> ScrapePoint:
    fields: dict[str, Any] = dict(
        backend=backend, goal_p99_ms=50.0, p99_ms=30.0, ci_low_ms=25.0, ci_high_ms=40.0,
        p50_ms=8.0, p90_ms=15.0, max_ms=61.5, scrapes=1000, interval_s=0.03, seconds=30.0,
        exposition_bytes=22190, series=187, load_rps=26.0, jobs_in_database=100_000,
        load_average=1.5, health_p50_ms=2.1, health_p99_ms=9.5, app_cpu_ms_per_scrape=3.2,
        measured=True, verdict="met",
    )  # fmt: skip
    fields.update(change)
    return ScrapePoint(**fields)


def _run(*points: ScrapePoint) -> RunData:
    return RunData(path=Path("run"), bench=BenchData(scrape=list(points)))


def _item(run: RunData) -> Any:
    return next(i for i in assess(run, read_run_profile("default")) if i.label == LABEL)


def test_the_golden_runs_meet_it_and_miss_it_on_s3() -> None:
    passing = _item(read_run(GOLDEN / "full_pass"))
    assert (passing.status, passing.assessed_backends) == ("passed", ("azure", "s3"))
    assert passing.detail.startswith("2 of 2 met")
    failing = read_run(GOLDEN / "not_ready")
    assert _item(failing).status == "failed"
    reasons = verdict(failing, read_run_profile("default")).reasons
    [reason] = [r for r in reasons if "/metrics scrape" in r]
    assert reason.startswith("goal S3 /metrics scrape under load p99 < 50 ms not met: p99 67.2")


def test_a_stored_verdict_is_judged_again_by_todays_rule() -> None:
    run = _run(_point("azure"), _point("s3", p99_ms=70.0, ci_low_ms=60.0, ci_high_ms=80.0))
    item = _item(run)
    assert item.status == "failed"
    assert "not met: S3 /metrics scrape under load p99 70.0 ms" in item.detail


def test_undecided_is_shown_as_such_and_smoke_runs_are_not_assessed() -> None:
    straddles = _point("s3", p99_ms=48.0, ci_low_ms=44.0, ci_high_ms=53.0)
    item = _item(_run(_point("azure"), straddles))
    assert item.status == "undecided"
    notes = verdict(_run(_point("azure"), straddles), read_run_profile("default")).notes
    assert any("undecided: p99 48.0 ms, 95% CI [44.0, 53.0]" in n for n in notes)
    smoke = _item(_run(_point("azure", measured=False), _point("s3", measured=False)))
    assert (smoke.status, smoke.assessed_backends) == ("not assessed", ())
    assert _item(_run(_point("azure"))).status == "not assessed"  # S3 never measured


def test_the_table_shows_the_p99_with_its_interval_beside_the_goal() -> None:
    table = scrape_table([_point("azure", ci_high_ms=None, verdict="undecided")])
    [row] = table.rows
    cells = [getattr(c, "text", c) for c in row]
    assert cells[:4] == ["Azure", "30.0 ms [25.0, -]", "< 50.0 ms", "8.00 / 15.0 / 61.5 ms"]
    assert cells[4:8] == [
        "2.10 / 9.50 ms",
        "1,000 every 30.0 ms",
        "3.20 ms",
        "22,190 bytes, 187 series",
    ]
    assert "100,000 jobs in the database" in str(cells[8])
    assert cells[9] == "undecided"
