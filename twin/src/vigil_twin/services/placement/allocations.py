"""/allocations/{consumer} (GET, PUT, DELETE), POST /allocations (1.13+) and
GET /resource_providers/{uuid}/allocations."""

from __future__ import annotations

import copy
from typing import Any

from vigil_twin.http import HTTPError, Request, Response

from . import schemas
from .api import body, error, is_uuid, normal_uuid, provider, reply, route, store_of
from .store import PlacementError, PlacementStore


def _consumer(request: Request) -> str:
    raw = request.params["consumer"]
    if not is_uuid(raw):
        raise error(400, f"Malformed consumer_uuid: {raw}")
    return normal_uuid(raw)


def _consumer_body(request: Request, store: PlacementStore, consumer: str) -> dict[str, Any]:
    record = store.allocations.get(consumer)
    mv = request.context["mv"]
    if record is None:
        return {"allocations": {}}
    out: dict[str, Any] = {
        "allocations": {
            rp: {"resources": dict(res), "generation": store.providers[rp]["generation"]}
            for rp, res in record["allocations"].items()
        }
    }
    if mv >= (1, 12):
        out["project_id"] = record["project_id"]
        out["user_id"] = record["user_id"]
    if mv >= (1, 28):
        out["consumer_generation"] = record["consumer_generation"]
    if mv >= (1, 38):
        out["consumer_type"] = record["consumer_type"]
    return out


@route("GET", "/allocations/{consumer}")
def show_allocations(request: Request) -> Response:
    return reply(request, 200, _consumer_body(request, store_of(request), _consumer(request)))


def _by_provider(mv: tuple[int, int], data: dict[str, Any]) -> dict[str, dict[str, int]]:
    """The body's allocations as {rp uuid: {rc: amount}} (a list before 1.12, an object from then)."""
    if mv < (1, 12):
        return {normal_uuid(a["resource_provider"]["uuid"]): dict(a["resources"]) for a in data["allocations"]}
    return {normal_uuid(rp): dict(item["resources"]) for rp, item in data["allocations"].items()}


def _write(request: Request, store: PlacementStore, consumer: str, data: dict[str, Any]) -> None:
    """Write one consumer's allocations from a schema-valid body, as Placement's ensure_consumer
    and replace_all do: consumer generation checked from 1.28, type recorded from 1.38."""
    mv = request.context["mv"]
    allocs = _by_provider(mv, data)
    existing = store.allocations.get(consumer)
    if mv >= (1, 28):
        want = data["consumer_generation"]
        if existing is None and want is not None:
            raise error(
                409, f"consumer generation conflict - expected null but got {want}", "placement.concurrent_update"
            )
        if existing is not None and existing["consumer_generation"] != want:
            raise error(
                409,
                f"consumer generation conflict - expected {existing['consumer_generation']} but got {want}",
                "placement.concurrent_update",
            )
    project = data.get("project_id") or (existing or {}).get("project_id") or "00000000-0000-0000-0000-000000000000"
    user = data.get("user_id") or (existing or {}).get("user_id") or "00000000-0000-0000-0000-000000000000"
    # before 1.38 a write carries no type: Placement records "unknown" (what Nova's writes get)
    ctype = data["consumer_type"] if mv >= (1, 38) else (existing or {}).get("consumer_type", "unknown")
    try:
        store.put_allocations(consumer, allocs, project, user, ctype)
    except PlacementError as exc:
        detail = exc.detail
        if exc.status == 400 and "No such resource class" in detail:
            detail = f"Unable to allocate inventory for consumer {consumer}: {detail.split(': ', 1)[1]}"
        raise error(exc.status, detail, exc.code) from None


@route("PUT", "/allocations/{consumer}")
def put_allocations(request: Request) -> Response:
    store = store_of(request)
    consumer = _consumer(request)
    _write(request, store, consumer, body(request, schemas.allocations(request.context["mv"])))
    return reply(request, 204)


@route("POST", "/allocations", since=(1, 13))
def post_allocations(request: Request) -> Response:
    store = store_of(request)
    data = body(request, schemas.post_allocations(request.context["mv"]))
    # all or nothing: undo every write of the set when one is refused
    saved = copy.deepcopy(
        (store.allocations, store.usages, store.consumers_of, {u: p["generation"] for u, p in store.providers.items()})
    )
    try:
        for consumer, item in data.items():
            _write(request, store, normal_uuid(consumer), item)
    except HTTPError:
        store.allocations, store.usages, store.consumers_of, generations = saved
        for u, generation in generations.items():
            store.providers[u]["generation"] = generation
        raise
    return reply(request, 204)


@route("DELETE", "/allocations/{consumer}")
def delete_allocations(request: Request) -> Response:
    store = store_of(request)
    consumer = _consumer(request)
    if not store.delete_allocations(consumer):
        raise error(404, f"No allocations for consumer '{consumer}'")
    return reply(request, 204)


@route("GET", "/resource_providers/{uuid}/allocations")
def provider_allocations(request: Request) -> Response:
    store = store_of(request)
    rp = provider(request, store)
    out = {
        c: {"resources": dict(store.allocations[c]["allocations"][rp["uuid"]])}
        for c in sorted(store.consumers_of[rp["uuid"]])
    }
    return reply(request, 200, {"allocations": out, "resource_provider_generation": rp["generation"]})
