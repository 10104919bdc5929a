"""/resource_providers/{uuid}/inventories[/{rc}]: list, replace all, delete all (1.5+), create
one (POST), show, update and delete one; and /resource_providers/{uuid}/usages."""

from __future__ import annotations

from typing import Any

from vigil_twin.http import Request, Response

from . import schemas
from .api import body, error, generation_check, provider, reply, route, store_of
from .store import PlacementStore, capacity_of

DEFAULTS = {"reserved": 0, "min_unit": 1, "max_unit": schemas.MAX_INT, "step_size": 1, "allocation_ratio": 1.0}
FIELDS = ("total", *DEFAULTS)


def _record(
    rp: dict[str, Any], rc: str, data: dict[str, Any], mv: tuple[int, int], doing: str = "update"
) -> dict[str, Any]:
    """One inventory with Placement's defaults; capacity must be > 0 (>= 0 from 1.26, when
    reserved may equal total)."""
    inv = {**DEFAULTS, **{k: v for k, v in data.items() if k in FIELDS}}
    inv["allocation_ratio"] = float(inv["allocation_ratio"])
    if capacity_of(inv) < (0 if mv >= (1, 26) else 1):
        reserved = "greater than total" if mv >= (1, 26) else "greater than or equal to total"
        raise error(
            400,
            f"Unable to {doing} inventory for resource provider {rp['uuid']}: Invalid inventory for '{rc}' on "
            f"resource provider '{rp['uuid']}'. The reserved value is {reserved}.",
        )
    return inv


def _known_class(store: PlacementStore, rp: dict[str, Any], rc: str, doing: str) -> None:
    if rc not in store.resource_classes:
        raise error(400, f"{doing} inventory for resource provider {rp['uuid']}: No such resource class {rc}.")


def _set(store: PlacementStore, rp: dict[str, Any], new: dict[str, dict[str, Any]], prefix: str = "") -> None:
    """Replace the inventories; refused (409) while a removed class is in use. A capacity below
    usage is accepted, as Placement does (it only logs a warning); the twin's /admin/violations
    then reports the provider."""
    # named in class-id order, standard classes first, as Placement's message does
    in_use = [rc for rc in store.resource_classes if store.usages[rp["uuid"]].get(rc) and rc not in new]
    if in_use:
        raise error(
            409,
            f"{prefix}Inventory for '{', '.join(in_use)}' on resource provider '{rp['uuid']}' in use.",
            "placement.inventory.inuse",
        )
    rp["inventories"] = new
    rp["generation"] += 1


def _inventories_body(rp: dict[str, Any]) -> dict[str, Any]:
    return {
        "inventories": {rc: dict(inv) for rc, inv in rp["inventories"].items()},
        "resource_provider_generation": rp["generation"],
    }


def _one(rp: dict[str, Any], rc: str) -> dict[str, Any]:
    return dict(rp["inventories"][rc], resource_provider_generation=rp["generation"])


@route("GET", "/resource_providers/{uuid}/inventories")
def list_inventories(request: Request) -> Response:
    return reply(request, 200, _inventories_body(provider(request, store_of(request))))


@route("PUT", "/resource_providers/{uuid}/inventories")
def put_inventories(request: Request) -> Response:
    store = store_of(request)
    rp = provider(request, store)
    data = body(request, schemas.PUT_INVENTORIES)
    generation_check(rp, data)
    for rc in data["inventories"]:
        _known_class(store, rp, rc, "Unknown resource class in")
    mv = request.context["mv"]
    _set(store, rp, {rc: _record(rp, rc, inv, mv) for rc, inv in data["inventories"].items()}, "update conflict: ")
    return reply(request, 200, _inventories_body(rp))


@route("DELETE", "/resource_providers/{uuid}/inventories")
def delete_inventories(request: Request) -> Response:
    if request.context["mv"] < (1, 5):
        raise error(405, "The method specified is not allowed for this resource.")
    store = store_of(request)
    rp = provider(request, store)
    _set(store, rp, {})
    return reply(request, 204)


@route("POST", "/resource_providers/{uuid}/inventories")
def create_inventory(request: Request) -> Response:
    store = store_of(request)
    rp = provider(request, store)
    data = body(request, schemas.POST_INVENTORY)
    rc = data["resource_class"]
    _known_class(store, rp, rc, "Unable to create")
    if rc in rp["inventories"]:
        raise error(
            409,
            f"Update conflict: Inventory for '{rc}' on resource provider '{rp['uuid']}' already exists.",
            "placement.concurrent_update",
        )
    _set(store, rp, {**rp["inventories"], rc: _record(rp, rc, data, request.context["mv"], "create")})
    resp = reply(request, 201, _one(rp, rc))
    resp.headers["Location"] = f"{request.base_url}/resource_providers/{rp['uuid']}/inventories/{rc}"
    return resp


@route("GET", "/resource_providers/{uuid}/inventories/{rc}")
def show_inventory(request: Request) -> Response:
    rp = provider(request, store_of(request))
    rc = request.params["rc"]
    if rc not in rp["inventories"]:
        raise error(404, f"No inventory of class {rc} for {rp['uuid']}")
    return reply(request, 200, _one(rp, rc))


@route("PUT", "/resource_providers/{uuid}/inventories/{rc}")
def update_inventory(request: Request) -> Response:
    """Updates an existing inventory only: creating one is POST's (or the whole-set PUT's) job."""
    store = store_of(request)
    rp = provider(request, store)
    data = body(request, schemas.PUT_INVENTORY)
    generation_check(rp, data)
    rc = request.params["rc"]
    record = _record(rp, rc, data, request.context["mv"])  # Placement checks capacity first
    if rc not in rp["inventories"]:
        raise error(
            400,
            f"No inventory record with resource class for resource provider {rp['uuid']}: "
            f"No inventory of class {rc} found.",
        )
    _set(store, rp, {**rp["inventories"], rc: record})
    return reply(request, 200, _one(rp, rc))


@route("DELETE", "/resource_providers/{uuid}/inventories/{rc}")
def delete_inventory(request: Request) -> Response:
    store = store_of(request)
    rp = provider(request, store)
    rc = request.params["rc"]
    if rc not in rp["inventories"]:
        raise error(404, f"No inventory of class {rc} found for delete: No inventory of class {rc} found.")
    if store.usages[rp["uuid"]].get(rc):
        raise error(
            409,
            f"Unable to delete inventory of class {rc}: Inventory for '{rc}' on resource provider "
            f"'{rp['uuid']}' in use.",
            "placement.inventory.inuse",
        )
    _set(store, rp, {k: v for k, v in rp["inventories"].items() if k != rc})
    return reply(request, 204)


@route("GET", "/resource_providers/{uuid}/usages")
def provider_usages(request: Request) -> Response:
    store = store_of(request)
    rp = provider(request, store)
    usages = {rc: store.usages[rp["uuid"]].get(rc, 0) for rc in rp["inventories"]}
    return reply(request, 200, {"usages": usages, "resource_provider_generation": rp["generation"]})
