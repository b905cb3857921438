"""The process sampler on real processes: this test's own process and a child it starts."""

from __future__ import annotations

import subprocess
import sys

from harness.loadtest.sampling import ProcessSampler, cores_available


def test_sampler_sums_a_process_tree_and_reports_peaks() -> None:
    ticks = iter(float(t) for t in range(100))
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; print('ready', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert child.stdout is not None
    # sampled before the interpreter has started, the child is a fork of a few hundred KiB
    assert child.stdout.readline() == b"ready\n"
    try:
        sampler = ProcessSampler({"app": [child.pid], "generator": []}, clock=lambda: next(ticks))
        sampler.sample_once()
        sampler.sample_once()
        series = {s.role: s for s in sampler.series()}
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=10)
        child.stdout.close()
    app = series["app"]
    assert [s.t_s for s in app.samples] == [1.0, 2.0]  # seconds since the sampler was made
    assert all(s.rss_mib > 1 for s in app.samples)
    assert app.peak_rss_mib == max(s.rss_mib for s in app.samples)
    assert app.pids == [child.pid] and app.cores_available == cores_available()
    assert series["generator"].samples == [] and series["generator"].peak_rss_mib is None


def test_a_process_that_is_gone_is_not_counted() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=10)
    sampler = ProcessSampler({"worker": [child.pid]}, clock=lambda: 0.0)
    sampler.sample_once()
    assert sampler.series()[0].samples == []
