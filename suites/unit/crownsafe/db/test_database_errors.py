"""A database the commands cannot use is told as where, why and the fix; never the password."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy.exc import OperationalError, ProgrammingError

from crownsafe.db.session import describe_database_error, make_engine


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_unreachable_server_names_host_database_user_and_the_fix_not_the_password() -> None:
    url = f"postgresql://reader:hunter2@127.0.0.1:{_closed_port()}/crownsafe"
    engine = make_engine(url, pool_pre_ping=False)
    with pytest.raises(OperationalError) as caught:
        engine.connect()
    engine.dispose()
    message = describe_database_error(caught.value, url)
    port = url.rsplit(":", 1)[1].split("/")[0]
    assert f"127.0.0.1:{port}" in message and "'crownsafe'" in message, message
    assert "'reader'" in message and "Fix: point DATABASE_URL" in message, message
    assert "hunter2" not in message and "sqlalche.me" not in message, message
    assert "\n" not in message, message


def test_other_database_errors_keep_their_reason_without_the_background_link() -> None:
    error = ProgrammingError("SELECT 1", {}, Exception('relation "image_jobs" does not exist'))
    message = describe_database_error(error)
    assert message == 'database error: relation "image_jobs" does not exist'
