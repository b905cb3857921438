"""The IETF RateLimit fields of a response, read as a client reads them.

`ratelimit_fields` parses RateLimit-Policy and RateLimit (structured-field lists, with
http-sf) by policy name; `in_one_window` runs a short sequence of requests again when it
met the end of a fixed window (windows end on the clock, so a count of N requests made
across a boundary would see a fresh budget half way).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, cast

import http_sf
import httpx

__all__ = ["Fields", "in_one_window", "one_window", "ratelimit_fields"]


Fields = dict[str, dict[str, Any]]


def _list(value: str) -> Fields:
    """A structured-field list of `"name";key=value` members, by name (http_sf parses)."""
    parsed = cast(list[tuple[str, dict[str, Any]]], http_sf.parse(value.encode(), tltype="list"))
    return {str(name): dict(params) for name, params in parsed}


def ratelimit_fields(response: httpx.Response) -> tuple[Fields, Fields]:
    """RateLimit-Policy and RateLimit, parsed as structured-field lists by policy name."""
    return _list(response.headers["ratelimit-policy"]), _list(response.headers["ratelimit"])


def one_window(responses: list[httpx.Response], policy: str) -> bool:
    """Whether `responses` were all counted in one window of `policy` (its `t` never grew)."""
    resets = [ratelimit_fields(r)[1][policy]["t"] for r in responses if "ratelimit" in r.headers]
    return all(a >= b for a, b in itertools.pairwise(resets))


def in_one_window(
    attempt: Callable[[int], list[httpx.Response]], policy: str
) -> list[httpx.Response]:
    """Run `attempt(n)` until its responses fall in one window of `policy` (a fixed window
    ends on the clock: an attempt that met the end runs once more, in the fresh window)."""
    for n in range(2):
        responses = attempt(n)
        if one_window(responses, policy):
            return responses
    raise AssertionError(f"two {policy} windows ended within one short attempt")
