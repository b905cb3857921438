"""harness.services.postgres: the throwaway cluster's life cycle and its clear errors."""

from __future__ import annotations

import socket
from pathlib import Path

import psycopg
import pytest

from harness.services import postgres as pg_module
from harness.services.base import ServiceStartError
from harness.services.postgres import PostgresService

from .conftest import connect

pytestmark = pytest.mark.migration


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_local_cluster_starts_serves_and_is_removed_on_stop(tmp_path: Path) -> None:
    """A local cluster answers SQL, makes fresh databases, and leaves nothing behind."""
    service = PostgresService("local", log_dir=tmp_path)
    with service:
        data_dir = service._dir
        assert data_dir is not None and data_dir.parent == Path("/tmp")
        assert service.env() == {"DATABASE_URL": service.url}
        assert service.url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
        url = service.create_database()
        with connect(url) as conn:
            row = conn.execute("SELECT current_setting('fsync'), current_database()").fetchone()
        assert row is not None and row[0] == "off" and url.endswith(row[1])
        port = service.port
    assert not _listening(port), "the server must be stopped"
    assert not data_dir.exists(), "the temp dir must be removed"
    assert (tmp_path / "postgres.log").exists(), "the server log is kept for the report"


def test_missing_binaries_say_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without initdb/pg_ctl the error names the fix (apt-get install -y postgresql)."""
    monkeypatch.setattr(pg_module, "find_pg_bindir", lambda: None)
    with pytest.raises(ServiceStartError, match=r"apt-get install -y postgresql"):
        PostgresService("local").start()


def test_external_mode_needs_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """--provision external without HARNESS_POSTGRES_URL says which variable to set."""
    monkeypatch.delenv("HARNESS_POSTGRES_URL", raising=False)
    with pytest.raises(ServiceStartError, match="HARNESS_POSTGRES_URL"):
        PostgresService("external").start()


def test_external_mode_unreachable_server_hides_the_password() -> None:
    """A server that does not answer is a clear error, and the password is not in it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://u:s3cret-pw@127.0.0.1:{port}/db"
    with pytest.raises(ServiceStartError) as caught:
        PostgresService("external", external_url=url).start()
    assert "cannot connect" in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)


def test_docker_mode_without_an_engine_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Docker engine answering the ping: a clear error, not a hang or a skip."""
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(ServiceStartError, match="no Docker engine answered"):
        PostgresService("docker").start()


def test_dropped_database_is_gone(postgres_service: PostgresService) -> None:
    """drop_database removes a database made by create_database."""
    url = postgres_service.create_database()
    name = url.rsplit("/", 1)[1]
    postgres_service.drop_database(name)
    with pytest.raises(psycopg.OperationalError, match="does not exist"), connect(url):
        pass
