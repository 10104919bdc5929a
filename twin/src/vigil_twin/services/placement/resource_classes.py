"""/resource_classes[/{name}] (1.2+): the standard classes of os-resource-classes and custom
ones (POST, PUT to rename before 1.7 or to create from 1.7, DELETE)."""

from __future__ import annotations

from vigil_twin.http import Request, Response

from . import schemas
from .api import body, error, link, reply, require_json, route, store_of, validate
from .store import STANDARD_CLASSES


def _view(request: Request, name: str) -> dict:
    return {"name": name, "links": [{"rel": "self", "href": link(request, f"/resource_classes/{name}")}]}


def _existing(request: Request) -> str:
    name = request.params["name"]
    if name not in store_of(request).resource_classes:
        raise error(404, f"No such resource class {name}.")
    return name


def _in_use(request: Request, name: str) -> bool:
    store = store_of(request)
    return any(name in rp["inventories"] for rp in store.providers.values())


@route("GET", "/resource_classes", since=(1, 2))
def list_resource_classes(request: Request) -> Response:
    store = store_of(request)
    return reply(request, 200, {"resource_classes": [_view(request, rc) for rc in store.resource_classes]})


@route("GET", "/resource_classes/{name}", since=(1, 2))
def show_resource_class(request: Request) -> Response:
    return reply(request, 200, _view(request, _existing(request)))


@route("POST", "/resource_classes", since=(1, 2))
def create_resource_class(request: Request) -> Response:
    store = store_of(request)
    name = body(request, schemas.RESOURCE_CLASS)["name"]
    if name in store.resource_classes:
        raise error(409, f"Conflicting resource class already exists: {name}")
    store.resource_classes.append(name)
    resp = reply(request, 201)
    resp.headers["Location"] = f"{request.base_url}/resource_classes/{name}"
    return resp


@route("PUT", "/resource_classes/{name}", since=(1, 2), json_body=False)
def put_resource_class(request: Request) -> Response:
    """Before 1.7 a rename (body {"name": new}); from 1.7 create-or-confirm, no body."""
    store = store_of(request)
    if request.context["mv"] < (1, 7):
        require_json(request)
        new = body(request, schemas.RESOURCE_CLASS)["name"]
        old = _existing(request)
        if old in STANDARD_CLASSES:
            raise error(400, f"Cannot update standard resource class {old}")
        if new in store.resource_classes:
            raise error(409, f"Resource class already exists: {new}")
        store.resource_classes[store.resource_classes.index(old)] = new
        for rp in store.providers.values():
            if old in rp["inventories"]:
                rp["inventories"][new] = rp["inventories"].pop(old)
        return reply(request, 200, _view(request, new))
    name = validate({"name": request.params["name"]}, schemas.RESOURCE_CLASS)["name"]
    existed = name in store.resource_classes
    if not existed:
        store.resource_classes.append(name)
    resp = reply(request, 204 if existed else 201, cache_headers=False)
    resp.headers["Location"] = f"{request.base_url}/resource_classes/{name}"
    return resp


@route("DELETE", "/resource_classes/{name}", since=(1, 2))
def delete_resource_class(request: Request) -> Response:
    name = _existing(request)
    if name in STANDARD_CLASSES:
        raise error(400, f"Error in delete resource class: Cannot delete standard resource class {name}.")
    if _in_use(request, name):
        raise error(
            409,
            f"Error in delete resource class: Cannot delete resource class {name}. Class is in use in inventory.",
        )
    store_of(request).resource_classes.remove(name)
    return reply(request, 204)
