"""Helpers shared by the twin's services (Nova, Cinder, Ironic, Glance, Neutron, MAAS, metrics).

Not a service itself (``load_services`` only imports the modules it lists).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

from vigil_twin.errors import TopologyError
from vigil_twin.http import HTTPError, Request, Router
from vigil_twin.topology import _NAMESPACE, stable_hex

_HEX_ID = re.compile(r"^[0-9a-f]{32}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


_NS_BYTES = _NAMESPACE.bytes  # must stay topology.stable_uuid's namespace (tested)


def uid(kind: str, name: str) -> str:
    """``stable_uuid(kind, name)`` (uuid5, the scheme every twin service shares), without uuid.UUID's overhead."""
    h = bytearray(hashlib.sha1(_NS_BYTES + f"{kind}:{name}".encode(), usedforsecurity=False).digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x50
    h[8] = (h[8] & 0x3F) | 0x80
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def iso(ts: float | None = None, micro: bool = True) -> str:
    dt = datetime.fromtimestamp(time.time() if ts is None else ts, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f" if micro else "%Y-%m-%dT%H:%M:%S")


def looks_like_id(value: str) -> bool:
    return bool(_HEX_ID.match(value or ""))


# -- topology validation ---------------------------------------------------------------
def section(topology: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The list under `name` (missing = empty), each entry a mapping, else TopologyError."""
    value = topology.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise TopologyError(f"{name}: must be a list, got {type(value).__name__}")
    for i, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise TopologyError(f"{name}[{i}]: must be a mapping, got {type(entry).__name__}")
    return value


def field(
    entry: dict[str, Any],
    where: str,
    key: str,
    kind: type | tuple[type, ...],
    default: Any = ...,
    check: Callable[[Any], str | None] | None = None,
) -> Any:
    """Read `entry[key]`, check its type (and `check`, which returns an error text), name the field on error."""
    if key not in entry or entry[key] is None:
        if default is ...:
            raise TopologyError(f"{where}.{key}: required")
        return default
    value = entry[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if float in kinds and int not in kinds and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) and bool not in kinds:
        raise TopologyError(f"{where}.{key}: expected {kinds[0].__name__}, got bool")
    if not isinstance(value, kinds):
        raise TopologyError(f"{where}.{key}: expected {kinds[0].__name__}, got {type(value).__name__}")
    if check:
        problem = check(value)
        if problem:
            raise TopologyError(f"{where}.{key}: {problem}")
    return value


def non_negative(value: float) -> str | None:
    return "must be >= 0" if value < 0 else None


def unique_names(entries: Iterable[dict[str, Any]], where: str, key: str = "name") -> None:
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        name = entry.get(key)
        if name in seen:
            raise TopologyError(f"{where}[{i}].{key}: duplicate '{name}' (also {where}[{seen[name]}])")
        seen[name] = i


def unique_ids(
    entries: list[dict[str, Any]], where: str, kind: str, id_key: str = "id", name_key: str = "name"
) -> None:
    """Objects whose API names need not be unique (volumes, images): their ids must be.

    The id is ``entry[id_key]`` or, without one, derived from the name (so names then repeat only with ids).
    """
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        explicit = entry.get(id_key)
        ident = explicit or uid(kind, str(entry.get(name_key)))
        if ident in seen:
            key = id_key if explicit else name_key
            raise TopologyError(f"{where}[{i}].{key}: duplicate '{entry.get(key)}' (also {where}[{seen[ident]}])")
        seen[ident] = i


# -- links to other services' stores ---------------------------------------------------
def _projects(cloud: Any) -> list[dict[str, Any]]:
    ident = (getattr(cloud, "topology", None) or {}).get("identity") or {}
    projects = ident.get("projects") if isinstance(ident, dict) else None
    return [p for p in projects or [] if isinstance(p, dict)]


def default_project(cloud: Any) -> str:
    """The project objects without one belong to: the first non-admin user's, as twin-core does for servers."""
    ident = (getattr(cloud, "topology", None) or {}).get("identity") or {}
    for user in ident.get("users") or []:
        if isinstance(user, dict) and "admin" not in (user.get("roles") or []) and user.get("project_id"):
            return user["project_id"]
    projects = _projects(cloud)
    return (
        projects[0].get("id") or stable_hex("project", projects[0]["name"])
        if projects
        else stable_hex("project", "demo")
    )


def project_id(cloud: Any, name_or_id: str | None) -> str | None:
    """Keystone project id for a project name (or id) from the topology; None when unknown."""
    if not name_or_id:
        return default_project(cloud)
    projects = _projects(cloud)
    for p in projects:
        if name_or_id in (p.get("name"), p.get("id")):
            return p.get("id") or stable_hex("project", p["name"])
    if not projects:  # no identity section loaded: still give a stable id
        return name_or_id if looks_like_id(name_or_id) else stable_hex("project", name_or_id)
    return None


def compute_servers(cloud: Any) -> dict[str, dict[str, Any]]:
    compute = cloud.stores.get("compute")
    return getattr(compute, "servers", None) or {}


def compute_nodes(cloud: Any) -> dict[str, dict[str, Any]]:
    compute = cloud.stores.get("compute")
    return getattr(compute, "nodes", None) or {}


def server_by_name(cloud: Any) -> dict[str, str]:
    """server name -> uuid (first wins for duplicate names)."""
    out: dict[str, str] = {}
    for sid, server in compute_servers(cloud).items():
        out.setdefault(server.get("name"), sid)
    return out


def cloud_of(request: Request, prefix: str = "") -> Any:
    """The cloud a request is served for (the server sets ``request.cloud``)."""
    return request.cloud


# -- request helpers -------------------------------------------------------------------
def is_admin(request: Request) -> bool:
    return bool(request.context.get("is_admin"))


def int_arg(request: Request, name: str, error: Callable[[int, str], HTTPError], default: int | None = None):
    raw = request.arg(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise error(400, f"{name} param must be an integer") from None
    if value < 0:
        raise error(400, f"{name} param must be positive")
    return value


def truthy(value: str | None) -> bool:
    return str(value).lower() in ("1", "true", "yes", "on", "y", "t")


def parse_version(text: str) -> tuple[int, int]:
    major, _, minor = text.strip().partition(".")
    return int(major), int(minor or 0)


def microversion(
    request: Request,
    service_type: str,
    legacy_header: str | None,
    minimum: str,
    maximum: str,
    default: str,
    error: Callable[[int, str], HTTPError],
) -> tuple[int, int]:
    """Requested microversion from ``OpenStack-API-Version: <type> X.Y`` or the legacy header; 406 when out of range."""
    raw = None
    header = request.header("openstack-api-version")
    if header:
        for part in header.split(","):
            bits = part.strip().split()
            if len(bits) == 2 and bits[0].lower() == service_type:
                raw = bits[1]
    if raw is None and legacy_header:
        raw = request.header(legacy_header)
    if raw is None:
        return parse_version(default)
    if raw.strip().lower() == "latest":
        return parse_version(maximum)
    try:
        wanted = parse_version(raw)
    except ValueError:
        raise error(
            400, f"API Version String {raw} is of invalid format. Must be of format MajorNum.MinorNum."
        ) from None
    if not parse_version(minimum) <= wanted <= parse_version(maximum):
        raise error(406, f"Version {raw} is not supported by the API. Minimum is {minimum} and maximum is {maximum}.")
    return wanted


def page(
    items: list[dict[str, Any]],
    limit: int | None,
    marker: str | None,
    max_limit: int,
    not_found: Callable[[str], HTTPError],
    key: str = "id",
) -> tuple[list[dict[str, Any]], bool]:
    """(page, more) of `items` after `marker` (an id); `more` says whether a next link is due."""
    start = 0
    if marker:
        for i, item in enumerate(items):
            if item[key] == marker:
                start = i + 1
                break
        else:
            raise not_found(marker)
    size = max_limit if limit is None else min(limit, max_limit)
    chunk = items[start : start + size]
    return chunk, start + size < len(items)


def next_link(request: Request, path: str, marker: str, limit: int | None) -> str:
    from urllib.parse import urlencode

    query = [(k, v) for k, vs in request.query.items() for v in vs if k not in ("marker", "limit")]
    if limit is not None:
        query.append(("limit", str(limit)))
    query.append(("marker", marker))
    return f"{request.base_url}{path}?{urlencode(query)}"


class PrefixRouter(Router):
    """A router that first rewrites the path (e.g. drops a project id segment) before matching."""

    def __init__(self, rewrite: Callable[[Request], None]) -> None:
        super().__init__()
        self._rewrite = rewrite

    def dispatch(self, request: Request):
        self._rewrite(request)
        return super().dispatch(request)
