"""What every Nova route shares: faults, microversions, the route decorator, the router."""

from __future__ import annotations

import re
import uuid as uuidlib
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from vigil_twin.http import HTTPError, Request, Response, Router
from vigil_twin.services._support import int_arg, is_admin, microversion, truthy

if TYPE_CHECKING:
    from vigil_twin.services.compute.store import ComputeStore

MIN_MV = (2, 1)
MAX_MV = (2, 96)
MAX_LIMIT = 1000
_PROJECT_SEGMENT = re.compile(r"^/v2(?:\.1)?/[0-9a-f]{32}(?=/|$)")

router = Router()

FAULT_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}

LIVE_ACTIVE = ("queued", "preparing", "running", "post-migrating")
MOVE_ACTIVE = (
    "queued",
    "preparing",
    "running",
    "pre-migrating",
    "migrating",
    "post-migrating",
    "finished",
    "confirming",
    "reverting",
)


def fault(status: int, message: str) -> HTTPError:
    return HTTPError(status, {FAULT_NAMES.get(status, "computeFault"): {"code": status, "message": message}})


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso_us() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


def request_id() -> str:
    return f"req-{uuidlib.uuid4()}"


# -- microversions and request helpers -------------------------------------------------------
def negotiate(request: Request) -> tuple[int, int]:
    """The requested microversion (2.1 when none is asked for); 400 malformed, 406 out of range."""
    return microversion(
        request,
        "compute",
        "x-openstack-nova-api-version",
        f"{MIN_MV[0]}.{MIN_MV[1]}",
        f"{MAX_MV[0]}.{MAX_MV[1]}",
        f"{MIN_MV[0]}.{MIN_MV[1]}",
        fault,
    )


def compute_store(request: Request) -> ComputeStore:
    return request.cloud.stores["compute"]


def require_admin(request: Request, policy: str) -> None:
    if not is_admin(request):
        raise fault(403, f"Policy doesn't allow {policy} to be performed.")


def query_flag(request: Request, name: str) -> bool:
    """A boolean query parameter: absent is false, as Nova reads with_servers, all_projects, ..."""
    raw = request.arg(name)
    return raw is not None and truthy(raw)


def limit_arg(request: Request) -> int:
    """`limit` capped at Nova's max_limit (1000)."""
    limit = int_arg(request, "limit", fault)
    return MAX_LIMIT if limit is None else min(limit, MAX_LIMIT)


def page_of(
    request: Request,
    rows: list[dict[str, Any]],
    marker_of: Callable[[dict[str, Any]], str],
    path: str,
    not_found: str = "marker [{marker}] not found",
) -> tuple[list[dict[str, Any]], list[dict[str, str]] | None]:
    """Nova's paging of a list: the rows after `marker`, at most `limit`, and a next link whenever
    the page is full (Nova does not look ahead)."""
    limit = limit_arg(request)
    marker = request.arg("marker")
    start = 0
    if marker:
        idx = next((i for i, row in enumerate(rows) if marker_of(row) == marker), None)
        if idx is None:
            raise fault(400, not_found.format(marker=marker))
        start = idx + 1
    chunk = rows[start : start + limit]
    if chunk and len(chunk) == limit:
        return chunk, [{"rel": "next", "href": next_href(request, path, marker_of(chunk[-1]))}]
    return chunk, None


def server_or_404(request: Request, store: ComputeStore) -> dict[str, Any]:
    server = store.servers.get(request.params["server_id"])
    ctx = request.context
    if server is None or (not ctx.get("is_admin") and server["project_id"] != ctx.get("project_id")):
        raise fault(404, f"Instance {request.params['server_id']} could not be found.")
    return server


def body_bool(value: Any, name: str) -> bool:
    """A boolean in a request body, as Nova's schema (parameter_types.boolean) accepts it."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        return value.lower() in ("true", "1", "yes", "on")
    raise fault(400, f"Invalid input for field/attribute {name}. Value: {value}. {value!r} is not of type 'boolean'")


def next_href(request: Request, path: str, marker: str) -> str:
    query = [(k, v) for k, vs in request.query.items() for v in vs if k != "marker"]
    query.append(("marker", marker))
    return f"{request.base_url}/v2.1{path}?{urlencode(query)}"


def route(method: str, pattern: str, min_mv: tuple[int, int] | None = None, max_mv: tuple[int, int] | None = None):
    """Register a v2.1 handler with microversion negotiation and Nova's version headers."""

    def deco(fn: Callable[[Request], Response]):
        def handler(request: Request) -> Response:
            mv = negotiate(request)
            request.context["mv"] = mv
            if (min_mv and mv < min_mv) or (max_mv and mv > max_mv):
                raise fault(404, "The resource could not be found.")
            try:
                with request.cloud.lock:  # scheduler callbacks and other requests mutate the same dicts
                    response = fn(request)
            except HTTPError as exc:
                exc.headers.update(mv_headers(mv))
                raise
            response.headers.update(mv_headers(mv))
            return response

        handler.__name__ = fn.__name__
        router.route(method, "/v2.1" + pattern)(handler)
        return fn

    return deco


def mv_headers(mv: tuple[int, int]) -> dict[str, str]:
    text = f"{mv[0]}.{mv[1]}"
    return {
        "OpenStack-API-Version": f"compute {text}",
        "X-OpenStack-Nova-API-Version": text,
        "Vary": "OpenStack-API-Version, X-OpenStack-Nova-API-Version",
        "x-openstack-request-id": request_id(),
    }


# -- version documents --------------------------------------------------------------------
def _v21_doc(base: str) -> dict[str, Any]:
    return {
        "id": "v2.1",
        "status": "CURRENT",
        "version": f"{MAX_MV[0]}.{MAX_MV[1]}",
        "min_version": f"{MIN_MV[0]}.{MIN_MV[1]}",
        "updated": "2013-07-23T11:33:21Z",
        "links": [
            {"rel": "self", "href": f"{base}/v2.1/"},
            {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"},
        ],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}],
    }


@router.route("GET", "/")
def versions(request: Request) -> Response:
    return Response(200, {"versions": [_v21_doc(request.base_url)]})


@router.route("GET", "/v2.1")
def version_v21(request: Request) -> Response:
    return Response(200, {"version": _v21_doc(request.base_url)})


# -- project-id segment in old-style URLs: /v2.1/{project_id}/servers -> /v2.1/servers -------------
class ComputeRouter(Router):
    def dispatch(self, request: Request) -> Response:
        m = _PROJECT_SEGMENT.match(request.path)
        if m:
            request.path = "/v2.1" + request.path[m.end() :]
        try:
            return super().dispatch(request)
        except HTTPError as exc:
            if exc.status in (404, 405) and isinstance(exc.body, dict) and "error" in exc.body:
                raise fault(
                    exc.status, "The resource could not be found." if exc.status == 404 else "Method not allowed"
                ) from None
            raise


compute_router = ComputeRouter()
compute_router._routes = router._routes  # same table, with the rewrite in front


def is_uuid(value: str) -> bool:
    try:
        uuidlib.UUID(value)
    except ValueError:
        return False
    return True
