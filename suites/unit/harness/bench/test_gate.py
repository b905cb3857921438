"""harness.bench.gate: the regression gate fails a run made slower on purpose, and only then."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.bench import command, gate


def benchmark_json(medians: dict[str, float], seed: int, n: int = 60) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    entries = []
    for name, median in medians.items():
        data = rng.lognormal(np.log(median), 0.05, n).tolist()
        entries.append(
            {
                "name": name,
                "fullname": f"benchmarks/x.py::{name}",
                "stats": {"median": float(np.median(data)), "data": data},
            }
        )
    return {"benchmarks": entries}


BASE = {"test_upload[azure]": 0.010, "test_upload[s3]": 0.012, "test_sas[azure]": 0.0005}


def test_gate_passes_a_rerun_of_the_same_speed() -> None:
    report = gate.find_regressions(
        gate.samples_by_name(benchmark_json(BASE, seed=2)),
        gate.samples_by_name(benchmark_json(BASE, seed=1)),
    )
    assert report.compared == 3
    assert report.passed, report.regressions


def test_gate_fails_an_operation_made_slower_on_purpose() -> None:
    slowed = {**BASE, "test_upload[s3]": 0.012 * 1.5}
    report = gate.find_regressions(
        gate.samples_by_name(benchmark_json(slowed, seed=2)),
        gate.samples_by_name(benchmark_json(BASE, seed=1)),
    )
    assert not report.passed
    assert [r.name for r in report.regressions] == ["benchmarks/x.py::test_upload[s3]"]
    assert report.regressions[0].ratio == pytest.approx(1.5, rel=0.05)
    assert "excludes 1" in report.regressions[0].reason


def test_slowdown_below_threshold_or_noise_floor_is_not_a_regression() -> None:
    slowed = {**BASE, "test_upload[s3]": 0.012 * 1.08}
    cur = gate.samples_by_name(benchmark_json(slowed, seed=2, n=400))
    base = gate.samples_by_name(benchmark_json(BASE, seed=1, n=400))
    assert gate.find_regressions(cur, base, threshold=0.10, noise_floor=0.0).passed
    assert gate.find_regressions(cur, base, threshold=0.0, noise_floor=0.15).passed
    assert not gate.find_regressions(cur, base, threshold=0.02, noise_floor=0.02).passed


def test_medians_only_gate_uses_threshold_and_floor() -> None:
    report = gate.find_regressions({"a": [0.2], "b": [0.104]}, {"a": [0.1], "b": [0.1]})
    assert [r.name for r in report.regressions] == ["a"]
    assert "medians only" in report.regressions[0].reason


def test_missing_benchmarks_are_listed_not_failed() -> None:
    report = gate.find_regressions({}, {"gone": [0.1]})
    assert report.passed
    assert report.missing == ["gone"]


def test_aa_noise_floor_from_run_data() -> None:
    rng = np.random.default_rng(3)
    runs = [
        {
            "first_s": rng.lognormal(0, s, 300).tolist(),
            "second_s": rng.lognormal(0, s, 300).tolist(),
        }
        for s in (0.01, 0.2)
    ]
    floor = gate.aa_noise_floor({"runs": runs})
    assert floor is not None and 0.0 < floor < 0.2
    assert gate.aa_noise_floor(None) is None


def test_cli_gate_only_fails_a_slowed_run_and_writes_gate_json(tmp_path: Path) -> None:
    base_file = tmp_path / "baseline.json"
    base_file.write_text(json.dumps(benchmark_json(BASE, seed=1)))
    run = tmp_path / "run"
    run.mkdir()
    slowed = {name: median * 2 for name, median in BASE.items()}
    (run / "benchmarks.json").write_text(json.dumps(benchmark_json(slowed, seed=2)))
    status = command.main(["--gate-only", "--run-dir", str(run), "--baseline", str(base_file)])
    assert status == 1
    written = json.loads((run / "bench" / "gate.json").read_text())
    assert written["passed"] is False
    assert len(written["regressions"]) == 3


def test_cli_gate_only_passes_an_unchanged_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "benchmarks.json").write_text(json.dumps(benchmark_json(BASE, seed=2)))
    base_run = tmp_path / "base"
    base_run.mkdir()
    (base_run / "benchmarks.json").write_text(json.dumps(benchmark_json(BASE, seed=1)))
    argv = ["--gate-only", "--run-dir", str(run), "--baseline", str(base_run)]
    assert command.main([*argv, "--profile", "bench"]) == 0  # benchmarks only: nothing required
    assert json.loads((run / "bench" / "gate.json").read_text())["passed"] is True
