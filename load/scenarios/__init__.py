"""The scenario families, one locust user class each (see ../README.md for the mix).

`base` holds `CrownsafeUser`, which every scenario extends; `reader`, `uploader`,
`sharer` and `reporter` are the families that load/locustfile.py weights. Nothing is
imported here (the modules import locust).
"""

from __future__ import annotations

__all__ = ["base", "reader", "reporter", "sharer", "uploader"]
