"""The report renderer against the checked-in golden run folders (fixtures/golden_runs)."""

from __future__ import annotations

import json
import re
import shutil
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from crownsafe.redaction import MARKER
from harness.cli import main as cli_main
from harness.report import analysis, render_run
from harness.report.verdict import verdict as judge
from harness.runfolder import read_run

GOLDEN = Path(__file__).resolve().parents[4] / "fixtures" / "golden_runs"
SECTIONS = (
    "verdict",
    "seed",
    "operations",
    "statistics",
    "cost",
    "resilience",
    "migration",
    "load",
    "suites",
    "regressions",
    "environment",
)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def count(self, tag: str) -> int:
        return sum(1 for t, _ in self.tags if t == tag)


def golden(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(GOLDEN / name, target)
    return target


_RENDERED: dict[tuple[str, str | None], tuple[str, Tags]] = {}


def rendered(tmp_path: Path, name: str, baseline: str | None = None) -> tuple[str, Tags]:
    """Render a copy of a golden run once per test session (rendering is deterministic)."""
    if (name, baseline) not in _RENDERED:
        base = golden(tmp_path, baseline) if baseline else None
        html = render_run(golden(tmp_path, name), base).read_text("utf-8")
        tags = Tags()
        tags.feed(html)
        _RENDERED[name, baseline] = (html, tags)
    return _RENDERED[name, baseline]


def verdict_text(html: str) -> str:
    match = re.search(r'<p class="big">([^<]+)</p>', html)
    assert match, "no verdict paragraph in the report"
    return match.group(1)


def test_full_run_is_ready_with_every_section(tmp_path: Path) -> None:
    html, tags = rendered(tmp_path, "full_pass")
    assert verdict_text(html) == "Ready"
    ids = {a.get("id") for _, a in tags.tags}
    assert set(SECTIONS) <= ids
    assert "Emulator numbers, not cloud numbers" in html
    assert "Everything the profile requires was assessed and passed" in html


def test_seed_table_has_measured_numbers_beside_the_estimates(tmp_path: Path) -> None:
    html, _ = rendered(tmp_path, "full_pass")
    seed = html[html.index('id="seed"') : html.index('id="operations"')]
    for label, estimate in (
        ("Upload 1MB", "~150 ms"),
        ("Download 1MB", "~100 ms"),
        ("Generate URL", "~5 ms"),
        ("List 100 blobs", "~80 ms"),
    ):
        row = seed[seed.index(label) :].split("</tr>")[0]
        assert estimate in row
        assert len(re.findall(r"\d ms \[[\d.]+, [\d.]+\]", row)) == 2, row
        assert "not measured" not in row
    assert "$0.0208 (price table)" in seed


def test_every_chart_is_labelled_svg_with_a_table_behind_it(tmp_path: Path) -> None:
    html, tags = rendered(tmp_path, "full_pass")
    svgs = [a for t, a in tags.tags if t == "svg"]
    assert len(svgs) >= 8
    for attrs in svgs:
        assert attrs.get("role") == "img"
        labels = (attrs.get("aria-labelledby") or "").split()
        assert len(labels) == 2 and all(f'id="{i}"' in html for i in labels)
    assert len(re.findall(r"<figure[ >]", html)) == len(svgs)
    ids = [a["id"] for _, a in tags.tags if a.get("id")]
    assert len(ids) == len(set(ids)), "an id appears twice: aria labels would point wrong"
    assert html.count("Data behind:") + html.count("Monthly cost per provider") >= len(svgs)
    assert tags.count("table") == tags.count("caption")
    assert all(a.get("scope") == "col" for t, a in tags.tags if t == "th")


@pytest.mark.parametrize("name", ["full_pass", "not_ready", "minimal", "generator_saturated"])
def test_report_needs_nothing_from_the_network(tmp_path: Path, name: str) -> None:
    html, tags = rendered(tmp_path, name)
    assert (
        "http://" not in html
        and "https://" not in html
        and "//" not in re.sub(r"file://", "", html)
    )
    assert tags.count("script") == 0 and tags.count("link") == 0 and tags.count("img") == 0
    assert tags.count("iframe") == 0 and "@import" not in html and "url(" not in html
    hrefs = [a["href"] for _, a in tags.tags if a.get("href")]
    assert hrefs and all(h.startswith("#") for h in hrefs)
    assert not [a for _, a in tags.tags if "src" in a]
    assert "default-src 'none'" in html


@pytest.mark.parametrize("name", ["full_pass", "not_ready"])
def test_secrets_from_the_environment_never_reach_the_report(tmp_path: Path, name: str) -> None:
    html, _ = rendered(tmp_path, name)
    assert "must-never-appear-in-the-report" not in html
    assert escape(MARKER) in html


def test_failing_run_is_not_ready_and_says_why(tmp_path: Path) -> None:
    html, _ = rendered(tmp_path, "not_ready")
    assert verdict_text(html) == "Not ready"
    verdict = html[html.index('id="verdict"') : html.index('aria-label="Contents"')]
    for reason in (
        "2 failed test(s) in suite contract [s3]",
        "1 acknowledged upload(s) lost or corrupted under faults",
        "migration: object_migration.mismatches = 2",
        "resilience check failed: no secret in captured logs [s3]",
        "benchmark regression gate failed",
        "load SLO missed on azure: POST /api/v1/uploads p95_ms &lt;= 500",
    ):
        assert reason in verdict
    assert "security.json: not JSON" in verdict
    assert "expected 1048576 bytes, got 0" in html
    assert 'class="fail">lost (5 calls' in html


def test_minimal_run_renders_what_it_has_and_names_what_is_missing(tmp_path: Path) -> None:
    html, tags = rendered(tmp_path, "minimal")
    assert verdict_text(html) == "Incomplete"
    assert "resilience suite: not assessed (did not run)" in html
    assert "No resilience results (resilience.json) in this run" in html
    assert "Suite results per suite and backend" in html
    assert tags.count("svg") == 1  # the cost chart needs no run data
    seed = html[html.index('id="seed"') : html.index('id="operations"')]
    assert seed.count("not measured") == 12


def test_baseline_comparison_flags_a_slowed_run(tmp_path: Path) -> None:
    html, _ = rendered(tmp_path, "not_ready", baseline="full_pass")
    assert "against the baseline run full_pass" in html
    assert html.count(">REGRESSION<") >= 20
    assert "regression against the baseline: benchmarks/test_bench_ops.py::" in html


def test_a_run_against_itself_has_no_regression(tmp_path: Path) -> None:
    run = golden(tmp_path, "full_pass")
    rows = analysis.baseline_rows(read_run(run), read_run(run))
    assert len(rows) == 48 + 3  # the storage benchmarks and the three object-migration ones
    assert not any(r.regression for r in rows)
    assert all(r.comparison and r.comparison.verdict == "same" for r in rows)


def test_malformed_files_are_named_problems_never_silently_left_out(tmp_path: Path) -> None:
    """Every unreadable or schema-invalid file is named, with its first error, and makes
    the run not ready; the report still renders what the other files hold."""
    assert read_run(tmp_path / "absent").problems
    empty = read_run(tmp_path)
    assert not empty.suites and empty.bench.empty() and empty.resilience is None
    verdict = judge(empty)
    assert verdict.outcome == "incomplete" and "nothing ran" in verdict.notes[-1]
    (tmp_path / "suites").mkdir()
    (tmp_path / "suites" / "odd.json").write_text(json.dumps({"tests": ["x", {"outcome": 3}]}))
    (tmp_path / "benchmarks.json").write_text(json.dumps({"benchmarks": [{"stats": "?"}, 5]}))
    (tmp_path / "resilience.json").write_text("{not json")
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "paired.json").write_text("[1, 2]")
    run = read_run(tmp_path)
    named = {p.relative: p.problem for p in run.problems}
    assert set(named) == {
        "suites/odd.json",
        "benchmarks.json",
        "resilience.json",
        "bench/paired.json",
    }
    assert named["suites/odd.json"].startswith("does not match its schema: suite: Field required")
    assert named["resilience.json"].startswith("not JSON")
    verdict = judge(run)
    assert not verdict.ready
    assert any(r.startswith("resilience.json: not JSON") for r in verdict.reasons)
    assert render_run(tmp_path).is_file()


