"""SAS / presigned URL checks (Pre-Deployment Checklist step 5), over plain HTTP with no SDK: a read
URL fetches the probe byte-exact, the probe's plain URL is refused, and the read URL is
refused for a write. The URLs are secrets: their query is added to the redactor at once.

moto does not verify presigned signatures (any PUT is accepted), so on a loopback S3
emulator an accepted write is reported as a known emulator gap (skipped); against any
other endpoint it is a failure.
"""

from __future__ import annotations

import os
import secrets
from urllib.parse import urlsplit

from harness.predeploy.context import Context
from harness.predeploy.endpoints import is_emulator
from harness.predeploy.http import HttpAnswer, request
from harness.predeploy.model import Check, Outcome, failed, passed, skipped
from harness.predeploy.probes import PROBE_PREFIX, new_probe_name

__all__ = ["CHECKS"]

_PROBE = "sas.probe-name"
_URL = "sas.read-url"
_SIGNATURE_PARAMS = {"azure": "sig=", "s3": "X-Amz-Signature="}


def _cafile(ctx: Context) -> str | None:
    verify = ctx.require_settings().azure_connection_verify
    return verify if verify and os.path.isfile(verify) else None


def _http(ctx: Context, method: str, url: str, data: bytes | None = None) -> HttpAnswer:
    headers = {"x-ms-blob-type": "BlockBlob"} if data is not None else {}
    return request(
        method,
        url,
        data=data,
        headers=headers,
        timeout=ctx.options.http_timeout,
        cafile=_cafile(ctx),
    )


def _read_url(ctx: Context) -> Outcome:
    client = ctx.storage()
    name = new_probe_name("sas")
    payload = secrets.token_bytes(512)
    ctx.probes.add(name)
    client.upload_file(name, payload, content_type="application/octet-stream")
    url = client.generate_sas_url(name, expiry_hours=0.25, permission="r")
    ctx.add_secret(urlsplit(url).query)
    ctx.notes.update({_PROBE: name, _URL: url})
    marker = _SIGNATURE_PARAMS[client.backend]
    if marker not in url:
        return failed(f"the read URL carries no {marker.rstrip('=')} signature", "a crownsafe bug")
    answer = _http(ctx, "GET", url)
    if answer.status != 200:
        return failed(
            f"GET with the read URL answered {answer.describe()}",
            "check the account key / credentials used to sign, and the clock (SAS start time)",
        )
    if answer.body != payload:
        return failed("the bytes fetched with the read URL differ from the probe", "a proxy?")
    return passed(f"read URL (signed, 15 min) fetched {len(payload)} bytes over plain HTTP")


def _unsigned_refused(ctx: Context) -> Outcome:
    client = ctx.storage()
    answer = _http(ctx, "GET", client.get_blob_url(ctx.notes[_PROBE]))
    if answer.status in (401, 403, 404):
        return passed(f"the probe's plain URL (no signature) was refused ({answer.describe()})")
    return failed(
        f"the probe's plain URL answered {answer.describe()} without any signature",
        "make the container private (see storage.container-private)",
    )


def _read_refuses_write(ctx: Context) -> Outcome:
    answer = _http(ctx, "PUT", ctx.notes[_URL], data=b"predeploy write with a read-only SAS")
    if answer.status == 403:
        return passed(f"a PUT with the read URL was refused ({answer.describe()})")
    client = ctx.storage()
    accepted = answer.status is not None and answer.status < 300
    if accepted and client.backend == "s3" and is_emulator(ctx.require_settings()):
        return skipped(
            "known emulator gap: moto does not verify presigned signatures "
            f"(the PUT answered {answer.describe()}); real S3 answers 403"
        )
    if accepted:
        return failed(
            f"a PUT with a read-only URL was accepted ({answer.describe()}): SAS permissions "
            "are not enforced",
            "sign SAS URLs with the least permission (crownsafe does) and check the endpoint "
            "is the real service, not a proxy that strips signatures",
        )
    return failed(
        f"a PUT with the read URL answered {answer.describe()}, expected 403",
        "check the endpoint and any proxy in front of it",
    )


_WRITES = (
    f"writes one probe blob {PROBE_PREFIX}<utc-timestamp>-<random>-sas (512 B), deleted at the end"
)
CHECKS = (
    Check(
        "sas.read-url",
        "a read SAS URL is signed and fetches the blob over HTTP",
        _read_url,
        needs=("storage.round-trip",),
        writes=_WRITES,
    ),
    Check(
        "sas.unsigned-url-refused",
        "the blob's plain URL is refused without a signature",
        _unsigned_refused,
        needs=("sas.read-url",),
    ),
    Check(
        "sas.read-refuses-write",
        "a read SAS URL is refused for a write (PUT -> 403)",
        _read_refuses_write,
        needs=("sas.read-url",),
        writes="PUTs to the sas probe with its read URL (refused, or overwrites the probe)",
    ),
)
