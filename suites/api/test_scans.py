"""Scans over real HTTP: create, read, list, delete; auth and ownership."""

from __future__ import annotations

import pytest

from harness.fixtures.api import ApiStack

from .helpers import assert_error, create_scan, sample_scan


@pytest.mark.parametrize("name", ["relaxer_high_risk", "edge_control_medium", "shea_butter_low"])
def test_create_and_read_scan(api_stack: ApiStack, name: str) -> None:
    """A scan posted by a user reads back with the same fields and a risk level."""
    client = api_stack.client(user_id=101)
    created = create_scan(client, name)
    sample = sample_scan(name)
    got = client.get(f"/scans/{created['id']}")
    assert got.status_code == 200
    body = got.json()
    assert body["product_name"] == sample["product_name"]
    assert body["barcode"] == sample["barcode"]
    assert body["risk_score"] == sample["risk_score"]
    assert [f["code"] for f in body["findings"]] == [f["code"] for f in sample["findings"]]
    assert body["risk_level"] in ("low", "medium", "high", "critical")
    listed = client.get("/scans", params={"limit": 100}).json()["scans"]
    assert created["id"] in [s["id"] for s in listed]


def test_another_users_scan_is_404(api_stack: ApiStack) -> None:
    """Another user's scan is not found (existence not revealed): read and delete."""
    owner, other = api_stack.client(user_id=102), api_stack.client(user_id=103)
    scan = create_scan(owner)
    assert_error(other.get(f"/scans/{scan['id']}"), 404, "not_found")
    assert_error(other.delete(f"/scans/{scan['id']}"), 404)
    assert scan["id"] not in [s["id"] for s in other.get("/scans").json()["scans"]]
    assert owner.get(f"/scans/{scan['id']}").status_code == 200


def test_delete_scan(api_stack: ApiStack) -> None:
    """The owner deletes a scan; afterwards it is 404."""
    client = api_stack.client(user_id=104)
    scan = create_scan(client)
    assert client.delete(f"/scans/{scan['id']}").status_code == 204
    assert_error(client.get(f"/scans/{scan['id']}"), 404)


@pytest.mark.parametrize(
    "method,path",
    [("GET", "/scans"), ("GET", "/scans/1"), ("POST", "/scans"), ("POST", "/uploads"),
     ("GET", "/shares/abcdefghijklmnopqrstuv"), ("GET", "/metrics"), ("POST", "/visual/search")],
)  # fmt: skip
def test_routes_need_a_token(api_stack: ApiStack, method: str, path: str) -> None:
    """No token, a token signed with another key, and an expired token: all 401."""
    client = api_stack.client()
    assert_error(client.request(method, path), 401, "unauthorized")
    forged = {"Authorization": "Bearer " + api_stack.token(1)[:-4] + "AAAA"}
    assert_error(client.request(method, path, headers=forged), 401)
    expired = {"Authorization": f"Bearer {api_stack.token(1, ttl=-60)}"}
    error = assert_error(client.request(method, path, headers=expired), 401)
    assert "expired" in error["message"]


@pytest.mark.parametrize(
    "body",
    [{}, {"product_name": "x", "risk_score": 101}, {"product_name": "", "risk_score": 1},
     {"product_name": "x", "risk_score": 5, "barcode": "12ab"},
     {"product_name": "x", "risk_score": 5,
      "findings": [{"code": "A", "severity": "fatal", "title": "t"}]}],
)  # fmt: skip
def test_invalid_scan_is_422(api_stack: ApiStack, body: dict[str, object]) -> None:
    """Bodies that break the schema get 422 in the error shape, and nothing is stored."""
    client = api_stack.client(user_id=105)
    assert_error(client.post("/scans", json=body), 422, "invalid_request")
    assert client.get("/scans").json()["scans"] == []
