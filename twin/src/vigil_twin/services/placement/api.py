"""What every Placement handler shares: the router, Placement's error body, microversion
negotiation (the twin's one parser, `_support.microversion`), admin policy, request bodies
checked against Placement's JSON schemas, and uuid normalisation."""

from __future__ import annotations

import json
import uuid as uuidlib
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

import jsonschema

from vigil_twin.http import HTTPError, Request, Response, Router
from vigil_twin.services._support import microversion

from .store import PlacementStore


class PlacementRouter(Router):
    """Placement's answers for a path it does not serve (404) or a method it does not allow
    there (405 with Allow), in its error format and with the version headers."""

    def dispatch(self, request: Request) -> Response:
        try:
            return super().dispatch(request)
        except HTTPError as exc:
            if exc.status not in (404, 405) or "errors" in (exc.body or {}):
                raise
            mv = negotiate(request)  # a bad version header is answered first (400/406)
            if exc.status == 404:
                failure = error(404, "The resource could not be found.")
            else:
                allowed = sorted({m for m, regex, _ in self._routes if regex.match(request.path)})
                failure = error(405, f"The method {request.method} is not allowed for this resource.")
                failure.headers["Allow"] = ", ".join(allowed)
            failure.headers.update(version_headers(mv))
            raise failure from None


router = PlacementRouter()
MIN_VERSION = "1.0"
MAX_VERSION = "1.39"
TITLES = {
    400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    409: "Conflict", 415: "Unsupported Media Type",
}  # fmt: skip
# Placement's FormatChecker: a uuid is whatever oslo's is_uuid_like accepts (dashless too)
FORMATS = jsonschema.FormatChecker(formats=())
FORMATS.checks("uuid")(lambda value: not isinstance(value, str) or is_uuid(value))


def error(status: int, detail: str, code: str = "placement.undefined_code") -> HTTPError:
    body = {
        "errors": [
            {
                "status": status,
                "title": TITLES.get(status, "Error"),
                "detail": detail,
                "code": code,
                "request_id": f"req-{uuidlib.uuid4()}",
            }
        ]
    }
    return HTTPError(status, body)


def is_uuid(value: str) -> bool:
    try:
        return str(uuidlib.UUID(value)).replace("-", "") == value.replace("-", "").lower()
    except (ValueError, AttributeError, TypeError):
        return False


def normal_uuid(value: str) -> str:
    """The dashed lower-case form Placement stores (it accepts dashless input)."""
    return str(uuidlib.UUID(value))


def link(request: Request, path: str) -> str:
    """A link as Placement writes it: the path below its mount point (SCRIPT_NAME), no host."""
    return urlsplit(request.base_url).path + path


def store_of(request: Request) -> PlacementStore:
    return request.cloud.stores["placement"]


def negotiate(request: Request) -> tuple[int, int]:
    return microversion(
        request,
        "placement",
        None,
        MIN_VERSION,
        MAX_VERSION,
        MIN_VERSION,
        error,
        invalid="invalid version string: {raw}",
        unsupported="Unacceptable version header: {raw}",
    )


def version_headers(mv: tuple[int, int]) -> dict[str, str]:
    return {"OpenStack-API-Version": f"placement {mv[0]}.{mv[1]}", "Vary": "openstack-api-version"}


def reply(request: Request, status: int, body: Any = None, cache_headers: bool = True) -> Response:
    mv = request.context.get("mv", (1, 0))
    headers = version_headers(mv)
    if cache_headers and request.method in ("GET", "PUT") and status in (200, 201, 204) and mv >= (1, 15):
        # 1.15: every read (and the state a PUT returns) says it must not be cached
        headers.update({"Cache-Control": "no-cache", "Last-Modified": formatdate(usegmt=True)})
    return Response(status, body, headers)


def need(request: Request, minimum: tuple[int, int]) -> None:
    """Placement answers a route before its microversion as an unknown one."""
    if request.context["mv"] < minimum:
        raise error(404, "The resource could not be found.")


def require_json(request: Request) -> None:
    """Placement's content checks of a request with a body: a type when there is a body (400),
    and that type JSON (415)."""
    media = (request.header("content-type") or "").split(";")[0].strip()
    if not media and request.raw_body:
        raise error(400, "content-type header required when content-length > 0")
    if media != "application/json":
        raise error(415, f"The media type {media or 'None'} is not supported, use application/json")


def check_accept(request: Request) -> None:
    """A GET whose Accept header rules JSON out is refused, as Placement's check_accept does."""
    accept = request.header("accept")
    if not accept:
        return
    media = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    if not media & {"application/json", "application/*", "*/*"}:
        raise error(406, "Only application/json is provided")


def body(request: Request, schema: dict[str, Any]) -> Any:
    """The JSON body, validated as Placement's `util.extract_json` does (400 with its texts)."""
    try:
        data = json.loads(request.raw_body or b"")
    except ValueError as exc:
        raise error(400, f"Malformed JSON: {exc}") from None
    return validate(data, schema)


def validate(data: Any, schema: dict[str, Any]) -> Any:
    try:
        jsonschema.validate(data, schema, format_checker=FORMATS)
    except jsonschema.ValidationError as exc:
        raise error(400, f"JSON does not validate: {exc}") from None
    return data


def query(request: Request, schema: dict[str, Any]) -> dict[str, str]:
    """The query string (last value of each key) validated as Placement's validate_query_params does."""
    data = {key: values[-1] for key, values in request.query.items()}
    try:
        jsonschema.validate(data, schema, format_checker=FORMATS)
    except jsonschema.ValidationError as exc:
        raise error(400, f"Invalid query string parameters: {exc}") from None
    return data


def provider(request: Request, store: PlacementStore, key: str = "uuid") -> dict[str, Any]:
    rp = store.providers.get(request.params[key])
    if rp is None:
        raise error(404, f"No resource provider with uuid {request.params[key]} found")
    return rp


GENERATION_CHANGED = "Resource provider's generation already changed. Please update the generation and try again."


def generation_check(
    rp: dict[str, Any], data: dict[str, Any], detail: str = "resource provider generation conflict"
) -> None:
    """409 when the body's resource_provider_generation is not the provider's (texts differ per route)."""
    if data["resource_provider_generation"] != rp["generation"]:
        raise error(409, detail, "placement.concurrent_update")


def route(method: str, pattern: str, since: tuple[int, int] | None = None, json_body: bool | None = None):
    """Register a handler behind microversion negotiation, Placement's admin-only policy, its
    Accept and Content-Type checks (`json_body`: PUT and POST unless told) and the cloud lock
    (Nova's moves write allocations from other threads); errors carry the version."""
    takes_json = method in ("PUT", "POST") if json_body is None else json_body

    def deco(fn):
        def handler(request: Request) -> Response:
            mv = negotiate(request)
            request.context["mv"] = mv
            try:
                if since:
                    need(request, since)
                if not request.context.get("is_admin"):
                    raise error(403, "Access was denied to this resource.", "placement.undefined_code")
                if takes_json:
                    require_json(request)
                elif request.method == "GET":
                    check_accept(request)
                with request.cloud.lock:
                    return fn(request)
            except HTTPError as exc:
                exc.headers.update(version_headers(mv))
                raise

        handler.__name__ = fn.__name__
        router.route(method, pattern)(handler)
        return fn

    return deco
