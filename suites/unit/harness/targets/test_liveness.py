"""TargetWatch: who is named when a shared target stops answering (a fake probe, no sockets)."""

from __future__ import annotations

from pathlib import Path

from harness.targets._liveness import Endpoint, TargetWatch

URL = "http://127.0.0.1:9000"


def _watch(shared_dir: Path, answers: list[str | None]) -> TargetWatch:
    """A watch on one shared target whose probe answers from `answers` (None: it answers)."""
    watch = TargetWatch(shared_dir, shared=lambda _: True, probe=lambda _: answers.pop(0))
    watch.saw("s3:external", URL)
    return watch


def test_a_failed_body_on_a_live_target_names_nothing(tmp_path: Path) -> None:
    watch = _watch(tmp_path, [None])
    assert watch.after_failure("s3:external", "t::a") is None
    assert watch.known_down("s3:external") is None


def test_a_setup_sighting_is_unnamed_and_a_later_failed_body_is_named(tmp_path: Path) -> None:
    """A setup (or teardown) on another worker may run while the test that met the stop
    is still failing: it notes the target down, unnamed, and does not take the name."""
    other_worker = _watch(tmp_path, ["connection refused"])
    sighting = other_worker.after_failure("s3:external", "t::c0", claim=False)
    assert sighting is not None
    down, first = sighting
    assert (down.during, first) == ("", False)
    assert down.reason() == "not run: s3:external stopped answering (connection refused)"
    assert not list(tmp_path.iterdir()), "an unnamed sighting claims nothing"

    running = _watch(tmp_path, ["connection refused"])
    named, first = running.after_failure("s3:external", "t::b") or (None, False)
    assert named is not None and first and named.during == "t::b"
    # the other worker's next test is skipped with the name now that there is one
    later = other_worker.known_down("s3:external")
    assert later is not None and later.during == "t::b"
    assert later.reason().endswith("during t::b")


def test_only_one_failed_body_is_named(tmp_path: Path) -> None:
    first_worker = _watch(tmp_path, ["connection refused"])
    second_worker = _watch(tmp_path, ["connection refused"])
    assert first_worker.after_failure("s3:external", "t::b") is not None
    seen = second_worker.after_failure("s3:external", "t::c3")
    assert seen is not None
    down, first = seen
    assert down.during == "t::b" and not first


def test_an_endpoint_is_host_and_port() -> None:
    assert Endpoint.from_url(URL) == Endpoint("127.0.0.1", 9000)
    assert Endpoint.from_url("https://example.com/x") == Endpoint("example.com", 443)
