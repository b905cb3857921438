"""Storage checks (Pre-Deployment Checklist steps 3-4): the service answers and accepts the
credentials, the container exists and is private (by its settings and by an anonymous
HTTP request), stale probes of killed runs are removed, and a probe blob makes a
byte-exact upload / download / delete round trip, from bytes and through the streamed
path of the API's raw uploads (a non-seekable body of known length, new and overwritten):
an S3-compatible service that stores botocore's aws-chunked framing as data fails there
(S3_REQUEST_CHECKSUMS=when_required is the fix) instead of in production."""

from __future__ import annotations

import base64
import io
import re
import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO, cast

from crownsafe.config import SecretStr, Settings
from crownsafe.errors import BlobNotFoundError, StorageAuthError, StorageIntegrityError
from harness.predeploy.context import Context
from harness.predeploy.endpoints import container_url, is_emulator
from harness.predeploy.http import request
from harness.predeploy.interrupt import pause_point
from harness.predeploy.model import Check, Outcome, failed, passed, skipped
from harness.predeploy.probes import PROBE_PREFIX, new_probe_name, stale_probes

__all__ = ["CHECKS", "PROBE_SIZE"]

PROBE_SIZE = 1024
STREAMED_PROBE_SIZE = 64 * 1024
_MISSING = "storage.container-missing"
_REFUSED = (401, 403, 404)


def _reachable(ctx: Context) -> Outcome:
    client = ctx.storage()
    try:
        found = client.list_blobs(max_results=1)
    except BlobNotFoundError as exc:
        ctx.notes[_MISSING] = exc.error_code or "not found"
        return passed(
            "the service answered and accepted the credentials; the container does not "
            "exist (see storage.container-exists)"
        )
    return passed(
        f"list_blobs(max_results=1) answered ({len(found)} blob(s)); whether the service "
        "checked the credentials: storage.credentials-verified"
    )


def _forged(settings: Settings) -> Settings | None:
    """The same settings with made-up credentials of the same shape (None: a managed
    identity, which has no key to make up)."""
    if settings.storage_backend == "s3":
        key_id = "AKIA" + secrets.token_hex(8).upper()
        return replace(
            settings,
            aws_access_key_id=key_id,
            aws_secret_access_key=SecretStr(secrets.token_urlsafe(30)),
        )
    made_up = base64.b64encode(secrets.token_bytes(64)).decode()
    if settings.azure_storage_connection_string:
        forged = re.sub(
            r"(?i)(AccountKey=)[^;]*",
            lambda m: m.group(1) + made_up,
            settings.azure_storage_connection_string.get(),
        )
        return replace(settings, azure_storage_connection_string=SecretStr(forged))
    if settings.azure_storage_account_key:
        return replace(settings, azure_storage_account_key=SecretStr(made_up))
    return None


def _credentials_verified(ctx: Context) -> Outcome:
    """storage.reachable's answer proves the configured credentials only if the service
    checks credentials at all: list once more with a made-up key of the same shape. moto
    (auth off, as it starts) answers any key, so there a wrong key cannot be told."""
    settings = ctx.require_settings()
    forged = _forged(settings)
    if forged is None:
        return passed("managed identity: Azure AD issues and checks its token (no key to forge)")
    from crownsafe.storage.factory import create_storage_client

    client = create_storage_client(forged, resilient=False)
    try:
        client.list_blobs(max_results=1)
    except BlobNotFoundError:
        pass  # past the credentials to the container lookup: as good as answered
    except StorageAuthError as exc:
        return passed(
            f"a listing signed with a made-up key was refused ({type(exc).__name__}), so the "
            "configured credentials' answer (storage.reachable) proves them"
        )
    finally:
        client.close()
    variables = (
        "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY"
        if settings.storage_backend == "s3"
        else "the account key"
    )
    if is_emulator(settings):
        service = "moto" if settings.storage_backend == "s3" else "this emulator"
        return skipped(
            f"known emulator gap: {service} does not check credentials (a listing signed "
            f"with a made-up key was answered), so wrong {variables} cannot be told here; "
            "the real service refuses them (403)"
        )
    kind = "bucket" if settings.storage_backend == "s3" else "container"
    return failed(
        "a listing signed with a made-up key was answered: the endpoint does not check "
        f"credentials, so anyone can read the {kind}",
        "check the endpoint is the real service, not a proxy that signs or skips the check",
    )


def _container_exists(ctx: Context) -> Outcome:
    client = ctx.storage()
    if _MISSING in ctx.notes:
        kind = "container" if client.backend == "azure" else "bucket"
        variable = "AZURE_STORAGE_CONTAINER" if client.backend == "azure" else "S3_BUCKET"
        return failed(
            f"{kind} {client.container_name!r} does not exist ({ctx.notes[_MISSING]})",
            f"create it (private) before deploying, or correct {variable}",
        )
    return passed(f"{client.container_name!r} exists")


def _container_private(ctx: Context) -> Outcome:
    client = ctx.storage()
    ask = getattr(client, "public_access_grants", None)
    if not callable(ask):
        return failed(f"{type(client).__name__} cannot report its public access", "a bug")
    grants: list[str] = ask()
    if grants:
        fix = (
            "az storage container set-permission --public-access off (or disable blob public "
            "access on the account)"
            if client.backend == "azure"
            else "remove the public grants and turn on S3 Block Public Access for the bucket"
        )
        return failed("anonymous access is allowed: " + "; ".join(grants), fix)
    what = "public access level None" if client.backend == "azure" else "no public policy or ACL"
    return passed(what)


