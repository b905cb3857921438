"""The HTML report: a data model loaded from a run folder, and its renderer."""

from harness.report.model import Run, load_run
from harness.report.render import render_run

__all__ = ["Run", "load_run", "render_run"]
