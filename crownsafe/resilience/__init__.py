"""The original backend's resilience layer: circuit breaker, retries, correlation ids,
error logging.

- `CircuitBreaker` / `azure_storage_circuit_breaker` (breaker.py)
- `retry_with_exponential_backoff` / `RetryPolicy` on tenacity (retry.py)
- `with_correlation_id`, `install_log_filters` (correlation id + secret redaction on
  every record), `log_azure_error` (logs.py)

`crownsafe.storage.resilient.ResilientStorageClient` combines them around any
`StorageClient`. The SDKs' own retries are off inside crownsafe's clients, so this is the
only retry layer: one logical call makes at most `max_retries + 1` HTTP attempts.
"""

from __future__ import annotations

from crownsafe.resilience.breaker import (
    DEFAULT_IGNORED_EXCEPTIONS,
    SERVICE_FAILURES,
    BreakerStats,
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    StateListener,
)
from crownsafe.resilience.logs import (
    CorrelationIdFilter,
    SecretRedactingFilter,
    install_correlation_filter,
    install_log_filters,
    log_azure_error,
    log_storage_failure,
    with_correlation_id,
)
from crownsafe.resilience.retry import (
    Backoff,
    Jitter,
    RetryPolicy,
    is_retryable,
    retry_with_exponential_backoff,
)

__all__ = [
    "DEFAULT_IGNORED_EXCEPTIONS",
    "SERVICE_FAILURES",
    "Backoff",
    "BreakerStats",
    "CircuitBreaker",
    "CircuitOpenError",
    "CircuitState",
    "CorrelationIdFilter",
    "Jitter",
    "RetryPolicy",
    "SecretRedactingFilter",
    "StateListener",
    "azure_storage_circuit_breaker",
    "breaker_for_backend",
    "install_correlation_filter",
    "install_log_filters",
    "is_retryable",
    "log_azure_error",
    "log_storage_failure",
    "retry_with_exponential_backoff",
    "s3_storage_circuit_breaker",
    "with_correlation_id",
]

azure_storage_circuit_breaker = CircuitBreaker("azure-storage")
"""The process-wide breaker for Azure Blob Storage (the original backend's defaults:
5 failures -> 60 s open)."""

s3_storage_circuit_breaker = CircuitBreaker("s3-storage")
"""The process-wide breaker for S3, with the same defaults."""


def breaker_for_backend(backend: str) -> CircuitBreaker:
    """The process-wide breaker of a backend ("azure" or "s3")."""
    return azure_storage_circuit_breaker if backend == "azure" else s3_storage_circuit_breaker