def report_main(argv: list[str]) -> int:
    return cli_main(["report", *argv])


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert report_main([str(golden(tmp_path, "full_pass"))]) == 0
    assert "verdict: READY" in capsys.readouterr().out
    assert report_main([str(golden(tmp_path, "not_ready"))]) == 1
    assert "NOT READY" in capsys.readouterr().out
    assert report_main([str(tmp_path / "nope")]) == 2


def test_out_writes_elsewhere_and_leaves_index_html_alone(tmp_path: Path) -> None:
    run = golden(tmp_path, "full_pass")
    out = tmp_path / "compare.html"
    assert report_main([str(run), "--baseline", str(run), "--out", str(out)]) == 0
    assert out.is_file() and not (run / "index.html").exists()


def test_label_says_external_when_the_services_were_external(tmp_path: Path) -> None:
    run = golden(tmp_path, "minimal")
    services = {"services": [{"name": "azure", "mode": "external", "ready_s": 0.1}]}
    (run / "services.json").write_text(json.dumps(services))
    html = render_run(run).read_text("utf-8")
    assert "Measured against external endpoints" in html
    assert "Emulator numbers, not cloud numbers" not in html


def _section(html: str, start: str, end: str) -> str:
    return html[html.index(f'id="{start}"') : html.index(f'id="{end}"')]


