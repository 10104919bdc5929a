"""Host aggregates and availability zones."""

from __future__ import annotations

from typing import Any

from vigil_twin.http import Request, Response
from vigil_twin.services.compute.api import compute_store, fault, require_admin, route
from vigil_twin.services.compute.compute_services import service_view


# -- aggregates, availability zones, server groups -------------------------------------------
def _aggregate_view(agg: dict[str, Any], mv: tuple[int, int]) -> dict[str, Any]:
    v = {
        "id": agg["id"],
        "name": agg["name"],
        "availability_zone": agg["metadata"].get("availability_zone"),
        "hosts": list(agg["hosts"]),
        "metadata": dict(agg["metadata"]),
        "created_at": "2026-01-01T00:00:00.000000",
        "updated_at": None,
        "deleted_at": None,
        "deleted": False,
    }
    if mv >= (2, 41):
        v["uuid"] = agg["uuid"]
    return v


@route("GET", "/os-aggregates")
def list_aggregates(request: Request) -> Response:
    require_admin(request, "os_compute_api:os-aggregates:index")
    store = compute_store(request)
    return Response(200, {"aggregates": [_aggregate_view(a, request.context["mv"]) for a in store.aggregates.values()]})


@route("GET", "/os-aggregates/{aggregate_id}")
def show_aggregate(request: Request) -> Response:
    require_admin(request, "os_compute_api:os-aggregates:show")
    store = compute_store(request)
    ref = request.params["aggregate_id"]
    agg = next((a for a in store.aggregates.values() if str(a["id"]) == ref or a["uuid"] == ref), None)
    if agg is None:
        raise fault(404, f"Aggregate {ref} could not be found.")
    return Response(200, {"aggregate": _aggregate_view(agg, request.context["mv"])})


@route("GET", "/os-availability-zone")
def list_azs(request: Request) -> Response:
    store = compute_store(request)
    zones: dict[str, bool] = {}
    for node in store.nodes.values():
        if node["status"] == "enabled" and store.node_state(node) == "up":
            zones[node["az"]] = True
        else:
            zones.setdefault(node["az"], False)
    info = [{"zoneName": z, "zoneState": {"available": ok}, "hosts": None} for z, ok in zones.items()]
    return Response(200, {"availabilityZoneInfo": info})


@route("GET", "/os-availability-zone/detail")
def list_azs_detail(request: Request) -> Response:
    require_admin(request, "os_compute_api:os-availability-zone:detail")
    store = compute_store(request)
    zones: dict[str, dict[str, Any]] = {}
    for svc in store.services.values():
        view = service_view(store, svc, (2, 1))
        zone = zones.setdefault(
            view["zone"], {"zoneName": view["zone"], "zoneState": {"available": False}, "hosts": {}}
        )
        zone["hosts"].setdefault(svc["host"], {})[svc["binary"]] = {
            "available": view["state"] == "up",
            "active": view["status"] == "enabled",
            "updated_at": view["updated_at"],
        }
        if view["state"] == "up" and view["status"] == "enabled":
            zone["zoneState"]["available"] = True
    return Response(200, {"availabilityZoneInfo": list(zones.values())})
