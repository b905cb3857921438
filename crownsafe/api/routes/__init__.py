"""One router per area of the API."""

from crownsafe.api.routes import health, metrics, reports, scans, shares, uploads, visual

ROUTERS = (
    health.router,
    scans.router,
    shares.router,
    reports.router,
    uploads.router,
    visual.router,
    metrics.router,
)

__all__ = ["ROUTERS"]
