"""Correlation ids: UUID-shaped, unique in a process and across a fork, cheap to make."""

from __future__ import annotations

import os
import re

from crownsafe.correlation import (
    enter_correlation,
    exit_correlation,
    get_correlation_id,
    new_correlation_id,
)

SHAPE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def test_ids_are_uuid_shaped_and_unique() -> None:
    ids = [new_correlation_id() for _ in range(10_000)]
    assert all(SHAPE.fullmatch(cid) for cid in ids)
    assert len(set(ids)) == len(ids)


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        os.write(write, new_correlation_id().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    parent = new_correlation_id()
    assert SHAPE.fullmatch(child)
    assert child[:24] != parent[:24], "the child kept its parent's random part"


def test_enter_and_exit_nest_like_the_scope() -> None:
    assert get_correlation_id() is None
    outer = enter_correlation("outer")
    inner = enter_correlation()
    assert get_correlation_id() == "outer"  # an id in force is kept
    exit_correlation(inner)
    exit_correlation(outer)
    assert get_correlation_id() is None
    token = enter_correlation()
    assert SHAPE.fullmatch(get_correlation_id() or "")
    exit_correlation(token)
