"""The rate limit policies the settings ask for, parsed (no I/O; `crownsafe.api.ratelimit`
counts them). Kept apart so that loading settings does not import the API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute, parse

if TYPE_CHECKING:
    from crownsafe.config import Settings

__all__ = ["parse_count", "parse_rule", "rules_of"]


def parse_rule(value: str, variable: str) -> RateLimitItem | None:
    """`value` in limits' notation ("120/minute", "10 per second"); empty or "off": none.

    Raises ValueError naming `variable` and the form it wants."""
    text = value.strip()
    if not text or text.lower() == "off":
        return None
    try:
        item = parse(text)
    except ValueError:
        raise ValueError(
            f"{variable}={value!r} is not a rate limit: write COUNT/PERIOD, e.g. 120/minute "
            "(PERIOD: second, minute, hour or day), or off"
        ) from None
    if item.amount < 1:
        raise ValueError(f"{variable}={value!r} allows nothing: the count must be 1 or more")
    return item


def parse_count(
    value: str, variable: str, per: type[RateLimitItem], unit: str
) -> RateLimitItem | None:
    """A whole number of `unit` per the item's period (e.g. UPLOAD_BYTES_PER_HOUR=100000000);
    empty or "off": none. Raises ValueError naming `variable`."""
    text = value.strip().replace("_", "")
    if not text or text.lower() == "off":
        return None
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{variable}={value!r} is not a count: write a whole number of {unit} "
                         "(1 or more), or off")  # fmt: skip
    return per(int(text))


def rules_of(settings: Settings) -> dict[str, RateLimitItem | None]:
    """The policies the settings ask for (None: off); ValueError names a bad setting."""
    return {
        "requests": parse_count(settings.api_requests_per_minute, "API_REQUESTS_PER_MINUTE",
                                RateLimitItemPerMinute, "requests"),
        "uploads": parse_rule(settings.rate_limit_uploads, "RATE_LIMIT_UPLOADS"),
        "shares": parse_rule(settings.rate_limit_shares, "RATE_LIMIT_SHARES"),
        "failed-auth": parse_rule(settings.rate_limit_unauthenticated,
                                  "RATE_LIMIT_UNAUTHENTICATED"),
        "upload-bytes": parse_count(settings.upload_bytes_per_hour, "UPLOAD_BYTES_PER_HOUR",
                                    RateLimitItemPerHour, "bytes"),
    }  # fmt: skip
