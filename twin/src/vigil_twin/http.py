"""Minimal HTTP plumbing shared by every twin service: request, response, errors, routing.

Services declare routes on a `Router`; the server strips the service prefix
(``/compute``, ``/placement``...) before matching, so patterns are written as the real
API documents them (``/v2.1/servers/detail``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs


class HTTPError(Exception):
    """Raised by a handler to answer with an error status and a service-specific body."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body
        self.headers = headers or {}


@dataclass
class Request:
    method: str
    path: str  # path below the service prefix, e.g. /v2.1/servers/detail
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    raw_body: bytes
    base_url: str  # scheme://host:port + service prefix, for links in bodies
    params: dict[str, str] = field(default_factory=dict)  # route groups
    context: dict[str, Any] = field(default_factory=dict)  # set by auth (token, roles...)
    cloud: Any = None  # the Cloud being served, set by the server: handlers reach stores through it

    @property
    def json(self) -> Any:
        if not self.raw_body:
            return None
        try:
            return json.loads(self.raw_body)
        except ValueError as exc:
            raise HTTPError(400, {"badRequest": {"code": 400, "message": f"Malformed request body: {exc}"}}) from exc

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    @classmethod
    def from_parts(cls, method, path, query_string, headers, body, base_url) -> Request:
        return cls(
            method=method.upper(),
            path=path,
            query=parse_qs(query_string, keep_blank_values=True),
            headers={k.lower(): v for k, v in headers.items()},
            raw_body=body or b"",
            base_url=base_url,
        )


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes/str -> sent as is
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if self.body is None:
            return b"", headers
        if isinstance(self.body, bytes):
            return self.body, headers
        if isinstance(self.body, str):
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
            return self.body.encode(), headers
        headers.setdefault("Content-Type", "application/json")
        return json.dumps(self.body, separators=(",", ":")).encode(), headers


Handler = Callable[[Request], Response]


class Router:
    """Method + regex routing. ``{name}`` in a pattern matches one path segment."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern.rstrip("/")) + "/?$")

        def decorator(fn: Handler) -> Handler:
            self._routes.append((method.upper(), regex, fn))
            return fn

        return decorator

    def dispatch(self, request: Request) -> Response:
        path_matched = False
        for method, regex, fn in self._routes:
            m = regex.match(request.path)
            if not m:
                continue
            path_matched = True
            if method != request.method:
                continue
            request.params = m.groupdict()
            return fn(request)
        if path_matched:
            raise HTTPError(405, {"error": {"code": 405, "message": f"Method {request.method} not allowed"}})
        raise HTTPError(404, {"error": {"code": 404, "message": f"Resource {request.path} not found"}})
