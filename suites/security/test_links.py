"""A share's storage link reads its one snapshot, only, and only until it expires.

Azurite verifies SAS signatures, so on Azure the link is tried for real (PUT, DELETE,
another blob, after expiry). moto verifies no presigned signature (docs/emulators.md), so
on S3 the suite checks the URL's signature itself, as S3 would (SigV4 recomputed with the
stack's key: `contract.sigv4`): bound to GET of exactly this key, with an expiry inside
the share's lifetime. The expiry is a 1-second share, awaited by polling, never a sleep.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx
import redis
from api.helpers import NotYet, poll, sample_scan
from contract.sigv4 import parse_sas_time, presigned_methods, query_params, sigv4_presign_signature

from harness.fixtures.api import ApiStack, ApiStackFactory

from .helpers import storage_secret

USER = 9131


def _scan(client: httpx.Client) -> int:
    response = client.post("/scans", json=sample_scan())
    assert response.status_code == 201, response.text
    scan_id: int = response.json()["id"]
    return scan_id


def _resolved(client: httpx.Client, scan_id: int, **body: object) -> dict[str, Any]:
    share = client.post(f"/scans/{scan_id}/shares", json={"format": "json", **body})
    assert share.status_code == 201, share.text
    resolved = client.get(f"/shares/{share.json()['token']}")
    assert resolved.status_code == 200, resolved.text
    data: dict[str, Any] = {**resolved.json(), "token": share.json()["token"]}
    return data


def _raw() -> httpx.Client:
    return httpx.Client(trust_env=False, timeout=30)


def _with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=path))


def test_share_link_cannot_write(api_stack: ApiStack) -> None:
    """The resolved link of a share cannot overwrite or delete its snapshot."""
    client = api_stack.client(user_id=USER)
    resolved = _resolved(client, _scan(client))
    url = resolved["url"]
    with _raw() as raw:
        original = raw.get(url)
        assert original.status_code == 200
        if api_stack.backend == "azure":
            put = raw.put(url, content=b"overwritten", headers={"x-ms-blob-type": "BlockBlob"})
            assert put.status_code == 403, put.text[:300]
            assert raw.delete(url).status_code == 403
        else:
            assert presigned_methods(url, storage_secret(api_stack)) == {"GET"}
        assert raw.get(url).content == original.content


def test_share_link_cannot_read_another_blob(api_stack: ApiStack) -> None:
    """One share's link, pointed at another blob of the same user, is refused."""
    client = api_stack.client(user_id=USER + 1)
    scan_id = _scan(client)
    first, second = _resolved(client, scan_id), _resolved(client, scan_id)
    moved = _with_path(first["url"], urlsplit(second["url"]).path)
    with _raw() as raw:
        assert raw.get(second["url"]).status_code == 200
        if api_stack.backend == "azure":
            response = raw.get(moved)
            assert response.status_code == 403, response.text[:300]
        else:
            secret = storage_secret(api_stack)
            signature = query_params(moved)["X-Amz-Signature"]
            assert sigv4_presign_signature("GET", moved, secret) != signature
            assert sigv4_presign_signature("GET", first["url"], secret) == signature


def _expiry(stack: ApiStack, url: str) -> datetime:
    params = query_params(url)
    if stack.backend == "azure":
        return parse_sas_time(params["se"])
    signed = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return signed + timedelta(seconds=int(params["X-Amz-Expires"]))


def test_share_link_is_refused_after_expiry(api_stack: ApiStack) -> None:
    """A 1-second share's link ends with the share; then the link and the share are refused."""
    client = api_stack.client(user_id=USER + 2)
    resolved = _resolved(client, _scan(client), ttl_seconds=1)
    url = resolved["url"]
    share_end = datetime.fromisoformat(resolved["expires_at"])
    assert _expiry(api_stack, url) <= share_end + timedelta(seconds=1), (url, share_end)

    def share_gone() -> None:
        response = client.get(f"/shares/{resolved['token']}")
        if response.status_code == 200:
            raise NotYet("the share still resolves")
        assert response.status_code == 410, response.text

    poll(share_gone, timeout=15)
    if api_stack.backend == "azure":

        def link_refused() -> None:
            with _raw() as raw:
                response = raw.get(url)
            if response.status_code == 200:
                raise NotYet("the link still reads")
            assert response.status_code == 403, response.text[:300]

        poll(link_refused, timeout=15)
    else:
        assert int(query_params(url)["X-Amz-Expires"]) <= 1
        assert presigned_methods(url, storage_secret(api_stack)) == {"GET"}


def test_a_revoked_share_link_stops_working_at_once(api_stack: ApiStack) -> None:
    """Revoking a share deletes its snapshot: a storage URL handed out before the
    revocation, still inside its own lifetime, reads nothing from that moment, on both
    backends (the object is gone, whatever the URL's signature says)."""
    client = api_stack.client(user_id=USER + 3)
    resolved = _resolved(client, _scan(client))
    with _raw() as raw:
        assert raw.get(resolved["url"]).status_code == 200
        assert client.delete(f"/shares/{resolved['token']}").status_code == 204
        after = raw.get(resolved["url"])
    assert after.status_code == 404, after.text[:300]  # gone, not merely refused
    assert client.get(f"/shares/{resolved['token']}").status_code == 410


def test_with_the_sas_cache_on_a_revoked_share_leaves_no_cached_url(
    backend_name: str, make_api_stack: ApiStackFactory
) -> None:
    """SAS_CACHE=redis: a share resolved twice hands out the cached URL; revoking it drops
    the cache entry (real Redis), and its link is refused."""
    stack = make_api_stack(backend_name, worker=False, SAS_CACHE="redis")
    client = stack.client(user_id=USER + 4)
    resolved = _resolved(client, _scan(client))
    again = client.get(f"/shares/{resolved['token']}").json()
    assert again["url"] == resolved["url"], "the second resolve is served from the cache"
    blob = urlsplit(resolved["url"]).path.split(f"/{stack.storage.container_name}/", 1)[1]
    cache = redis.Redis.from_url(stack.env["REDIS_URL"])
    try:
        keys = [k.decode() for k in cache.scan_iter(match="crownsafe:sas:*")]
        assert [k for k in keys if k.endswith(f":r:{unquote(blob)}")], keys
        assert client.delete(f"/shares/{resolved['token']}").status_code == 204
        remaining = [k.decode() for k in cache.scan_iter(match="crownsafe:sas:*")]
        assert not [k for k in remaining if k.endswith(f":r:{unquote(blob)}")], remaining
    finally:
        cache.close()
    assert client.get(f"/shares/{resolved['token']}").status_code == 410
