"""Flavors and their extra specs."""

from __future__ import annotations

from typing import Any

from vigil_twin.http import Request, Response
from vigil_twin.services.compute.api import compute_store, fault, route
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


@route("GET", "/flavors")
def list_flavors(request: Request) -> Response:
    store = compute_store(request)
    return Response(
        200,
        {"flavors": [_flavor_view(f, request.context["mv"], request.base_url, False) for f in store.flavors.values()]},
    )


@route("GET", "/flavors/detail")
def list_flavors_detail(request: Request) -> Response:
    store = compute_store(request)
    return Response(
        200,
        {"flavors": [_flavor_view(f, request.context["mv"], request.base_url, True) for f in store.flavors.values()]},
    )


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
