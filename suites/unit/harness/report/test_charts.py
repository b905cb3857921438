"""The report's bar charts: readable labels that fit their column (issue 20, "Charts")."""

from __future__ import annotations

import re

import pytest

from harness.report.labels import op_label
from harness.report.view.svg import LABEL_CHAR_W, Bar, bar_chart, category_lines


def test_labels_are_readable_names_not_test_functions() -> None:
    assert op_label("upload", 1024) == "Upload 1 KiB"
    assert op_label("migrate-objects", 256 * 1024, objects=2000) == "migrate-objects 2,000 objects"
    assert (
        op_label("migrate-objects-1-worker", 256 * 1024, objects=2000)
        == "migrate-objects 2,000 objects, 1 worker"
    )
    assert op_label("test_share_resolution_vs_health", None) == "Share-link resolution"
    assert op_label("test_api_upload_vs_direct", 1024 * 1024) == "Upload through the API 1 MiB"
    assert op_label("test_list_all_versions", None) == "List all versions"


@pytest.mark.parametrize("width", [240.0, 58.0, 45.0])
def test_every_label_line_fits_its_column_and_no_word_is_lost(width: float) -> None:
    labels = [
        "Upload 1 KiB",
        "List 100 blobs",
        "migrate-objects 2,000 objects",
        "migrate-objects 2,000 objects, 1 worker",
    ]
    for label, lines in zip(labels, category_lines(labels, width), strict=True):
        assert all(len(line) * LABEL_CHAR_W <= width for line in lines), (width, lines)
        assert "".join(lines).replace(" ", "") == label.replace(" ", "")


def test_a_column_too_narrow_for_a_word_widens_the_chart_to_fit_it() -> None:
    cats = [f"Operation{i}withalongname" for i in range(12)]
    svg = bar_chart("t", "t", "t", cats, ["p50"], {(c, "p50"): Bar(1.0) for c in cats}, "ms")
    width = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))  # type: ignore[union-attr]
    assert width > 640
    column = (width - 70) / len(cats)
    assert len(cats[0]) * LABEL_CHAR_W <= column


def test_wrapped_labels_grow_the_chart_downwards_not_into_each_other() -> None:
    cats = ["a", "migrate-objects 2,000 objects, 1 worker"] + [f"op {i}" for i in range(8)]
    svg = bar_chart("t", "t", "t", cats, ["p50"], {(c, "p50"): Bar(1.0) for c in cats}, "ms")
    height = float(re.search(r'viewBox="0 0 [\d.]+ ([\d.]+)"', svg).group(1))  # type: ignore[union-attr]
    assert height > 300
    for line in category_lines(cats, (640 - 70) / len(cats))[1]:
        assert f">{line}</text>" in svg