def test_overhead_section_shows_goal_ci_noise_floor_and_verdict(tmp_path: Path) -> None:
    html, _ = rendered(tmp_path, "full_pass")
    section = _section(html, "overhead", "api")
    assert '<h2 id="h-overhead">crownsafe overhead</h2>' in section
    assert 'href="#overhead"' in html
    assert section.count("<svg") == 2 and section.count('<figure class="wide">') == 2
    for i in (0, 1):
        assert f'aria-labelledby="overhead-{i}-t overhead-{i}-d"' in section
    tables = section.split("<caption>")[1:]
    assert len(tables) == 3  # two comparisons and the memory table
    sdk, resilient, memory = tables
    assert sdk.startswith(
        "Data behind: ops/s ratio crownsafe / raw SDK, goal &gt;= 0.95 "
        "(issue 2: &gt;= 0.95x the raw SDK)"
    )
    assert "resilient / bare client, goal &gt;= 0.98 (issue 19: &lt;= 2% cost)" in resilient
    for table, goal in ((sdk, "0.95"), (resilient, "0.98")):
        rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
        assert len(rows) == 8
        assert rows[0].startswith("<td>Azure Download 1 KiB</td>")
        for row in rows:
            assert re.search(r"<td>[01]\.\d+ \[[01]\.\d+, [01]\.\d+\]</td>", row), row
            assert re.search(r"<td>\d\.\d%</td>", row), "noise floor column"
            assert '<td class="pass">met</td>' in row
            assert f"CI low &gt;= goal {goal} - noise floor" in row
    memory_rows = re.findall(r"<tr>(.*?)</tr>", memory, re.S)[1:]
    assert len(memory_rows) == 2
    assert all("&lt; 64 MiB" in r and ">met<" in r for r in memory_rows)
    assert "+17.0 MiB" in memory_rows[0] and "clear_refs" in memory_rows[0]


def test_goal_not_met_makes_the_run_not_ready_and_undecided_is_a_note(tmp_path: Path) -> None:
    html, _ = rendered(tmp_path, "not_ready")
    verdict = _section(html, "verdict", "overhead")
    assert (
        "performance goal S3 Upload 1 KiB: crownsafe / raw SDK &gt;= 0.95x not met: "
        "0.760x, CI [0.752, 0.766]: CI high &lt; goal 0.95 - noise floor 1.6%"
    ) in verdict
    assert "memory goal for a streamed S3 Upload 64 MiB not met: +70.0 MiB &gt;= 64 MiB" in verdict
    assert "performance goal Azure Download 1 KiB: crownsafe / raw SDK &gt;= 0.95x undecided" in (
        verdict
    )
    section = _section(html, "overhead", "api")
    assert section.count('class="fail">not met<') == 2
    assert section.count('class="warn">undecided<') == 2


def test_a_smoke_run_of_the_overhead_benchmark_is_never_a_verdict(tmp_path: Path) -> None:
    run = golden(tmp_path, "minimal")
    data = json.loads((GOLDEN / "not_ready" / "bench" / "ratios.json").read_text())
    for entry in data["comparisons"]:
        entry["measured"] = False
    (run / "bench").mkdir()
    (run / "bench" / "ratios.json").write_text(json.dumps(data))
    html = render_run(run).read_text("utf-8")
    assert verdict_text(html) == "Incomplete"
    verdict = _section(html, "verdict", "overhead")
    assert "performance goal" not in verdict
    assert "benchmark goal crownsafe_vs_raw: not assessed (not measured (smoke or absent))" in (
        verdict
    )
    # A smoke run is never a verdict, whatever the file says (it said "not met" here).
    assert "not met (smoke run)" not in html
    assert "undecided (smoke run)" in html


