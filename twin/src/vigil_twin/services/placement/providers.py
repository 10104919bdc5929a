"""GET/POST /resource_providers, GET/PUT/DELETE /resource_providers/{uuid}."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

from vigil_twin.http import Request, Response

from . import schemas
from .api import body, error, link, normal_uuid, provider, query, reply, route, store_of
from .query import aggregate_match, fits, required_traits, trait_match, wanted_resources

# query parameters of GET /resource_providers by the microversion that added them
LIST_PARAMS = {"name": (1, 0), "uuid": (1, 0), "member_of": (1, 3), "resources": (1, 4), "in_tree": (1, 14),
               "required": (1, 18)}  # fmt: skip


def view(request: Request, rp: dict[str, Any]) -> dict[str, Any]:
    base = link(request, f"/resource_providers/{rp['uuid']}")
    out = {"uuid": rp["uuid"], "name": rp["name"], "generation": rp["generation"]}
    mv = request.context["mv"]
    links = [
        {"rel": "self", "href": base},
        {"rel": "inventories", "href": f"{base}/inventories"},
        {"rel": "usages", "href": f"{base}/usages"},
    ]
    if mv >= (1, 1):
        links.append({"rel": "aggregates", "href": f"{base}/aggregates"})
    if mv >= (1, 6):
        links.append({"rel": "traits", "href": f"{base}/traits"})
    if mv >= (1, 11):
        links.append({"rel": "allocations", "href": f"{base}/allocations"})
    out["links"] = links
    if mv >= (1, 14):
        out["parent_provider_uuid"] = rp["parent_provider_uuid"]
        out["root_provider_uuid"] = rp["root_provider_uuid"]
    return out


def _list_schema(mv: tuple[int, int]) -> dict[str, Any]:
    props = {key: dict(schemas.UUID) if key in ("uuid", "in_tree") else {"type": "string"}
             for key, since in LIST_PARAMS.items() if mv >= since}  # fmt: skip
    return {"type": "object", "properties": props, "additionalProperties": False}


@route("GET", "/resource_providers")
def list_providers(request: Request) -> Response:
    store = store_of(request)
    query(request, _list_schema(request.context["mv"]))
    items = list(store.providers.values())
    name = request.arg("name")
    if name is not None:
        items = [rp for rp in items if rp["name"] == name]
    if request.arg("uuid") is not None:
        want = normal_uuid(request.arg("uuid"))
        items = [rp for rp in items if rp["uuid"] == want]
    if request.arg("in_tree") is not None:
        anchor = store.providers.get(normal_uuid(request.arg("in_tree")))
        root = anchor["root_provider_uuid"] if anchor else None
        items = [rp for rp in items if rp["root_provider_uuid"] == root]
    items = list(filter(aggregate_match(request), items))
    if request.arg("resources") is not None:
        wanted = wanted_resources(store, request.arg("resources"))
        items = [rp for rp in items if fits(store, rp, wanted)]
    items = list(filter(trait_match(store, *required_traits(request)), items))
    return reply(request, 200, {"resource_providers": [view(request, rp) for rp in items]})


@route("POST", "/resource_providers")
def create_provider(request: Request) -> Response:
    store = store_of(request)
    mv = request.context["mv"]
    data = body(request, schemas.provider(mv, create=True))
    name = data["name"]
    rp_uuid = normal_uuid(data["uuid"]) if data.get("uuid") else str(uuidlib.uuid4())
    duplicates = [f"name: {name}"] if name in store.by_name else []
    if rp_uuid in store.providers:
        duplicates.append(f"uuid: {rp_uuid}")
    if duplicates:
        raise error(
            409, f"Conflicting resource provider {', '.join(duplicates)} already exists.", "placement.duplicate_name"
        )
    parent = data.get("parent_provider_uuid")
    parent = normal_uuid(parent) if parent else None
    failed = f'Unable to create resource provider "{name}", {rp_uuid}: Object action create failed because: '
    if parent == rp_uuid:
        raise error(
            400,
            failed + "parent provider UUID cannot be same as UUID. "
            "Please set parent provider UUID to None if there is no parent.",
        )
    if parent and parent not in store.providers:
        raise error(400, failed + "parent provider UUID does not exist.")
    rp = store.add_provider(rp_uuid, name, {}, parent=parent)
    location = f"{request.base_url}/resource_providers/{rp_uuid}"
    resp = reply(request, 200, view(request, rp)) if mv >= (1, 20) else reply(request, 201)
    resp.headers["Location"] = location
    return resp


@route("GET", "/resource_providers/{uuid}")
def show_provider(request: Request) -> Response:
    return reply(request, 200, view(request, provider(request, store_of(request))))


@route("PUT", "/resource_providers/{uuid}")
def update_provider(request: Request) -> Response:
    """Rename and (1.14+) set the parent; re-parenting or un-parenting needs 1.37. Neither bumps
    the generation: Placement bumps it only for inventories, traits, aggregates and allocations."""
    store = store_of(request)
    rp = provider(request, store)
    mv = request.context["mv"]
    data = body(request, schemas.provider(mv, create=False))
    failed = f"Unable to save resource provider {rp['uuid']}: Object action update failed because: "
    if data["name"] != rp["name"] and data["name"] in store.by_name:
        raise error(409, f"Conflicting resource provider {data['name']} already exists.", "placement.duplicate_name")
    if "parent_provider_uuid" in data:
        parent = normal_uuid(data["parent_provider_uuid"]) if data["parent_provider_uuid"] else None
        current = rp["parent_provider_uuid"]
        if parent is not None:
            if parent not in store.providers:
                raise error(400, failed + "parent provider UUID does not exist.")
            if current is not None and current != parent and mv < (1, 37):
                raise error(400, failed + "re-parenting a provider is not currently allowed.")
            if parent in store.subtree(rp["uuid"]):
                raise error(400, failed + "creating loop in the provider tree is not allowed.")
        elif current is not None and mv < (1, 37):
            raise error(400, failed + "un-parenting a provider is not currently allowed.")
        if parent != current:
            store.set_parent(rp["uuid"], parent)
    store.by_name.pop(rp["name"], None)
    rp["name"] = data["name"]
    store.by_name[rp["name"]] = rp["uuid"]
    return reply(request, 200, view(request, rp))


@route("DELETE", "/resource_providers/{uuid}")
def delete_provider(request: Request) -> Response:
    store = store_of(request)
    rp = store.providers.get(request.params["uuid"])
    if rp is None:
        raise error(404, f"No resource provider with uuid {request.params['uuid']} found for delete")
    if store.consumers_of[rp["uuid"]]:
        raise error(
            409,
            f"Unable to delete resource provider {rp['uuid']}: Resource provider has allocations.",
            "placement.resource_provider.inuse",
        )
    if any(p["parent_provider_uuid"] == rp["uuid"] for p in store.providers.values()):
        raise error(
            409,
            f"Unable to delete parent resource provider {rp['uuid']}: It has child resource providers.",
            "placement.resource_provider.cannot_delete_parent",
        )
    del store.providers[rp["uuid"]]
    store.by_name.pop(rp["name"], None)
    store.usages.pop(rp["uuid"], None)
    store.consumers_of.pop(rp["uuid"], None)
    return reply(request, 204)
