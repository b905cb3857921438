"""Start several services in parallel, time each one, and never leave one running on failure.

`start_services(["azure", "s3"], "local")` returns a `ProvisionedServices` handle with the
started services (`.azure`, `.s3`, `.redis`, `.postgres`), their ready times and the time
until all were ready; `handle.write(run_dir)` records them as `services.json`.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from harness.runfolder import write_file
from harness.runfolder.services import ServicesFile
from harness.services.azurite import AzuriteService
from harness.services.base import ProvisionMode, Service, ServiceStartError
from harness.services.redis import RedisService
from harness.services.s3 import S3Service

__all__ = [
    "SERVICE_NAMES",
    "ProvisionError",
    "ProvisionedServices",
    "ServiceTiming",
    "build_service",
    "canonical_service_name",
    "start_services",
]

log = logging.getLogger(__name__)

SERVICE_NAMES = ("azure", "s3", "redis", "postgres")
_ALIASES = {
    "azure": "azure",
    "azurite": "azure",
    "s3": "s3",
    "moto": "s3",
    "redis": "redis",
    "postgres": "postgres",
    "postgresql": "postgres",
}


def canonical_service_name(name: str) -> str:
    """'azurite' -> 'azure', 'moto' -> 's3', ...; ValueError for an unknown name."""
    try:
        return _ALIASES[name.strip().lower()]
    except KeyError:
        raise ValueError(
            f"unknown service {name!r}: choose from {', '.join(SERVICE_NAMES)}"
        ) from None


def _service_class(name: str) -> Callable[..., Service]:
    if name == "azure":
        return AzuriteService
    if name == "s3":
        return S3Service
    if name == "redis":
        return RedisService
    try:
        from harness.services.postgres import PostgresService  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise ServiceStartError(
            "postgres",
            f"harness.services.postgres cannot be imported ({exc})",
            "reinstall the harness with `make bootstrap`",
        ) from None
    return PostgresService  # type: ignore[no-any-return,unused-ignore]


class ProvisionError(ServiceStartError):
    """More than one service failed to start; carries each one's error."""

    def __init__(self, errors: list[ServiceStartError]) -> None:
        self.errors = errors
        super().__init__(
            ", ".join(e.service for e in errors),
            "; ".join(f"{e.service}: {e.why}" for e in errors),
            " / ".join(f"{e.service}: {e.fix}" for e in errors),
            "\n".join(f"[{e.service}]\n{e.log_tail}" for e in errors if e.log_tail),
        )


@dataclass(frozen=True)
class ServiceTiming:
    name: str
    mode: str
    ready_s: float
    endpoint: str


@dataclass
class ProvisionedServices:
    """The services of one run; stop() stops them all (also on leaving a `with` block)."""

    mode: ProvisionMode
    services: dict[str, Service] = field(default_factory=dict)
    timings: list[ServiceTiming] = field(default_factory=list)
    parallel_ready_s: float = 0.0
    started_at: str = ""

    def _get(self, name: str) -> Any:
        service = self.services.get(name)
        if service is None:
            started = ", ".join(self.services) or "none"
            raise LookupError(
                f"{name} was not started in this run (started: {started}); "
                f"add it to --backends (or to the services you start)"
            )
        return service

    @property
    def azure(self) -> AzuriteService:
        return self._get("azure")  # type: ignore[no-any-return]

    @property
    def s3(self) -> S3Service:
        return self._get("s3")  # type: ignore[no-any-return]

    @property
    def redis(self) -> RedisService:
        return self._get("redis")  # type: ignore[no-any-return]

    @property
    def postgres(self) -> Any:
        return self._get("postgres")

    def __contains__(self, name: object) -> bool:
        return name in self.services

    def env(self) -> dict[str, str]:
        """crownsafe's settings for all started services, merged."""
        merged: dict[str, str] = {}
        for service in self.services.values():
            merged.update(service.env())
        return merged

    def harness_env(self) -> dict[str, str]:
        """HARNESS_* variables so a child harness run uses these services (external mode)."""
        merged: dict[str, str] = {}
        for service in self.services.values():
            harness_env = getattr(service, "harness_env", None)
            if callable(harness_env):
                merged.update(harness_env())
        return merged

    def to_record(self) -> ServicesFile:
        """The services.json record: timings and endpoints, never a credential."""
        return ServicesFile.model_validate(
            {
                "mode": self.mode,
                "started_at": self.started_at,
                "services": [asdict(t) for t in self.timings],
                "parallel_ready_s": round(self.parallel_ready_s, 4),
            }
        )

    def write(self, run_dir: Path) -> Path:
        return write_file(run_dir, self.to_record())

    def stop(self) -> None:
        """Stop every service (in reverse start order); errors are logged, not raised."""
        for name, service in reversed(list(self.services.items())):
            try:
                service.stop()
            except Exception:
                log.exception("stopping %s failed", name)
        self.services.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _describe(service: Service) -> str:
    describe = getattr(service, "describe", None)
    return str(describe()) if callable(describe) else ""


def build_service(
    name: str,
    mode: ProvisionMode = "local",
    log_dir: Path | None = None,
    options: Mapping[str, Any] | None = None,
) -> Service:
    """An unstarted provider for `name` ('azure', 's3', 'redis', 'postgres' or an alias)."""
    cls = _service_class(canonical_service_name(name))
    kwargs = dict(options or {})
    if log_dir is not None and "log_dir" in inspect.signature(cls).parameters:
        kwargs.setdefault("log_dir", log_dir)
    return cls(mode, **kwargs)


def start_services(
    names: Iterable[str],
    mode: ProvisionMode = "local",
    *,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    log_dir: Path | None = None,
    on_ready: Callable[[ServiceTiming], None] | None = None,
) -> ProvisionedServices:
    """Start the named services at once and wait until every one answers.

    `options` holds constructor keywords per service (e.g. `{"azure": {"https": True}}`);
    `log_dir` keeps the local processes' logs (default: a temp dir removed on stop);
    `on_ready` is called as each service becomes ready (progress output).
    If any service fails, every other one is stopped before the error is raised: a
    `ServiceStartError` for one failure, a `ProvisionError` listing them for several.
    """
    wanted = list(dict.fromkeys(canonical_service_name(n) for n in names))
    handle = ProvisionedServices(mode=mode, started_at=datetime.now(UTC).isoformat())
    if not wanted:
        return handle
    built = {n: build_service(n, mode, log_dir, (options or {}).get(n)) for n in wanted}

    def start_one(name: str) -> ServiceTiming:
        began = time.perf_counter()
        service = built[name].start()
        timing = ServiceTiming(
            name, mode, round(time.perf_counter() - began, 4), _describe(service)
        )
        if on_ready is not None:
            on_ready(timing)
        return timing

    began = time.perf_counter()
    errors: list[ServiceStartError] = []
    unexpected: BaseException | None = None
    try:
        with ThreadPoolExecutor(len(wanted), thread_name_prefix="provision") as pool:
            futures = [pool.submit(start_one, name) for name in wanted]
            for future in futures:
                try:
                    handle.timings.append(future.result())
                except ServiceStartError as exc:
                    errors.append(exc)
                except Exception as exc:
                    unexpected = unexpected or exc
    except BaseException:
        for service in built.values():
            service.stop()
        raise
    handle.parallel_ready_s = time.perf_counter() - began
    handle.services = built
    if errors or unexpected is not None:
        handle.stop()
        if unexpected is not None:
            raise unexpected
        raise errors[0] if len(errors) == 1 else ProvisionError(errors)
    return handle
