"""render(Page) -> HTML: one self-contained page (Jinja2, autoescaped).

The page needs nothing outside itself: CSS is inlined, charts are inline SVG, there is
no script, font, image or link to fetch. Every chart has a table with the same numbers.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from harness.report.view import Page

__all__ = ["render", "write_page"]

_ENV = Environment(
    loader=PackageLoader("harness.report", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(page: Page) -> str:
    context = {f.name: getattr(page, f.name) for f in fields(page)}
    return _ENV.get_template("report.html.j2").render(**context)


def write_page(page: Page, target: Path) -> Path:
    """Render `page` into `target` (written whole, then renamed into place)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(render(page), encoding="utf-8")
    tmp.replace(target)
    return target
