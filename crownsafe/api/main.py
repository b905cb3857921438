"""The uvicorn entry point: `uvicorn --factory crownsafe.api.main:app_from_env`.

Settings come from the environment (`crownsafe.config.load_settings`); log lines carry
the correlation id and pass through the one redactor, as JSON unless LOG_FORMAT=text (or
stderr is a terminal: see `crownsafe.api._logging`).
"""

from __future__ import annotations

from fastapi import FastAPI

from crownsafe.api._logging import configure_logging
from crownsafe.api.app import create_app
from crownsafe.config import load_settings

__all__ = ["app_from_env"]


def app_from_env() -> FastAPI:
    settings = load_settings()
    configure_logging(fmt=settings.log_format)
    return create_app(settings)
