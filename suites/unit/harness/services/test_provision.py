"""harness.services.provision: service names and their aliases."""

from __future__ import annotations

import pytest

from harness.services.provision import canonical_service_name


def test_service_aliases() -> None:
    assert [canonical_service_name(n) for n in ("Azurite", "moto", "postgresql")] == [
        "azure",
        "s3",
        "postgres",
    ]
    with pytest.raises(ValueError, match="unknown service 'gcs'"):
        canonical_service_name("gcs")
