"""Unit tests of crownsafe.resilience.retry with injected sleep and rng (instant, exact)."""

from __future__ import annotations

import asyncio
import logging
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crownsafe.correlation import correlation_scope
from crownsafe.errors import (
    BlobConflictError,
    BlobNotFoundError,
    InvalidBlobNameError,
    NonRetryableUploadError,
    StorageAuthError,
    StorageError,
    StorageThrottledError,
    StorageUnavailableError,
)
from crownsafe.resilience import (
    Backoff,
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    is_retryable,
    retry_with_exponential_backoff,
)


class FixedRng:
    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


class Failing:
    """Fails with `errors` in turn, then returns "ok"; counts attempts."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.attempts = 0

    def __call__(self) -> str:
        self.attempts += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def unavailable() -> StorageUnavailableError:
    return StorageUnavailableError("server error", status=503, error_code="InternalError")


def test_no_jitter_gives_the_seed_schedule() -> None:
    sleeps: list[float] = []
    policy = retry_with_exponential_backoff(
        max_retries=4, base_delay=1.0, max_delay=30.0, jitter="none", sleep=sleeps.append
    )
    fn = Failing(*(unavailable() for _ in range(4)))
    assert policy.call(fn) == "ok"
    assert sleeps == [1.0, 2.0, 4.0, 8.0]
    assert fn.attempts == 5


def test_delays_are_capped_by_max_delay() -> None:
    sleeps: list[float] = []
    policy = retry_with_exponential_backoff(
        max_retries=6, base_delay=1.0, max_delay=5.0, jitter="none", sleep=sleeps.append
    )
    with pytest.raises(StorageUnavailableError):
        policy.call(Failing(*(unavailable() for _ in range(10))))
    assert sleeps == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


def test_persistent_failure_makes_exactly_max_retries_plus_one_attempts() -> None:
    fn = Failing(*(unavailable() for _ in range(10)))
    policy = retry_with_exponential_backoff(max_retries=3, sleep=lambda _: None)
    with pytest.raises(StorageUnavailableError) as info:
        policy.call(fn)
    assert fn.attempts == 4
    assert info.value.status == 503  # the original error, not tenacity's RetryError


@pytest.mark.parametrize(
    "error",
    [
        BlobNotFoundError("missing", status=404),
        BlobConflictError("exists", status=409),
        BlobConflictError("precondition", status=412),
        StorageAuthError("denied", status=403),
        InvalidBlobNameError("bad"),
        NonRetryableUploadError("partial body sent"),
        CircuitOpenError("b", state=CircuitState.OPEN, retry_in=1.0),
        ValueError("a bug"),
    ],
    ids=["404", "409", "412", "403", "invalid-name", "non-retryable-upload", "circuit-open", "bug"],
)
def test_never_retried(error: BaseException) -> None:
    sleeps: list[float] = []
    fn = Failing(error)
    policy = retry_with_exponential_backoff(max_retries=3, sleep=sleeps.append)
    with pytest.raises(type(error)):
        policy.call(fn)
    assert fn.attempts == 1
    assert sleeps == []


@pytest.mark.parametrize(
    "error",
    [
        StorageThrottledError("busy", status=503, error_code="ServerBusy"),
        StorageThrottledError("slow down", status=429),
        StorageUnavailableError("timeout", status=408),
        StorageUnavailableError("connection reset"),
        ConnectionResetError("reset"),
        TimeoutError("read timed out"),
    ],
    ids=["503-busy", "429", "408", "connection", "builtin-reset", "builtin-timeout"],
)
def test_transient_errors_are_retried(error: BaseException) -> None:
    assert is_retryable(error)
    fn = Failing(error)
    assert retry_with_exponential_backoff(sleep=lambda _: None).call(fn) == "ok"
    assert fn.attempts == 2


def test_retry_after_is_honoured_and_capped() -> None:
    sleeps: list[float] = []
    policy = retry_with_exponential_backoff(
        max_retries=3, base_delay=0.01, max_delay=10.0, jitter="none", sleep=sleeps.append
    )
    fn = Failing(
        StorageThrottledError("busy", status=503, retry_after=2.5),
        StorageThrottledError("busy", status=429, retry_after=120.0),
        StorageThrottledError("busy", status=503, retry_after=0.0),
    )
    assert policy.call(fn) == "ok"
    assert sleeps == [2.5, 10.0, 0.04]


def test_jitter_uses_the_injected_rng() -> None:
    sleeps: list[float] = []
    policy = retry_with_exponential_backoff(
        max_retries=2, base_delay=1.0, jitter="full", sleep=sleeps.append, rng=FixedRng(0.25)
    )
    policy.call(Failing(unavailable(), unavailable()))
    assert sleeps == [0.75, 1.5]


@given(
    base=st.floats(min_value=0.001, max_value=5.0),
    cap=st.floats(min_value=0.001, max_value=60.0),
    jitter=st.floats(min_value=0.0, max_value=1.0),
    retries=st.integers(min_value=0, max_value=12),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_delay_schedule_stays_in_its_jitter_envelope(
    base: float, cap: float, jitter: float, retries: int, seed: int
) -> None:
    sleeps: list[float] = []
    policy = retry_with_exponential_backoff(
        max_retries=retries,
        base_delay=base,
        max_delay=cap,
        jitter=jitter,
        sleep=sleeps.append,
        rng=random.Random(seed),
    )
    fn = Failing(*(unavailable() for _ in range(retries + 5)))
    with pytest.raises(StorageUnavailableError):
        policy.call(fn)
    assert fn.attempts == retries + 1
    assert len(sleeps) == retries
    backoff = Backoff(base, cap, jitter)
    for n, delay in enumerate(sleeps, start=1):
        low, high = backoff.envelope(n)
        ceiling = min(cap, base * 2 ** (n - 1))
        assert high == pytest.approx(ceiling)
        assert low - 1e-12 <= delay <= high + 1e-12
        assert delay <= cap


@given(
    retry_after=st.floats(min_value=0.0, max_value=1000.0),
    cap=st.floats(min_value=0.01, max_value=60.0),
    u=st.floats(min_value=0.0, max_value=0.999),
)
def test_retry_after_delay_is_never_sooner_than_asked_nor_past_the_cap(
    retry_after: float, cap: float, u: float
) -> None:
    delay = Backoff(0.5, cap, 0.5).delay(1, u, retry_after)
    assert delay <= cap
    assert delay >= min(retry_after, cap)


def test_async_functions_are_retried_with_an_async_or_sync_sleep() -> None:
    recorded: list[float] = []

    async def async_sleep(seconds: float) -> None:
        recorded.append(seconds)

    attempts = 0

    @retry_with_exponential_backoff(max_retries=2, jitter="none", sleep=async_sleep)
    async def flaky() -> str:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise StorageThrottledError("busy", status=503)
        return "done"

    assert asyncio.run(flaky()) == "done"
    assert recorded == [1.0, 2.0]

    sync_recorded: list[float] = []
    policy = retry_with_exponential_backoff(
        max_retries=1, jitter="none", sleep=sync_recorded.append
    )

    async def always() -> None:
        raise StorageUnavailableError("down", status=500)

    with pytest.raises(StorageUnavailableError):
        asyncio.run(policy.call_async(always))
    assert sync_recorded == [1.0]


def test_decorator_keeps_the_function_name() -> None:
    @retry_with_exponential_backoff(max_retries=1, sleep=lambda _: None)
    def upload_to_azure(blob_name: str, data: bytes) -> int:
        return len(data)

    assert upload_to_azure("a", b"xyz") == 3
    assert upload_to_azure.__name__ == "upload_to_azure"


def test_each_retry_is_logged_with_the_correlation_id(caplog: pytest.LogCaptureFixture) -> None:
    policy = retry_with_exponential_backoff(max_retries=2, jitter="none", sleep=lambda _: None)
    error = StorageThrottledError(
        "busy", status=503, error_code="ServerBusy", request_id="req-123", operation="upload_file"
    )
    with (
        caplog.at_level(logging.WARNING, logger="crownsafe.resilience"),
        correlation_scope("cid-42"),
    ):
        policy.call(Failing(error, unavailable()))
    records = [r for r in caplog.records if r.name == "crownsafe.resilience.retry"]
    assert len(records) == 2
    first = records[0]
    assert first.levelno == logging.WARNING
    assert first.correlation_id == "cid-42"  # type: ignore[attr-defined]
    assert first.attempt == 1  # type: ignore[attr-defined]
    assert first.service_request_id == "req-123"  # type: ignore[attr-defined]
    assert "cid-42" in first.getMessage() and "req-123" in first.getMessage()
    assert "upload_file" in first.getMessage()


def test_breaker_inside_retry_stops_the_retry_loop_when_it_opens() -> None:
    breaker = CircuitBreaker(failure_threshold=2, clock=lambda: 0.0)
    fn = Failing(*(unavailable() for _ in range(10)))
    policy = retry_with_exponential_backoff(max_retries=5, sleep=lambda _: None)
    with pytest.raises(CircuitOpenError):
        policy.call(breaker.call, fn)
    assert fn.attempts == 2


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        retry_with_exponential_backoff(jitter=1.5)
    with pytest.raises(ValueError):
        retry_with_exponential_backoff(max_retries=-1)
    assert isinstance(unavailable(), StorageError)
