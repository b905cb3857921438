"""A client for a real Toxiproxy server's REST API, with the built-in proxy's method names.

Used when `HARNESS_TOXIPROXY_URL` names a running Toxiproxy (e.g. ``http://127.0.0.1:8474``):
the harness then creates its proxies there and sends its toxics there. Endpoints used:
``GET /version``, ``GET/POST /proxies``, ``GET/POST/DELETE /proxies/{name}``,
``GET/POST /proxies/{name}/toxics``, ``POST/DELETE /proxies/{name}/toxics/{toxic}``,
``POST /reset``. Toxics are validated locally first (same rules as the built-in proxy), so
a typo fails before any request. The HTTP transport is injectable for unit tests.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from harness.faults.toxics import Toxic, make_toxic

__all__ = ["RemoteProxy", "ToxiproxyClient", "ToxiproxyError", "Transport", "urllib_transport"]

Transport = Callable[[str, str, Mapping[str, Any] | None], tuple[int, Any]]
"""(method, url, json body or None) -> (status, decoded JSON body or None)."""


class ToxiproxyError(RuntimeError):
    """The Toxiproxy server refused a request or could not be reached."""


def urllib_transport(timeout: float = 5.0) -> Transport:
    def send(method: str, url: str, body: Mapping[str, Any] | None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            raw, status = exc.read(), exc.code
        except OSError as exc:
            raise ToxiproxyError(
                f"cannot reach Toxiproxy at {url}: {exc}. Fix: start toxiproxy-server or "
                "unset HARNESS_TOXIPROXY_URL to use the built-in proxy"
            ) from exc
        text = raw.decode() if raw else ""
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, text

    return send


class ToxiproxyClient:
    def __init__(self, url: str, transport: Transport | None = None) -> None:
        self.url = url.rstrip("/")
        self._transport = transport or urllib_transport()

    def request(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        status, payload = self._transport(method, self.url + path, body)
        if status >= 400:
            detail = payload.get("error") if isinstance(payload, dict) else payload
            raise ToxiproxyError(f"Toxiproxy {method} {path} -> {status}: {detail}")
        return payload

    def version(self) -> str:
        payload = self.request("GET", "/version")
        return str(payload.get("version") if isinstance(payload, dict) else payload)

    def proxies(self) -> dict[str, RemoteProxy]:
        payload = self.request("GET", "/proxies") or {}
        return {name: RemoteProxy(self, data) for name, data in payload.items()}

    def create(
        self,
        name: str,
        upstream: str,
        listen: str = "127.0.0.1:0",
        enabled: bool = True,
    ) -> RemoteProxy:
        body = {"name": name, "upstream": upstream, "listen": listen, "enabled": enabled}
        return RemoteProxy(self, self.request("POST", "/proxies", body))

    def get(self, name: str) -> RemoteProxy:
        return RemoteProxy(self, self.request("GET", f"/proxies/{quote(name, safe='')}"))

    def destroy(self, name: str) -> None:
        self.request("DELETE", f"/proxies/{quote(name, safe='')}")

    def reset(self) -> None:
        """Enable every proxy and remove every toxic (Toxiproxy's POST /reset)."""
        self.request("POST", "/reset")


class RemoteProxy:
    """A proxy on a Toxiproxy server; same toxic methods as `harness.faults.Proxy`."""

    def __init__(self, client: ToxiproxyClient, data: Mapping[str, Any]) -> None:
        self.client = client
        self.name = str(data["name"])
        self.listen = str(data["listen"])
        self.upstream = str(data["upstream"])
        self.enabled = bool(data.get("enabled", True))
        host, _, port = self.listen.rpartition(":")
        self.host = "127.0.0.1" if host in ("", "[::]", "0.0.0.0") else host
        self.port = int(port)

    @property
    def _path(self) -> str:
        return f"/proxies/{quote(self.name, safe='')}"

    def add_toxic(
        self,
        name: str | None,
        type: str,
        stream: str = "downstream",
        toxicity: float = 1.0,
        attributes: Mapping[str, Any] | None = None,
    ) -> Toxic:
        toxic = make_toxic(name, type, stream, toxicity, attributes)
        return Toxic.from_json(self.client.request("POST", f"{self._path}/toxics", toxic.to_json()))

    def update_toxic(
        self,
        name: str,
        *,
        toxicity: float | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> Toxic:
        body: dict[str, Any] = {}
        if toxicity is not None:
            body["toxicity"] = toxicity
        if attributes is not None:
            body["attributes"] = dict(attributes)
        path = f"{self._path}/toxics/{quote(name, safe='')}"
        return Toxic.from_json(self.client.request("POST", path, body))

    def remove_toxic(self, name: str) -> None:
        self.client.request("DELETE", f"{self._path}/toxics/{quote(name, safe='')}")

    def toxics(self) -> list[Toxic]:
        payload = self.client.request("GET", f"{self._path}/toxics") or []
        return [Toxic.from_json(item) for item in payload]

    def enable(self) -> None:
        self._set_enabled(True)

    def disable(self) -> None:
        self._set_enabled(False)

    def _set_enabled(self, enabled: bool) -> None:
        self.client.request("POST", self._path, {"enabled": enabled})
        self.enabled = enabled

    def reset(self) -> None:
        for toxic in self.toxics():
            self.remove_toxic(toxic.name)
        self.enable()