def test_the_compatibility_matrix_shows_each_promise_on_each_target(tmp_path: Path) -> None:
    html, _ = rendered(tmp_path, "full_pass")
    section = _section(html, "compatibility", "regressions")
    assert '<th scope="col">s3:localstack</th>' in section
    rows = re.findall(r"<tr>(.*?)</tr>", section, re.S)[1:]
    assert len(rows) == 4
    expired = next(r for r in rows if "test_expired_sas_cannot_read" in r)
    assert expired.count('class="pass">kept<') == 2
    assert (
        'class="warn" title="presigned URLs are not verified; seen 2026-12-01">'
        "known gap (presigned URLs are not verified; seen 2026-12-01)<"
    ) in expired
    roundtrip = next(r for r in rows if "test_roundtrip_bytes" in r)
    assert 'class="muted" title="not selected: this target runs the security promises only">' in (
        roundtrip
    )
    assert ">not run (not selected: this target runs the security promises only)<" in roundtrip


def test_a_not_run_or_broken_matrix_cell_shows_its_reason(tmp_path: Path) -> None:
    """compatibility.json's detail is in the cell's title, and in its text (cut when long),
    like a known gap's behaviour."""
    run = golden(tmp_path, "full_pass")
    data = json.loads((run / "compatibility.json").read_text())
    failure = "AssertionError: [s3:moto] expected 1048576 bytes, got 0 " + "x" * 200
    unsafe = "not run on s3:localstack: unsafe known gap (wedges the emulator; seen 2026-12-01)"
    edited = iter([("broken", failure), ("not_run", unsafe)])
    for cell in data["cells"]:
        if cell["status"] == "kept" and cell["target"] == "s3:moto":
            cell["status"], cell["detail"] = next(edited, (cell["status"], cell["detail"]))
    (run / "compatibility.json").write_text(json.dumps(data))
    section = _section(render_run(run).read_text("utf-8"), "compatibility", "regressions")
    assert f'class="fail" title="{escape(failure)}">broken ({escape(failure[:97])}...)<' in (
        section
    )
    assert f'class="muted" title="{escape(unsafe)}">not run ({escape(unsafe)})<' in section


def test_a_reason_every_not_run_cell_of_a_target_shares_is_said_once(tmp_path: Path) -> None:
    """LocalStack runs the security promises only: from three such cells on, the reason is
    in the table's note (and each cell's title), not repeated in every cell's text."""
    run = golden(tmp_path, "full_pass")
    data = json.loads((run / "compatibility.json").read_text())
    template = [c for c in data["cells"] if c["promise"] == "test_roundtrip_bytes"]
    scope = next(c["detail"] for c in template if c["status"] == "not_run")
    for n in range(3):
        promise = f"test_extra_{n}"
        data["promises"][promise] = f"extra promise {n}"
        data["cells"] += [{**c, "promise": promise} for c in template]
    (run / "compatibility.json").write_text(json.dumps(data))
    section = _section(render_run(run).read_text("utf-8"), "compatibility", "regressions")
    assert f"s3:localstack: not run = {escape(scope)}" in section
    assert f'class="muted" title="{escape(scope)}">not run<' in section
    assert f">not run ({escape(scope)})<" not in section


