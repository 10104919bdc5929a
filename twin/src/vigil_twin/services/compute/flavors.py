"""Flavors and their extra specs: list (Nova's default order, flavorid ascending; limit, marker,
minDisk, minRam), show, create (admin)."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

from vigil_twin.http import Request, Response
from vigil_twin.services.compute.api import compute_store, fault, page_of, require_admin, route
from vigil_twin.services.compute.store import ComputeStore


# -- flavors --------------------------------------------------------------------------------
def _flavor_view(f: dict[str, Any], mv: tuple[int, int], base: str, detail: bool) -> dict[str, Any]:
    links = [
        {"rel": "self", "href": f"{base}/v2.1/flavors/{f['id']}"},
        {"rel": "bookmark", "href": f"{base}/flavors/{f['id']}"},
    ]
    v: dict[str, Any] = {"id": f["id"], "name": f["name"], "links": links}
    if mv >= (2, 55):
        v["description"] = f["description"]
    if not detail:
        return v
    v.update(
        {
            "ram": f["ram"],
            "disk": f["disk"],
            "vcpus": f["vcpus"],
            "swap": f["swap"] if (f["swap"] or mv >= (2, 75)) else "",
            "OS-FLV-EXT-DATA:ephemeral": f["ephemeral"],
            "OS-FLV-DISABLED:disabled": False,
            "os-flavor-access:is_public": f["is_public"],
            "rxtx_factor": f["rxtx_factor"],
        }
    )
    if mv >= (2, 61):
        v["extra_specs"] = dict(f["extra_specs"])
    return v


def _min_filter(request: Request, name: str) -> int:
    raw = request.arg(name)
    if raw is None or raw == "":
        return 0
    try:
        return int(raw)
    except ValueError:
        raise fault(400, f"Invalid {name} filter [{raw}]") from None


def _list_flavors(request: Request, detail: bool) -> Response:
    store = compute_store(request)
    min_disk, min_ram = _min_filter(request, "minDisk"), _min_filter(request, "minRam")
    rows = sorted(
        (f for f in store.flavors.values() if f["disk"] >= min_disk and f["ram"] >= min_ram), key=lambda f: f["id"]
    )
    rows, links = page_of(request, rows, lambda f: f["id"], "/flavors/detail" if detail else "/flavors")
    mv = request.context["mv"]
    body: dict[str, Any] = {"flavors": [_flavor_view(f, mv, request.base_url, detail) for f in rows]}
    if links:
        body["flavors_links"] = links
    return Response(200, body)


@route("GET", "/flavors")
def list_flavors(request: Request) -> Response:
    return _list_flavors(request, detail=False)


@route("GET", "/flavors/detail")
def list_flavors_detail(request: Request) -> Response:
    return _list_flavors(request, detail=True)


def _size(body: dict[str, Any], key: str, minimum: int, default: int | None = None) -> int:
    value = body.get(key, default)
    if value is None:
        raise fault(400, f"Invalid input for field/attribute flavor. Value: {key}. '{key}' is a required property")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise fault(
            400, f"Invalid input for field/attribute {key}. Value: {value}. {value!r} is not of type 'integer'"
        ) from None
    if number < minimum:
        raise fault(
            400,
            f"Invalid input for field/attribute {key}. Value: {value}. {value} is less than the minimum of {minimum}",
        )
    return number


@route("POST", "/flavors")
def create_flavor(request: Request) -> Response:
    require_admin(request, "os_compute_api:os-flavor-manage:create")
    store = compute_store(request)
    body = request.json.get("flavor") if isinstance(request.json, dict) else None
    if not isinstance(body, dict):
        raise fault(400, "Invalid input for field/attribute flavor. 'flavor' is a required property")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise fault(400, f"Invalid input for field/attribute name. Value: {name}. 'name' must be 1 to 255 characters")
    fid = body.get("id")
    fid = str(uuidlib.uuid4()) if fid in (None, "auto") else str(fid)
    if name in store.flavor_by_name:
        raise fault(409, f"Flavor with name {name} already exists.")
    if fid in store.flavors:
        raise fault(409, f"Flavor with ID {fid} already exists.")
    flavor = {
        "name": name,
        "id": fid,
        "vcpus": _size(body, "vcpus", 1),
        "ram": _size(body, "ram", 1),
        "disk": _size(body, "disk", 0),
        "ephemeral": _size(body, "OS-FLV-EXT-DATA:ephemeral", 0, 0),
        "swap": _size(body, "swap", 0, 0),
        "extra_specs": {},
        "is_public": body.get("os-flavor-access:is_public", True) is not False,
        "description": body.get("description") if request.context["mv"] >= (2, 55) else None,
        "rxtx_factor": float(body.get("rxtx_factor", 1.0)),
        "int_id": max((f["int_id"] for f in store.flavors.values()), default=0) + 1,
    }
    store.flavors[fid] = flavor
    store.flavor_by_name[name] = fid
    return Response(200, {"flavor": _flavor_view(flavor, request.context["mv"], request.base_url, True)})


def _flavor(request: Request, store: ComputeStore) -> dict[str, Any]:
    f = store.flavors.get(request.params["flavor_id"])
    if f is None:
        raise fault(404, f"Flavor {request.params['flavor_id']} could not be found.")
    return f


@route("GET", "/flavors/{flavor_id}")
def show_flavor(request: Request) -> Response:
    store = compute_store(request)
    return Response(
        200, {"flavor": _flavor_view(_flavor(request, store), request.context["mv"], request.base_url, True)}
    )


@route("GET", "/flavors/{flavor_id}/os-extra_specs")
def flavor_extra_specs(request: Request) -> Response:
    store = compute_store(request)
    return Response(200, {"extra_specs": dict(_flavor(request, store)["extra_specs"])})


@route("GET", "/flavors/{flavor_id}/os-extra_specs/{key}")
def flavor_extra_spec(request: Request) -> Response:
    store = compute_store(request)
    f = _flavor(request, store)
    key = request.params["key"]
    if key not in f["extra_specs"]:
        raise fault(404, f"Flavor {f['id']} has no extra specs with key {key}.")
    return Response(200, {key: f["extra_specs"][key]})
