"""A tiny plain-HTTP client for the twin's own unit tests (the contract suite uses openstacksdk)."""

from __future__ import annotations

from typing import Any

import requests


def token(
    twin: Any, user: str = "admin", password: str | None = None, project: str | None = "admin", scope: Any = None
) -> requests.Response:
    ident = twin.cloud.stores["identity"]
    uid = ident.user_by_name[user]
    body: dict[str, Any] = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": user,
                        "domain": {"name": "Default"},
                        "password": password or ident.users[uid]["password"],
                    }
                },
            }
        }
    }
    if scope is not None:
        body["auth"]["scope"] = scope
    elif project:
        body["auth"]["scope"] = {"project": {"name": project, "domain": {"name": "Default"}}}
    return requests.post(f"{twin.url}/identity/v3/auth/tokens", json=body, timeout=10)


class Api:
    def __init__(self, twin: Any, user: str = "admin", project: str = "admin") -> None:
        self.twin = twin
        self.session = requests.Session()
        resp = token(twin, user, project=project)
        assert resp.status_code == 201, resp.text
        self.token = resp.headers["X-Subject-Token"]

    def call(
        self,
        method: str,
        path: str,
        mv: str | None = None,
        service: str = "compute",
        body: Any = None,
        headers: dict | None = None,
    ) -> requests.Response:
        hdrs = {"X-Auth-Token": self.token}
        if mv:
            hdrs["OpenStack-API-Version"] = f"{service} {mv}"
        hdrs.update(headers or {})
        prefix = {"compute": "/compute/v2.1", "placement": "/placement", "identity": "/identity/v3"}[service]
        return self.session.request(method, f"{self.twin.url}{prefix}{path}", json=body, headers=hdrs, timeout=30)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.call("POST", path, body=body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.call("PUT", path, body=body, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.call("DELETE", path, **kw)

    def server(self, name: str) -> dict[str, Any]:
        sid = self.twin.cloud.stores["compute"].server_by_name[name]
        return self.get(f"/servers/{sid}", mv="2.96").json()["server"]