def test_known_gaps_have_one_name_and_one_count_everywhere(tmp_path: Path) -> None:
    """Six xfails were "6 skipped" in one line, 0 in the summary table and "Other 6" in the
    report: they are "known gap", counted the same in the suite table, the assessed
    table and the notes."""
    run = golden(tmp_path, "full_pass")
    path = run / "suites" / "contract.json"
    data = json.loads(path.read_text())
    for test in [t for t in data["tests"] if t["backend"] == "s3"][:6]:
        test["outcome"] = "xfailed"
    path.write_text(json.dumps(data))
    html = render_run(run).read_text("utf-8")
    suites = _section(html, "suites", "compatibility")
    assert '<th scope="col">Known gap</th>' in suites
    assert '<th scope="col">Other</th>' not in suites
    row = re.search(r"<tr><td>contract</td><td>s3</td>(.*?)</tr>", suites, re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
    assert cells[:4] == ["38", "0", "0", "6"], cells  # passed, failed, skipped, known gap
    verdict = _section(html, "verdict", "overhead")
    assert "88 tests ran, 0 failed, 6 known gaps" in verdict
    assert "6 known gap(s) in suite contract" in verdict
    assert "6 skipped" not in html and "skipped test(s) in suite contract" not in verdict


def test_each_comparison_uses_its_own_operations_noise_floor(tmp_path: Path) -> None:
    """Upload 1 KiB has no bench/aa.json run, but the overhead loop's A/A pair measured it;
    the Azure/S3 call uses that floor (the larger of the two backends'), not the run's
    largest, and every call shows its floor."""
    run = read_run(golden(tmp_path, "full_pass"))
    rows = {(r.operation, r.size_bytes): r for r in analysis.op_stats(run)}
    upload = rows["upload", 1024]
    own = max(
        r.noise_floor for r in run.bench.ratios if (r.operation, r.size_bytes) == ("upload", 1024)
    )
    assert upload.noise_floor == pytest.approx(own)
    assert upload.noise_source.startswith("A/A of this operation")
    head = rows["head", None]  # measured by no A/A pair at all: the run's largest, said so
    assert head.noise_source.startswith("largest A/A in run (no A/A pair for this operation")
    html = render_run(run.path).read_text("utf-8")
    seed = _section(html, "seed", "operations")
    findings = re.findall(r"<td class=\"[^\"]*\">((?:Azure|S3) faster[^<]*|no diff[^<]*)", seed)
    assert len(findings) == 4
    for finding in findings:
        assert re.search(r"noise floor \d+\.\d%, (A/A of this|largest A/A)", finding), finding


def test_the_sweep_knee_is_90_percent_of_the_best_and_says_when_not_reached(
    tmp_path: Path,
) -> None:
    run = golden(tmp_path, "full_pass")
    path = run / "bench" / "concurrency.json"
    data = json.loads(path.read_text())
    for p in data["points"]:  # Azure 1 KiB: still growing at 64 workers (+20%)
        if (p["backend"], p["size_bytes"]) == ("azure", 1024) and p["workers"] == 64:
            p["ops_per_s"] = round(1200.0 * 1.2, 2)
    path.write_text(json.dumps(data))
    html = render_run(run).read_text("utf-8")
    section = _section(html, "operations", "overhead")
    assert (
        "Azure: knee not reached: still growing at its last step (best 1,440 ops/s" in (section)
        or "Azure: knee not reached: still growing at its last step (best 1440 ops/s" in section
    )
    # S3 1 KiB: 300, 780, 900, 870 ops/s: 780 is 87% of 900, so the knee is 16 workers
    assert "S3: knee at 16 workers (900 ops/s, &gt;= 90% of the best 900 ops/s at 16 workers)" in (
        section
    )


def _svg(html: str, chart_id: str) -> str:
    start = html.index(f'aria-labelledby="{chart_id}-t ')
    return html[start : html.index("</svg>", start)]


def _axis_max(svg: str) -> float:
    ticks = re.findall(r'text-anchor="end" fill="#333">([\d,.]+)</text>', svg)
    return max(float(t.replace(",", "")) for t in ticks)


def test_long_operations_get_their_own_latency_chart(tmp_path: Path) -> None:
    """Issue 20: 3-5 s object-migration bars set the Azure percentile chart's axis and
    flattened every storage operation; now storage operations set it, and the migration
    has a chart of its own."""
    html, _ = rendered(tmp_path, "full_pass")
    rows = analysis.op_stats(read_run(GOLDEN / "full_pass"))
    storage = [r for r in rows if not r.operation.startswith("migrate") and "azure" in r.pct]
    slowest_storage_ms = 1000 * max(
        r.pct["azure"].p99 for r in storage if (r.size_bytes or 0) <= 1024 * 1024
    )
    azure = _svg(html, "pct-azure")
    assert slowest_storage_ms < _axis_max(azure) <= 2.5 * slowest_storage_ms
    assert _axis_max(azure) < 100
    assert "migrate-objects" not in azure
    long = _svg(html, "pct-azure-long")
    assert "migrate-objects" in long and "Upload" not in long
    assert _axis_max(long) >= 4000
    assert "pct-s3-long" not in html