def _anonymous_list_refused(ctx: Context) -> Outcome:
    client = ctx.storage()
    query = "?restype=container&comp=list" if client.backend == "azure" else "?list-type=2"
    answer = request("GET", container_url(client) + query, timeout=ctx.options.http_timeout)
    if answer.status in _REFUSED:
        return passed(f"an anonymous listing was refused ({answer.describe()})")
    if answer.status is not None and answer.status < 300:
        if client.backend == "s3" and is_emulator(ctx.require_settings()):
            return skipped(
                "known emulator gap: moto does not enforce bucket ACLs on unsigned listings "
                f"({answer.describe()}); storage.container-private read the ACL and policy"
            )
        return failed(
            f"an anonymous listing succeeded ({answer.describe()}): anyone can list the blobs",
            "make the container private (see storage.container-private)",
        )
    return failed(
        f"unexpected answer to an anonymous listing: {answer.describe()}",
        "check the endpoint and any proxy in front of it",
    )


def _cleanup_stale(ctx: Context) -> Outcome:
    client = ctx.storage()
    names = [info.name for info in client.iter_blobs(prefix=PROBE_PREFIX)]
    older = timedelta(minutes=ctx.options.stale_minutes)
    stale = stale_probes(names, now=datetime.now(UTC), older_than=older)
    for name in stale:
        client.delete_blob(name, missing_ok=True)
    kept = len(names) - len(stale)
    return passed(
        f"deleted {len(stale)} probe blob(s) older than {ctx.options.stale_minutes:g} min; "
        f"{kept} other blob(s) under {PROBE_PREFIX} left alone"
    )


def _round_trip(ctx: Context) -> Outcome:
    client = ctx.storage()
    name = new_probe_name("round-trip")
    payload = secrets.token_bytes(PROBE_SIZE)
    ctx.probes.add(name)
    client.upload_file(name, payload, content_type="application/octet-stream")
    pause_point(ctx.environ, name)
    downloaded = client.download_blob(name)
    client.delete_blob(name)
    ctx.probes.done(name)
    if downloaded != payload:
        return failed(
            f"downloaded {len(downloaded)} bytes differ from the {len(payload)} uploaded",
            "something between crownsafe and the service rewrites content (proxy, encoding)",
        )
    if client.blob_exists(name):
        return failed("the probe blob still exists after delete_blob", "check soft-delete rules")
    return passed(f"{PROBE_SIZE} random bytes uploaded, downloaded identical, deleted")


class _Unseekable(io.RawIOBase):
    """A request body as the API hands it to storage: readable once, not seekable."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._data.readinto(buffer)


def _streamed_round_trip(ctx: Context) -> Outcome:
    client = ctx.storage()
    name = new_probe_name("streamed")
    first, second = (secrets.token_bytes(STREAMED_PROBE_SIZE) for _ in range(2))
    ctx.probes.add(name)
    stored: list[bytes] = []
    try:
        for payload, overwrite in ((first, False), (second, True)):
            body = cast(BinaryIO, _Unseekable(payload))
            client.upload_file(name, body, None, None, overwrite, length=len(payload))
            stored.append(client.download_blob(name))
    except StorageIntegrityError as exc:
        client.delete_blob(name, missing_ok=True)
        ctx.probes.done(name)
        return failed(
            f"the service stored other bytes than a streamed upload sent: {exc.reason}",
            exc.hint or "check what rewrites the upload's body",
        )
    client.delete_blob(name)
    ctx.probes.done(name)
    for what, sent, got in (("new", first, stored[0]), ("overwritten", second, stored[1])):
        if got != sent:
            return failed(
                f"a streamed upload ({what}) read back {len(got)} bytes, not the {len(sent)} sent",
                "for an S3-compatible service set S3_REQUEST_CHECKSUMS=when_required; else "
                "something between crownsafe and the service rewrites the body",
            )
    return passed(
        f"{STREAMED_PROBE_SIZE} random bytes streamed (non-seekable, known length) as a new "
        "blob and over it, each read back identical, deleted"
    )


_PROBE_WRITE = (
    f"writes one probe blob {PROBE_PREFIX}<utc-timestamp>-<random>-round-trip ({PROBE_SIZE} B)"
)
CHECKS = (
    Check(
        "storage.reachable",
        "storage reachable (list_blobs max_results=1)",
        _reachable,
        needs=("config.required-variables",),
    ),
    Check(
        "storage.credentials-verified",
        "the service refuses made-up credentials (so the configured ones are checked)",
        _credentials_verified,
        needs=("storage.reachable",),
    ),
    Check(
        "storage.container-exists",
        "the container exists",
        _container_exists,
        needs=("storage.reachable",),
    ),
    Check(
        "storage.container-private",
        "the container allows no anonymous access (settings)",
        _container_private,
        needs=("storage.container-exists",),
    ),
    Check(
        "storage.anonymous-list-refused",
        "an anonymous HTTP listing is refused",
        _anonymous_list_refused,
        needs=("storage.container-exists",),
    ),
    Check(
        "predeploy.cleanup-stale-probes",
        "probe blobs left by killed runs deleted",
        _cleanup_stale,
        needs=("storage.container-exists",),
        writes=f"deletes probe blobs under {PROBE_PREFIX} older than --stale-minutes",
    ),
    Check(
        "storage.round-trip",
        "upload / download / delete round trip, byte-exact",
        _round_trip,
        needs=("storage.container-exists",),
        writes=_PROBE_WRITE + ", deleted at once",
    ),
    Check(
        "storage.streamed-round-trip",
        "streamed upload (new and overwrite) / download / delete, byte-exact",
        _streamed_round_trip,
        needs=("storage.container-exists",),
        writes=(
            f"writes one probe blob {PROBE_PREFIX}<utc-timestamp>-<random>-streamed "
            f"({STREAMED_PROBE_SIZE} B, twice), deleted at once"
        ),
    ),
)
