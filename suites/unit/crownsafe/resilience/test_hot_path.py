"""The resilience layer's hot path (issue 19): a call that succeeds at once costs the
breaker no lock and the retry policy no tenacity set-up, and every outcome still counts."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from crownsafe.errors import BlobNotFoundError, StorageUnavailableError
from crownsafe.resilience import CircuitBreaker, CircuitState, RetryPolicy


class CountingLock:
    """A lock that counts how often it was taken."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.taken = 0

    def __enter__(self) -> bool:
        self.taken += 1
        return self._lock.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._lock.__exit__(*exc)


def down() -> None:
    raise StorageUnavailableError("down", status=503)


def test_a_closed_success_takes_no_lock_and_still_counts_in_the_window() -> None:
    breaker = CircuitBreaker(failure_rate_threshold=0.5, window_size=4, minimum_calls=2)
    lock = CountingLock()
    breaker._lock = lock  # type: ignore[assignment]
    assert [breaker.call(abs, -n) for n in range(3)] == [0, 1, 2]
    assert lock.taken == 0
    assert breaker.stats().window_calls == 3


def test_a_success_after_a_failure_takes_the_locked_path_and_resets_the_count() -> None:
    breaker = CircuitBreaker(failure_threshold=2)
    with pytest.raises(StorageUnavailableError):
        breaker.call(down)
    assert breaker.stats().consecutive_failures == 1
    assert breaker.call(lambda: "ok") == "ok"
    assert breaker.stats().consecutive_failures == 0
    with pytest.raises(StorageUnavailableError):
        breaker.call(down)
    assert breaker.state is CircuitState.CLOSED  # 1 failure since the success, not 2


def test_a_success_admitted_before_a_transition_is_not_counted_after_it() -> None:
    breaker = CircuitBreaker(failure_threshold=1, window_size=4)

    def opened_meanwhile() -> str:
        breaker.force_open()  # another caller's failure opened it during this call
        return "ok"

    assert breaker.call(opened_meanwhile) == "ok"
    stats = breaker.stats()
    assert (stats.state, stats.window_calls) == (CircuitState.OPEN, 0)


def test_an_uncounted_failure_on_the_hot_path_leaves_the_breaker_alone() -> None:
    breaker = CircuitBreaker(failure_threshold=1)

    def missing() -> None:
        raise BlobNotFoundError("gone", status=404)

    with pytest.raises(BlobNotFoundError):
        breaker.call(missing)
    assert (breaker.state, breaker.stats().consecutive_failures) == (CircuitState.CLOSED, 0)


def test_retry_after_re_raises_a_failure_it_does_not_retry_unchanged() -> None:
    policy = RetryPolicy(max_retries=3, sleep=lambda s: None)
    first = BlobNotFoundError("gone", status=404)
    calls: list[int] = []
    with pytest.raises(BlobNotFoundError) as caught:
        policy.retry_after(first, None, lambda: calls.append(1))
    assert caught.value is first and calls == []
    no_retries = RetryPolicy(max_retries=0)
    transient = StorageUnavailableError("down", status=503)
    with pytest.raises(StorageUnavailableError) as caught_again:
        no_retries.retry_after(transient, None, lambda: calls.append(1))
    assert caught_again.value is transient and calls == []


def test_retry_after_makes_attempts_two_onwards_with_the_backoff_of_retry_one() -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(max_retries=3, jitter="none", sleep=sleeps.append)
    outcomes: list[Any] = [StorageUnavailableError("down", status=503), "ok"]

    def attempt() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return str(outcome)

    assert policy.retry_after(StorageUnavailableError("first", status=503), None, attempt) == "ok"
    assert sleeps == [1.0, 2.0]  # after attempt 1, then after attempt 2


def test_a_call_that_succeeds_at_once_builds_no_tenacity_retrying() -> None:
    policy = RetryPolicy(max_retries=3, deadline=10.0)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the happy path copied tenacity's Retrying")

    policy._sync_rest.copy = refuse  # type: ignore[method-assign]
    assert policy.call(lambda: 42) == 42
