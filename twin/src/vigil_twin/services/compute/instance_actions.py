"""Instance actions (os-instance-actions): what was done to a server, by whom, with its events."""

from __future__ import annotations

from typing import Any

from vigil_twin.http import Request, Response
from vigil_twin.services.compute.api import compute_store, fault, route, server_or_404
from vigil_twin.topology import stable_uuid


def _action_view(rec: dict[str, Any], mv: tuple[int, int], admin: bool, events: bool) -> dict[str, Any]:
    v = {k: rec[k] for k in ("action", "instance_uuid", "request_id", "user_id", "project_id", "start_time", "message")}
    if mv >= (2, 58):
        v["updated_at"] = rec["updated_at"]
    if events:
        evs = []
        for e in rec["events"]:
            ev = {k: e[k] for k in ("event", "start_time", "finish_time", "result")}
            if admin or mv < (2, 51):
                ev["traceback"] = e["traceback"]
            if admin and mv >= (2, 62):
                ev["host"] = e["host"]
            if mv >= (2, 62):
                ev["hostId"] = stable_uuid("hostid", str(e["host"])).replace("-", "")
            if mv >= (2, 84) and admin:
                ev["details"] = e["traceback"]
            evs.append(ev)
        v["events"] = evs
    return v


@route("GET", "/servers/{server_id}/os-instance-actions")
def list_instance_actions(request: Request) -> Response:
    store = compute_store(request)
    server = server_or_404(request, store)
    mv = request.context["mv"]
    recs = list(reversed(store.actions_of(server)))
    return Response(
        200, {"instanceActions": [_action_view(r, mv, bool(request.context.get("is_admin")), False) for r in recs]}
    )


@route("GET", "/servers/{server_id}/os-instance-actions/{request_id}")
def show_instance_action(request: Request) -> Response:
    store = compute_store(request)
    server = server_or_404(request, store)
    for rec in store.actions_of(server):
        if rec["request_id"] == request.params["request_id"]:
            return Response(
                200,
                {
                    "instanceAction": _action_view(
                        rec, request.context["mv"], bool(request.context.get("is_admin")), True
                    )
                },
            )
    raise fault(404, f"Action for request_id {request.params['request_id']} on instance {server['id']} not found")
