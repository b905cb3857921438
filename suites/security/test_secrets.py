"""Error responses never echo a secret the client sent or the server holds.

Requests built to provoke an echo (a SAS signature in a search URL, a connection string
in a text field and a query string, an Authorization header on a missing route, a bearer
token carrying the account key) are refused; the raw status line, every header and the
body of each answer are scanned for the storage key, the JWT secret, the SAS or presigned
signature and the Authorization value (`harness.logscan`'s patterns and literals).
"""

from __future__ import annotations

import jwt
from api.helpers import sample_scan

from harness.fixtures.api import ApiStack
from harness.logscan import find_secrets

from .helpers import raw_text, storage_secret

USER = 9141


def test_error_responses_never_echo_secrets(api_stack: ApiStack) -> None:
    """Refused requests carrying secrets get answers (status, headers, body) without them."""
    key = storage_secret(api_stack)
    jwt_secret = api_stack.env["JWT_SECRET"]
    token = api_stack.token(USER)
    container = api_stack.storage.container_name
    sas_sig = "sv=2024-08-04&sr=b&sp=rw&sig=Zm9yZ2VkLXNpZ25hdHVyZS1zaG91bGQtbmV2ZXItZWNobw%3D"
    sas_url = f"https://acct.blob.core.windows.net/{container}/uploads/{USER}/x.jpg?{sas_sig}"
    connection = f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={key};"
    presigned = (
        f"https://{container}.s3.amazonaws.com/uploads/{USER}/x.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Signature=0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
    )
    leaky_token = jwt.encode({"sub": connection, "iss": "x"}, "y" * 48, algorithm="HS256")
    scan = sample_scan()
    scan["product_name"] = connection + "\x00"
    answers = []
    with api_stack.client(user_id=USER) as client:
        answers += [
            client.post("/visual/search", json={"image_url": sas_url}),
            client.post("/visual/search", json={"image_url": presigned}),
            client.post("/visual/search", json={"image_url": connection}),
            client.post("/scans", json=scan),
            client.post(
                "/scans", content=connection.encode(), headers={"Content-Type": "application/json"}
            ),
            client.get("/no-such-route", params={"sig": sas_sig, "key": key}),
            client.get(f"/uploads/{connection}"),
            client.put("/uploads", content=b"x"),
            client.get("/shares/" + "A" * 24, headers={"X-Forwarded-For": connection}),
        ]
    with api_stack.client() as anonymous:
        answers += [
            anonymous.get("/scans/1", headers={"Authorization": f"Bearer {leaky_token}"}),
            anonymous.get("/scans/1", headers={"Authorization": f"SharedKey acct:{key}"}),
            anonymous.get("/no-such-route", headers={"Authorization": f"Bearer {token}"}),
        ]
    assert all(400 <= answer.status_code < 500 for answer in answers), [
        (a.request.url.path[:40], a.status_code) for a in answers
    ]
    literals = {
        "storage key": key,
        "JWT secret": jwt_secret,
        "bearer token": token,
        "forged token": leaky_token,
        "SAS signature": "Zm9yZ2VkLXNpZ25hdHVyZS1zaG91bGQtbmV2ZXItZWNobw",
        "presigned signature": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    }
    hits = [
        f"{answer.request.method} {answer.status_code}: {hit}"
        for answer in answers
        for hit in find_secrets(raw_text(answer), literals)
    ]
    assert hits == [], hits
