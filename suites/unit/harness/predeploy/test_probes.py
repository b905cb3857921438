"""Probe naming, recognition and stale selection (harness.predeploy.probes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crownsafe.errors import StorageUnavailableError
from crownsafe.storage.naming import validate_blob_name
from harness.predeploy.probes import (
    PROBE_PREFIX,
    ProbeSet,
    new_probe_name,
    probe_time,
    stale_probes,
)

NOW = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)


def test_probe_names_are_unique_valid_and_carry_their_time() -> None:
    first = new_probe_name("round-trip", now=NOW, token_hex=lambda n: "ab" * n)
    assert first == f"{PROBE_PREFIX}20261201T100000Z-abababababab-round-trip"
    assert validate_blob_name(first) == first
    assert probe_time(first) == NOW
    assert new_probe_name("sas") != new_probe_name("sas")


@pytest.mark.parametrize(
    "name",
    [
        "_crownsafe-predeploy/notes.txt",
        "_crownsafe-predeploy/20261201T100000Z-abababababab",
        "_crownsafe-predeploy/20261201T100000Z-ABABABABABAB-sas",
        "other/20261201T100000Z-abababababab-sas",
        "_crownsafe-predeploy/20261201T100000Z-abababababab-sas/extra",
    ],
)
def test_names_predeploy_did_not_make_are_never_probes(name: str) -> None:
    assert probe_time(name) is None
    assert stale_probes([name], now=NOW + timedelta(days=9), older_than=timedelta(0)) == []


def test_bad_label_is_refused() -> None:
    with pytest.raises(ValueError, match="label"):
        new_probe_name("Round Trip")


def test_only_probes_older_than_the_limit_are_stale() -> None:
    old = new_probe_name("sas", now=NOW - timedelta(minutes=61))
    young = new_probe_name("sas", now=NOW - timedelta(minutes=59))
    assert stale_probes([old, young], now=NOW, older_than=timedelta(minutes=60)) == [old]


class _Client:
    """The two calls ProbeSet makes, one of them failing for one name."""

    def __init__(self, failing: str) -> None:
        self.failing, self.deleted = failing, []

    def delete_blob(self, name: str, missing_ok: bool = False) -> bool:
        assert missing_ok
        if name == self.failing:
            raise StorageUnavailableError("down", backend="azure")
        self.deleted.append(name)
        return True


def test_delete_all_reports_what_it_could_not_delete() -> None:
    probes = ProbeSet()
    for name in ("a", "b", "c"):
        probes.add(name)
    probes.done("a")
    client = _Client(failing="c")
    assert probes.delete_all(client) == ["c"]  # type: ignore[arg-type]
    assert client.deleted == ["b"] and probes.pending == ["c"] and probes.written == 3
