"""Uploads are rate limited per user, in Redis, before any storage call.

The stack runs with the default RATE_LIMIT_UPLOADS (read from its settings, not assumed):
one user sends that many uploads, the next one is 429 with Retry-After and stores
nothing, another user still uploads, and the refusal left the storage layer's error and
circuit-breaker counters as they were (a refused request never reaches the breaker).
"""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from crownsafe.api.ratelimit import parse_rule
from crownsafe.config import Settings
from harness.fixtures.api import ApiStack
from harness.ratelimit_fields import in_one_window

from .helpers import assert_error, image

USER, OTHER = 9201, 9202


def _storage_counters(stack: ApiStack) -> dict[str, float]:
    """Sums of the storage error and breaker-transition counters, and the breaker states."""
    response = stack.client(user_id=OTHER).get("/metrics")
    assert response.status_code == 200, response.text
    sums: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name in (
                "crownsafe_storage_errors_total",
                "crownsafe_storage_circuit_breaker_transitions_total",
                "crownsafe_storage_circuit_breaker_state",
            ):
                sums[sample.name] = sums.get(sample.name, 0.0) + sample.value
    return sums


def test_the_upload_over_the_limit_is_429_and_other_users_go_on(api_stack: ApiStack) -> None:
    rule = api_stack.env.get("RATE_LIMIT_UPLOADS", Settings.rate_limit_uploads)
    item = parse_rule(rule, "RATE_LIMIT_UPLOADS")
    assert item is not None, "the API suite's stacks run with upload limits on"
    data = image("small.jpg")
    headers = {"Content-Type": "image/jpeg"}
    before = _storage_counters(api_stack)

    def attempt(n: int) -> list[httpx.Response]:
        client = api_stack.client(user_id=USER + 1000 * n)
        return [client.post("/uploads", content=data, headers=headers)
                for _ in range(item.amount + 1)]  # fmt: skip

    # the window ends on the clock: a run of uploads across its end runs again, in the next
    answers = in_one_window(attempt, "uploads")
    assert [a.status_code for a in answers[:-1]] == [202] * item.amount, answers[-2].text
    refused = answers[-1]
    error = assert_error(refused, 429, "too_many_requests")
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= item.get_expiry(), retry_after
    assert f"at most {item.amount}" in error["message"]
    user = int(answers[0].json()["blob_url"].split("/uploads/")[1].split("/")[0])
    assert len(api_stack.storage.list_blobs(prefix=f"uploads/{user}/")) == item.amount
    assert _storage_counters(api_stack) == before, "a refusal never reaches storage"
    assert before.get("crownsafe_storage_circuit_breaker_state", 0.0) == 0.0
    other = api_stack.client(user_id=OTHER).post("/uploads", content=data, headers=headers)
    assert other.status_code == 202, other.text
