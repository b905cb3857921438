"""The report's connection-pool section (bench/pool.json, issue 19): one chart per backend
and operation, one line per pool size, and the table that marks each worker count's best."""

from __future__ import annotations

import json
from pathlib import Path

from harness.report import render_run

from .test_render import golden


def _point(backend: str, operation: str, pool: int, workers: int, ops_per_s: float) -> dict:
    return {
        "backend": backend,
        "operation": operation,
        "size_bytes": 1024,
        "max_connections": pool,
        "workers": workers,
        "rounds": 3,
        "ops": 120,
        "seconds": round(120 / ops_per_s, 6),
        "ops_per_s": ops_per_s,
        "retries": 1 if (pool, workers) == (4, 64) else 0,
        "measured": True,
    }


def test_the_pool_sweep_renders_a_chart_per_backend_and_operation(tmp_path: Path) -> None:
    run = golden(tmp_path, "full_pass")
    points = [
        _point(backend, operation, pool, workers, 100.0 * workers**0.5 + pool)
        for backend in ("azure", "s3")
        for operation in ("upload", "download")
        for pool in (4, 10)
        for workers in (1, 4)
    ]
    (run / "bench" / "pool.json").write_text(json.dumps({"points": points}), "utf-8")
    html = render_run(run).read_text("utf-8")
    assert "<h3>Connection pool</h3>" in html
    for backend in ("azure", "s3"):
        for operation in ("upload", "download"):
            assert f'aria-labelledby="pool-{backend}-{operation}-1024-t ' in html
    assert "4 workers: best pool 10 (210 ops/s)" in html
    assert ">pool 4</text>" in html and ">pool 10</text>" in html


def test_no_pool_file_no_pool_section(tmp_path: Path) -> None:
    html = render_run(golden(tmp_path, "full_pass")).read_text("utf-8")
    assert "Connection pool" not in html
