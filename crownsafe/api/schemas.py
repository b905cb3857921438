"""Request and response bodies (pydantic); the OpenAPI document is generated from them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

__all__ = [
    "FindingIn",
    "HealthOut",
    "JobOut",
    "ReportIn",
    "ReportOut",
    "ScanIn",
    "ScanList",
    "ScanOut",
    "SearchIn",
    "SearchMatchOut",
    "SearchOut",
    "ShareIn",
    "ShareOut",
    "ShareResolved",
    "UploadOut",
]

Severity = Literal["low", "medium", "high", "critical"]
ScanType = Literal["barcode", "visual", "ingredient"]
_STRICT = ConfigDict(extra="forbid")


def _storable(value: object) -> object:
    """PostgreSQL text cannot hold NUL, and UTF-8 cannot hold lone surrogates (run before
    the type and pattern checks, so the client reads this message, not the pattern)."""
    if not isinstance(value, str):
        return value  # the str check that follows names the type
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogates)") from None
    return value


Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$"), BeforeValidator(_storable)]
"""Free text: the schema says "no NUL" (pattern) as the validator does, so a client reading
the OpenAPI document learns what PostgreSQL refuses."""


class FindingIn(BaseModel):
    model_config = _STRICT
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    severity: Severity
    title: Text = Field(min_length=1, max_length=200)
    detail: Text = Field(default="", max_length=2000)


class ScanIn(BaseModel):
    model_config = _STRICT
    product_name: Text = Field(min_length=1, max_length=512)
    barcode: str | None = Field(default=None, pattern=r"^[0-9]{8,14}$")
    scan_type: ScanType = "barcode"
    risk_score: float = Field(ge=0, le=100)
    findings: list[FindingIn] = Field(default_factory=list, max_length=100)
    upload_id: uuid.UUID | None = Field(
        default=None, description="An upload of yours whose image this scan is about"
    )


class ScanOut(BaseModel):
    id: int
    product_name: str
    barcode: str | None
    scan_type: ScanType
    risk_score: float
    risk_level: Severity
    findings: list[FindingIn]
    image_url: str | None
    created_at: datetime


class ScanList(BaseModel):
    scans: list[ScanOut]


class ShareIn(BaseModel):
    model_config = _STRICT
    format: Literal["json", "pdf"] = "json"
    ttl_seconds: int | None = Field(
        default=None,
        ge=1,
        le=30 * 24 * 3600,
        description="Link lifetime (default SHARE_TTL_SECONDS)",
    )


class ShareOut(BaseModel):
    token: str
    url: str
    format: Literal["json", "pdf"]
    expires_at: datetime


class ShareResolved(BaseModel):
    url: str = Field(description="A read-only SAS / presigned URL of the snapshot, short-lived")
    expires_at: datetime
    format: Literal["json", "pdf"]
    size_bytes: int
    sha256: str


class ReportIn(BaseModel):
    model_config = _STRICT
    format: Literal["pdf", "html", "json"] = "pdf"


class ReportOut(BaseModel):
    report_id: str
    format: Literal["pdf", "html", "json"]
    stored: bool = Field(description="False when storage is disabled (AZURE_BLOB_ENABLED=false)")
    url: str | None = Field(description="Read-only SAS URL when stored")
    expires_at: datetime | None
    content: str | None = Field(
        description="The report itself when not stored (base64 for PDF, text otherwise)"
    )
    content_encoding: Literal["base64", "utf-8"] | None
    size_bytes: int
    sha256: str
    note: str | None = None


class UploadOut(BaseModel):
    job_id: uuid.UUID
    status: str
    status_url: str
    blob_url: str
    content_type: str
    size_bytes: int


class JobOut(BaseModel):
    job_id: uuid.UUID
    status: Literal["queued", "processing", "completed", "failed"]
    content_type: str | None
    size_bytes: int | None
    width: int | None
    height: int | None
    phash: str | None
    error: str | None
    attempts: int
    blob_url: str
    thumbnail_url: str | None = Field(description="Read-only SAS URL once completed")


class SearchIn(BaseModel):
    model_config = _STRICT
    image_url: Annotated[str, BeforeValidator(_storable)] = Field(
        min_length=1,
        max_length=4096,
        pattern=r"^(blob://[a-z0-9][a-z0-9-]{1,61}[a-z0-9]|s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
        r"|https?://[^/\s\x00]+)/[^\s\x00]+$",
        description="blob://container/name, an Azure blob URL, or an S3 object URL",
    )
    limit: int = Field(default=5, ge=1, le=50)
    max_distance: int = Field(default=64, ge=0, le=64)


class SearchMatchOut(BaseModel):
    job_id: uuid.UUID
    blob_url: str
    phash: str
    distance: int


class SearchOut(BaseModel):
    query_phash: str
    matches: list[SearchMatchOut]


class HealthOut(BaseModel):
    status: Literal["healthy", "unhealthy"]
    service: str
    checks: dict[str, str] = Field(description="Each part: 'ok' or a short failure kind")
    failing: list[str]
