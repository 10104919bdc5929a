"""Server groups (affinity / anti-affinity)."""

from __future__ import annotations

from typing import Any

from vigil_twin.http import Request, Response
from vigil_twin.services._support import int_arg
from vigil_twin.services.compute.api import compute_store, fault, query_flag, route
from vigil_twin.services.compute.store import ComputeStore


def _group_view(store: ComputeStore, g: dict[str, Any], mv: tuple[int, int]) -> dict[str, Any]:
    v: dict[str, Any] = {
        "id": g["id"],
        "name": g["name"],
        "members": [m for m in g["members"] if m in store.servers],
        "project_id": g["project_id"],
    }
    if mv >= (2, 13):
        v["user_id"] = g["user_id"]
    if mv >= (2, 64):
        v["policy"] = g["policy"]
        v["rules"] = dict(g["rules"])
    else:
        v["policies"] = [g["policy"]]
        v["metadata"] = {}
    return v


@route("GET", "/os-server-groups")
def list_server_groups(request: Request) -> Response:
    store = compute_store(request)
    ctx = request.context
    all_projects = query_flag(request, "all_projects")
    if all_projects and not ctx.get("is_admin"):
        raise fault(403, "Policy doesn't allow os_compute_api:os-server-groups:index:all_projects to be performed.")
    groups = [g for g in store.groups.values() if all_projects or g["project_id"] == ctx.get("project_id")]
    offset = int_arg(request, "offset", fault) or 0
    limit = int_arg(request, "limit", fault)
    groups = groups[offset : offset + limit if limit is not None else None]
    return Response(200, {"server_groups": [_group_view(store, g, request.context["mv"]) for g in groups]})


@route("GET", "/os-server-groups/{group_id}")
def show_server_group(request: Request) -> Response:
    store = compute_store(request)
    g = store.groups.get(request.params["group_id"])
    if g is None or (not request.context.get("is_admin") and g["project_id"] != request.context.get("project_id")):
        raise fault(404, f"Instance group {request.params['group_id']} could not be found.")
    return Response(200, {"server_group": _group_view(store, g, request.context["mv"])})
