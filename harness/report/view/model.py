"""The table and figure shapes the template renders (every chart has a table)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from markupsafe import Markup

__all__ = ["Cell", "Figure", "Table"]


@dataclass(frozen=True)
class Cell:
    """A table cell with a style class: pass / fail / warn / strong / muted, and an
    optional `title` (the browser's tooltip: the whole text behind a shortened cell)."""

    text: str
    cls: str = ""
    title: str = ""


@dataclass
class Table:
    caption: str
    headers: Sequence[str]
    rows: list[list[Cell | str]] = field(default_factory=list)
    note: str = ""


@dataclass
class Figure:
    """An inline SVG chart and the table with the same numbers."""

    svg: Markup
    table: Table
