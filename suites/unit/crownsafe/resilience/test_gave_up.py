"""When retrying stops, the error says why: the deadline or the attempts, with the last cause.

Before, the caller got the last `StorageThrottledError` as it was: no deadline, no attempt
count (only a WARNING line said the loop gave up). Injected clock and sleep: exact, instant.
"""

from __future__ import annotations

import asyncio

import pytest

from crownsafe.errors import (
    BlobNotFoundError,
    StorageGaveUpError,
    StorageThrottledError,
    StorageUnavailableError,
)
from crownsafe.resilience import RetryPolicy, is_retryable


class Clock:
    def __init__(self) -> None:
        self.now = 500.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def throttled() -> StorageThrottledError:
    return StorageThrottledError(
        "S3 is throttling requests: Please reduce your request rate.",
        retry_after=0.5,
        backend="s3",
        operation="upload_file",
        blob_name="a/b.bin",
        status=503,
        error_code="SlowDown",
        request_id="REQ123",
    )


class AlwaysBusy:
    def __init__(self, clock: Clock, takes: float = 0.0) -> None:
        self.clock, self.takes, self.attempts = clock, takes, 0

    def __call__(self) -> None:
        self.attempts += 1
        self.clock.now += self.takes
        raise throttled()


def policy(clock: Clock, *, deadline: float | None, max_retries: int = 3) -> RetryPolicy:
    return RetryPolicy(
        max_retries=max_retries,
        base_delay=1.0,
        jitter="none",
        sleep=clock.sleep,
        clock=clock,
        deadline=deadline,
    )


def test_attempts_running_out_is_named_with_the_last_cause() -> None:
    clock = Clock()
    fn = AlwaysBusy(clock)
    with pytest.raises(StorageGaveUpError) as caught:
        policy(clock, deadline=60.0).call(fn)
    error = caught.value
    assert fn.attempts == 4 and clock.sleeps == [1.0, 2.0, 4.0]
    assert (error.stopped_by, error.attempts, error.max_attempts) == ("attempts", 4, 4)
    assert isinstance(error.last_error, StorageThrottledError)
    assert error.__cause__ is error.last_error
    text = str(error)
    assert "gave up after 4 of 4 attempts" in text
    assert "deadline 60 s" in text and "7.000 s spent" in text
    assert "StorageThrottledError: S3 is throttling requests" in text
    assert (error.backend, error.operation, error.blob_name) == ("s3", "upload_file", "a/b.bin")
    assert (error.status, error.error_code, error.request_id) == (503, "SlowDown", "REQ123")
    assert error.retry_after == 0.5
    assert isinstance(error, StorageUnavailableError) and not is_retryable(error)


def test_the_deadline_ending_a_call_is_named() -> None:
    """Attempts of 2 s, 1/2/4 s backoff, a 6 s deadline: attempt 1 ends at 2 s, retry 1
    ends at 5 s; retry 2 would start at 7 s, past the deadline."""
    clock = Clock()
    fn = AlwaysBusy(clock, takes=2.0)
    with pytest.raises(StorageGaveUpError) as caught:
        policy(clock, deadline=6.0).call(fn)
    error = caught.value
    assert fn.attempts == 2 and clock.sleeps == [1.0]
    assert (error.stopped_by, error.attempts, error.deadline) == ("deadline", 2, 6.0)
    text = str(error)
    assert "gave up after 2 of 4 attempts" in text
    assert "the 6 s deadline would pass before another attempt" in text
    assert "5.000 s spent, next backoff 2.000 s" in text
    assert "StorageThrottledError" in text and "request_id=REQ123" in text


def test_the_deadline_after_the_first_attempt_is_named() -> None:
    clock = Clock()
    fn = AlwaysBusy(clock, takes=5.5)
    with pytest.raises(StorageGaveUpError) as caught:
        policy(clock, deadline=6.0).call(fn)
    assert fn.attempts == 1 and clock.sleeps == []
    assert (caught.value.stopped_by, caught.value.attempts) == ("deadline", 1)


def test_without_a_deadline_the_attempts_are_named() -> None:
    clock = Clock()
    with pytest.raises(StorageGaveUpError) as caught:
        policy(clock, deadline=None).call(AlwaysBusy(clock))
    assert caught.value.stopped_by == "attempts" and caught.value.deadline is None
    assert "deadline" not in str(caught.value).split(";")[0]


def test_no_retries_configured_raises_the_failure_itself() -> None:
    clock = Clock()
    with pytest.raises(StorageThrottledError) as caught:
        policy(clock, deadline=6.0, max_retries=0).call(AlwaysBusy(clock))
    assert not isinstance(caught.value, StorageGaveUpError)


def test_a_permanent_failure_after_retries_is_raised_as_it_is() -> None:
    """A retry that meets a 404 ends the call with the 404 (nothing was given up on)."""
    clock = Clock()
    errors: list[Exception] = [throttled(), BlobNotFoundError("missing", status=404)]

    def fn() -> None:
        raise errors.pop(0)

    with pytest.raises(BlobNotFoundError):
        policy(clock, deadline=60.0).call(fn)


@pytest.mark.parametrize(
    ("deadline", "stopped_by", "attempts"), [(60.0, "attempts", 4), (6.0, "deadline", 2)]
)
def test_the_async_path_says_the_same(deadline: float, stopped_by: str, attempts: int) -> None:
    clock = Clock()
    calls = 0

    async def fn() -> None:
        nonlocal calls
        calls += 1
        clock.now += 2.0
        raise throttled()

    with pytest.raises(StorageGaveUpError) as caught:
        asyncio.run(policy(clock, deadline=deadline).call_async(fn))
    assert (caught.value.stopped_by, caught.value.attempts, calls) == (
        stopped_by,
        attempts,
        attempts,
    )
