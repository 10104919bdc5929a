"""Scheduler stats: the back-end pools and their capabilities."""

from __future__ import annotations

from typing import Any

from vigil_twin.http import Request, Response
from vigil_twin.services._support import is_admin, truthy
from vigil_twin.services.volume.api import err, negotiate, policy_error, respond, router, volume_store


@router.route("GET", "/v3/scheduler-stats/get_pools")
def get_pools(request: Request) -> Response:
    store = volume_store(request)
    mv = negotiate(request)
    if not is_admin(request):
        raise policy_error("scheduler_extension:scheduler_stats:get_pools")
    detail = truthy(request.arg("detail", "false"))
    name = request.arg("name")
    backend = None
    if request.arg("volume_type") and mv >= (3, 35):
        t = store.type_by_name_or_id(request.arg("volume_type"))
        if t is None:
            raise err(404, f"Volume type {request.arg('volume_type')} could not be found.")
        backend = t["extra_specs"].get("volume_backend_name")
    pools = []
    for p in store.pools.values():
        if name and p["name"] != name:
            continue
        if backend and p["volume_backend_name"] != backend:
            continue
        entry: dict[str, Any] = {"name": p["name"]}
        if detail:
            entry["capabilities"] = store.pool_capabilities(p)
        pools.append(entry)
    return respond(request, 200, {"pools": pools}, mv)
