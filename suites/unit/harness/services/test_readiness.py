"""harness.services.readiness: the shared wait-or-fail and container start every provider uses."""

from __future__ import annotations

import pytest

from harness.services.base import ManagedService, ServiceStartError
from harness.services.readiness import NotReadyError, start_container, wait_or_fail


class _Probed(ManagedService):
    name = "probed"

    def __init__(self, answers_after: int) -> None:
        super().__init__("external", ready_timeout=0.6)
        self.calls = 0
        self.answers_after = answers_after
        self.stopped = False

    def probe(self) -> None:
        self.calls += 1
        if self.calls <= self.answers_after:
            raise NotReadyError(f"not yet ({self.calls})")

    def stop(self) -> None:
        self.stopped = True
        super().stop()


def test_wait_or_fail_returns_once_the_probe_passes() -> None:
    service = _Probed(answers_after=1)
    wait_or_fail(service, "never answers", "fix it")
    assert service.calls == 2 and not service.stopped


def test_wait_or_fail_stops_the_service_and_says_why() -> None:
    service = _Probed(answers_after=10**6)
    with pytest.raises(ServiceStartError) as caught:
        wait_or_fail(service, "x does not answer", "check x")
    assert service.stopped
    assert caught.value.service == "probed" and caught.value.fix == "check x"
    assert caught.value.why.startswith("x does not answer (not yet")


class _Container:
    def __init__(self, fails: bool) -> None:
        self.fails = fails
        self.events: list[str] = []

    def start(self) -> _Container:
        self.events.append("start")
        if self.fails:
            raise RuntimeError("no docker")
        return self

    def stop(self) -> None:
        self.events.append("stop")


def test_start_container_returns_the_started_container() -> None:
    container = _Container(fails=False)
    assert start_container("svc", container, "the svc container", "fix") is container
    assert container.events == ["start"]


def test_start_container_that_fails_is_stopped_and_explained() -> None:
    container = _Container(fails=True)
    with pytest.raises(ServiceStartError) as caught:
        start_container("svc", container, "the svc container", "docker pull svc")
    assert container.events == ["start", "stop"]
    assert caught.value.why == "the svc container did not start (RuntimeError: no docker)"
    assert caught.value.fix == "docker pull svc"
