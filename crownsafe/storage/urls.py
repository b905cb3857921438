"""Parse and build the URLs that name a blob: `blob://`, Azure, emulator and S3 forms.

Forms understood by `parse_blob_url`:

- `blob://<container>/<name>` and `s3://<bucket>/<key>`: RFC 3986 URIs, so the name is
  percent-encoded (space -> %20, '#' -> %23, '?' -> %3F, '%' -> %25, '+' -> %2B, non-ASCII
  as UTF-8 escapes). A query or fragment is rejected: it almost always means an
  unencoded '?' or '#' in the name.
- Azure host-style `https://<account>.blob.core.windows.net/<container>/<name>` (also the
  sovereign clouds, `-secondary`, `privatelink.` and DNS-zone `zNN.blob.storage.azure.net`).
- Azure path-style (emulator) `http://127.0.0.1:10000/<account>/<container>/<name>`: any
  loopback or `localhost` host, any other host with an explicit port, or any host when
  the query is an Azure SAS (`sv` and `sig`).
- S3 `https://<bucket>.s3.<region>.amazonaws.com/<key>` (virtual-hosted) and
  `https://s3.<region>.amazonaws.com/<bucket>/<key>` (path-style); a custom endpoint
  (`http://127.0.0.1:5000/<bucket>/<key>`) is path-style S3 when `kind="s3"` is passed or
  the URL carries a presigned signature (X-Amz-*), else it reads as Azure path-style.

The query string (a SAS token or presigned signature) is dropped when parsing and never
appears in an error message. Names are checked with `crownsafe.storage.naming`, so for
every valid name `parse_blob_url(build(...))` gives back the same name, byte for byte.
`BlobLocation.endpoint` is the account URL (Azure, as given to `BlobServiceClient`) or the
endpoint URL (S3, as given to the AWS SDK), normalized to a lowercase scheme and host.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import SplitResult, parse_qs, quote, unquote, urlsplit

from crownsafe.errors import InvalidBlobNameError, StorageError
from crownsafe.redaction import MARKER
from crownsafe.storage.naming import (
    validate_blob_name,
    validate_bucket_name,
    validate_container_name,
)

__all__ = [
    "BlobLocation",
    "InvalidBlobUrlError",
    "UrlKind",
    "azure_blob_url",
    "is_azure_blob_url",
    "is_loopback_host",
    "is_s3_url",
    "parse_blob_url",
    "quote_blob_name",
    "s3_object_url",
    "to_blob_uri",
    "to_s3_uri",
]

UrlKind = Literal["blob", "azure", "s3"]

EMULATOR_ACCOUNT = "devstoreaccount1"
_AZURE_HOST_RE = re.compile(
    r"^(?P<account>[a-z0-9]{3,24})(?:-secondary)?\.(?:privatelink\.)?(?:z\d+\.)?blob\."
    r"(?:core\.windows\.net|core\.chinacloudapi\.cn|core\.usgovcloudapi\.net|storage\.azure\.net)$"
)
_S3_HOST_RE = re.compile(
    r"^(?:(?P<bucket>[a-z0-9][a-z0-9.-]*)\.)?(?P<service>s3(?:[.-][a-z0-9.-]+?)?"
    r"\.amazonaws\.com(?:\.cn)?)$"
)
_ACCOUNT_RE = re.compile(r"^[a-z0-9]{3,24}$")
_BAD_ESCAPE_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_URL_HINT = "use blob://<container>/<name>, s3://<bucket>/<key> or an Azure/S3 object URL"


class InvalidBlobUrlError(StorageError, ValueError):
    """A URL is not a blob URL this module understands; the message never holds a query."""

    default_hint = _URL_HINT


@dataclass(frozen=True)
class BlobLocation:
    """Where a blob lives: the backend kind, its container/bucket and its name."""

    kind: UrlKind
    container: str
    blob_name: str
    account: str | None = None
    endpoint: str | None = None

    def to_url(self) -> str:
        """The canonical URL for this location (S3 endpoints come back path-style)."""
        if self.kind == "blob":
            return to_blob_uri(self.container, self.blob_name)
        if self.kind == "azure":
            if self.endpoint is None:
                raise InvalidBlobUrlError("an Azure location needs an endpoint to build a URL")
            return azure_blob_url(self.endpoint, self.container, self.blob_name)
        if self.endpoint is None:
            return to_s3_uri(self.container, self.blob_name)
        return s3_object_url(self.endpoint, self.container, self.blob_name)


def quote_blob_name(name: str) -> str:
    """Percent-encode a blob name for a URL path, keeping '/' as the separator."""
    return quote(name, safe="/")


def to_blob_uri(container: str, blob_name: str) -> str:
    """`blob://<container>/<encoded name>` after checking both names."""
    validate_container_name(container)
    return f"blob://{container}/{quote_blob_name(validate_blob_name(blob_name))}"


def to_s3_uri(bucket: str, key: str) -> str:
    """`s3://<bucket>/<encoded key>` after checking both names."""
    validate_bucket_name(bucket)
    return f"s3://{bucket}/{quote_blob_name(validate_blob_name(key))}"


def azure_blob_url(account_url: str, container: str, blob_name: str) -> str:
    """The plain (unsigned) URL of a blob under an account URL; a SAS query is dropped."""
    validate_container_name(container)
    endpoint = _normalize_endpoint(account_url)
    return f"{endpoint}/{container}/{quote_blob_name(validate_blob_name(blob_name))}"


def s3_object_url(endpoint_url: str, bucket: str, key: str, *, virtual_hosted: bool = False) -> str:
    """The plain URL of an S3 object, path-style by default."""
    validate_bucket_name(bucket)
    encoded = quote_blob_name(validate_blob_name(key))
    endpoint = _normalize_endpoint(endpoint_url)
    if virtual_hosted:
        scheme, rest = endpoint.split("://", 1)
        return f"{scheme}://{bucket}.{rest}/{encoded}"
    return f"{endpoint}/{bucket}/{encoded}"


def parse_blob_url(url: str, *, kind: Literal["azure", "s3"] | None = None) -> BlobLocation:
    """Parse any supported blob URL into a `BlobLocation`; raise `InvalidBlobUrlError`.

    `kind` settles URLs on custom hosts, which are Azure path-style unless `kind="s3"`
    or the URL carries an S3 presigned signature.
    """
    return _parse(url, kind)[0]


def is_azure_blob_url(url: str) -> bool:
    """True for `blob://` URIs and Azure blob URLs (the original backend's `_is_azure_blob_url`).

    Path-style URLs count only with the emulator account `devstoreaccount1` or an Azure
    SAS in the query, so an ordinary `http://host:8080/a/b/c` link is not taken for a blob.
    """
    try:
        location, how, query = _parse(url, None)
    except (InvalidBlobUrlError, InvalidBlobNameError):
        return False
    if how == "azure-path":
        return location.account == EMULATOR_ACCOUNT or query.keys() >= {"sv", "sig"}
    return location.kind in ("blob", "azure")


def is_s3_url(url: str) -> bool:
    """True for `s3://` URIs, amazonaws.com object URLs and presigned S3 URLs."""
    try:
        location, _how, _query = _parse(url, None)
    except (InvalidBlobUrlError, InvalidBlobNameError):
        return False
    return location.kind == "s3"


def _redact(url: str) -> str:
    """The URL without userinfo and query, shortened: safe to put in a message."""
    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        shown = f"{parts.scheme}://{host}{parts.path}" if parts.scheme else parts.path
        if parts.query:
            shown += f"?{MARKER}"
    except ValueError:
        shown = url.split("?", 1)[0].split("#", 1)[0].rpartition("@")[2]
    return repr(shown if len(shown) <= 200 else shown[:160] + "...")


def _normalize_endpoint(endpoint_url: str) -> str:
    parts = _split(endpoint_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidBlobUrlError(
            f"endpoint {_redact(endpoint_url)} is not an http(s) URL",
            hint="pass e.g. https://<account>.blob.core.windows.net or http://127.0.0.1:10000/"
            "devstoreaccount1",
        )
    return f"{parts.scheme}://{_netloc(endpoint_url, parts)}{parts.path.rstrip('/')}"


def _split(url: str) -> SplitResult:
    if not isinstance(url, str) or not url.strip():
        raise InvalidBlobUrlError(f"expected a non-empty URL string, got {url!r}")
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise InvalidBlobUrlError(f"{_redact(url)} is not a valid URL ({exc})") from None
    if "@" in parts.netloc:
        raise InvalidBlobUrlError(
            f"{_redact(url)} carries credentials before '@'",
            hint="remove the user:password part; pass credentials through settings",
        )
    return parts._replace(scheme=parts.scheme.lower())


def _netloc(url: str, parts: SplitResult) -> str:
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port is not None else host


def _decode(url: str, raw: str, what: str) -> str:
    match = _BAD_ESCAPE_RE.search(raw)
    if match:
        raise InvalidBlobUrlError(
            f"{_redact(url)}: malformed percent-escape in the {what} at position {match.start()}",
            hint="encode a literal '%' as %25",
        )
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise InvalidBlobUrlError(
            f"{_redact(url)}: the {what} has percent-escapes that are not UTF-8",
            hint="percent-encode names as UTF-8",
        ) from None


def _names(url: str, container: str, raw_name: str, kind: UrlKind) -> tuple[str, str]:
    if not raw_name:
        raise InvalidBlobUrlError(
            f"{_redact(url)} names a container or bucket but no blob",
            hint="append /<blob name> to the URL",
        )
    name = _decode(url, raw_name, "blob name")
    container = _decode(url, container, "container")
    try:
        if kind == "s3":
            validate_bucket_name(container)
        else:
            validate_container_name(container)
        validate_blob_name(name)
    except InvalidBlobNameError as exc:
        raise InvalidBlobUrlError(f"{_redact(url)}: {exc.reason}", hint=exc.hint) from None
    return container, name


def is_loopback_host(host: str) -> bool:
    """Whether `host` (lower-case, no port) is this machine: localhost or a loopback IP."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parse(
    url: str, kind: Literal["azure", "s3"] | None
) -> tuple[BlobLocation, str, dict[str, list[str]]]:
    parts = _split(url)
    if parts.fragment:
        raise InvalidBlobUrlError(
            f"{_redact(url)} has a fragment ('#...')", hint="percent-encode '#' in names as %23"
        )
    if parts.scheme in ("blob", "s3"):
        uri_kind: UrlKind = "blob" if parts.scheme == "blob" else "s3"
        if kind is not None and kind != ("s3" if uri_kind == "s3" else "azure"):
            raise InvalidBlobUrlError(f"{_redact(url)} is not an {kind} URL")
        if parts.query:
            raise InvalidBlobUrlError(
                f"{_redact(url)} has a query ('?...')", hint="percent-encode '?' in names as %3F"
            )
        container, name = _names(url, parts.netloc, parts.path[1:], uri_kind)
        return BlobLocation(uri_kind, container, name), f"{uri_kind}-uri", {}
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidBlobUrlError(f"{_redact(url)} is not a blob URL (unknown scheme or host)")
    query = parse_qs(parts.query)
    host = parts.hostname
    netloc = _netloc(url, parts)
    path = parts.path[1:]
    azure_host = _AZURE_HOST_RE.match(host)
    s3_host = _S3_HOST_RE.match(host)
    if azure_host or s3_host:
        found: Literal["azure", "s3"] = "azure" if azure_host else "s3"
        if kind is not None and kind != found:
            raise InvalidBlobUrlError(f"{_redact(url)} is an {found} URL, not an {kind} URL")
    if azure_host:
        container, _, raw_name = path.partition("/")
        container, name = _names(url, container, raw_name, "azure")
        endpoint = f"{parts.scheme}://{netloc}"
        location = BlobLocation("azure", container, name, azure_host["account"], endpoint)
        return location, "azure-host", query
    if s3_host or kind == "s3" or any(key.startswith("X-Amz-") for key in query):
        if s3_host and s3_host["bucket"]:
            bucket, raw_key = s3_host["bucket"], path
            service = s3_host["service"] + (f":{parts.port}" if parts.port else "")
            endpoint = f"{parts.scheme}://{service}"
        else:
            bucket, _, raw_key = path.partition("/")
            endpoint = f"{parts.scheme}://{netloc}"
        bucket, key = _names(url, bucket, raw_key, "s3")
        return BlobLocation("s3", bucket, key, None, endpoint), "s3", query
    azure_sas = query.keys() >= {"sv", "sig"}
    if kind == "azure" or parts.port is not None or is_loopback_host(host) or azure_sas:
        account, _, rest = path.partition("/")
        if not _ACCOUNT_RE.match(account):
            raise InvalidBlobUrlError(
                f"{_redact(url)}: path-style URLs start with the account name "
                "(3-24 lowercase letters and digits)",
                hint="use http://<host>:<port>/<account>/<container>/<blob name>",
            )
        container, _, raw_name = rest.partition("/")
        container, name = _names(url, container, raw_name, "azure")
        endpoint = f"{parts.scheme}://{netloc}/{account}"
        return BlobLocation("azure", container, name, account, endpoint), "azure-path", query
    raise InvalidBlobUrlError(
        f"{_redact(url)} is neither an Azure nor an S3 object URL",
        hint="pass kind='azure' or kind='s3' for a custom endpoint",
    )
