"""Compute services (os-services): list, enable/disable with a reason, force-down."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from vigil_twin.http import Request, Response
from vigil_twin.services.compute.api import body_bool, compute_store, fault, require_admin, route
from vigil_twin.services.compute.store import ComputeStore

# -- services -------------------------------------------------------------------------------
REPORT_INTERVAL = 10  # Nova's [DEFAULT] report_interval: an up service heartbeats every 10 s


def last_report(svc: dict[str, Any], state: str) -> str:
    """When the service last reported: the last heartbeat while it is up; frozen once it is down."""
    if state != "up":
        return svc["updated_at"]
    now = time.time()
    return datetime.fromtimestamp(now - now % REPORT_INTERVAL, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


def service_view(store: ComputeStore, svc: dict[str, Any], mv: tuple[int, int]) -> dict[str, Any]:
    node = store.nodes.get(svc["host"]) if svc["binary"] == "nova-compute" else None
    if node is not None:
        status, reason, state, forced = (
            node["status"],
            node["disabled_reason"],
            store.node_state(node),
            node["forced_down"],
        )
    else:
        status, reason, state, forced = "enabled", None, "up", False
    v = {
        "id": svc["uuid"] if mv >= (2, 53) else svc["id"],
        "binary": svc["binary"],
        "host": svc["host"],
        "zone": node["az"] if node is not None else "internal",
        "status": status,
        "state": state,
        "updated_at": last_report(svc, state),
        "disabled_reason": reason,
    }
    if mv >= (2, 11):
        v["forced_down"] = forced
    return v


@route("GET", "/os-services")
def list_services(request: Request) -> Response:
    require_admin(request, "os_compute_api:os-services:list")
    store = compute_store(request)
    mv = request.context["mv"]
    items = list(store.services.values())
    for key in ("host", "binary"):
        want = request.arg(key)
        if want:
            items = [s for s in items if s[key] == want]
    return Response(200, {"services": [service_view(store, s, mv) for s in items]})


def _compute_node_for(store: ComputeStore, host: Any, binary: Any) -> dict[str, Any]:
    if binary != "nova-compute":
        raise fault(400, f"Updating a {binary} service is not supported. Only nova-compute services can be updated.")
    node = store.nodes.get(host) if isinstance(host, str) else None
    if node is None:
        raise fault(404, f"Host '{host}' is not mapped to any cell" if host else "Service not found.")
    return node


def legacy_service_action(request: Request) -> Response:
    store = compute_store(request)
    action = request.params["service_id"]
    body = request.json or {}
    host, binary = body.get("host"), body.get("binary")
    with store.cloud.lock:
        node = _compute_node_for(store, host, binary)
        out: dict[str, Any] = {"host": host, "binary": binary}
        if action == "enable":
            store.set_service_status(node, True, None)
            out["status"] = "enabled"
        elif action == "disable":
            store.set_service_status(node, False, None)
            out["status"] = "disabled"
        elif action == "disable-log-reason":
            reason = body.get("disabled_reason")
            if not isinstance(reason, str) or not reason.strip() or len(reason) > 255:
                raise fault(
                    400,
                    "The string containing the reason for disabling the service contains invalid characters or is too long.",
                )
            store.set_service_status(node, False, reason)
            out["status"] = "disabled"
            out["disabled_reason"] = reason
        elif action == "force-down" and request.context["mv"] >= (2, 11):
            forced = body_bool(body.get("forced_down"), "forced_down")
            node["forced_down"] = forced
            out["forced_down"] = forced
        else:
            raise fault(404, "Unknown action")
    return Response(200, {"service": out})


@route("PUT", "/os-services/{service_id}")
def update_service(request: Request) -> Response:
    """PUT /os-services/{uuid} from 2.53; before, PUT /os-services/{enable|disable|...}."""
    require_admin(request, "os_compute_api:os-services:update")
    if request.context["mv"] < (2, 53):
        return legacy_service_action(request)
    store = compute_store(request)
    body = request.json or {}
    with store.cloud.lock:
        svc = store.services.get(request.params["service_id"])
        if svc is None:
            raise fault(404, f"Service {request.params['service_id']} not found.")
        allowed = {"status", "disabled_reason", "forced_down"}
        extra = set(body) - allowed
        if extra or not body:
            raise fault(400, f"Invalid input for field/attribute: {', '.join(sorted(extra)) or 'empty body'}")
        status = body.get("status")
        if status is not None and status not in ("enabled", "disabled"):
            raise fault(
                400,
                f"Invalid input for field/attribute status. Value: {status}. '{status}' is not one of ['enabled', 'disabled']",
            )
        reason = body.get("disabled_reason")
        if reason is not None and status != "disabled":
            raise fault(
                400,
                "Specifying 'disabled_reason' with status 'enabled' is invalid."
                if status
                else "'disabled_reason' is only supported when 'status' is 'disabled'",
            )
        if reason is not None and (not isinstance(reason, str) or len(reason) > 255):
            raise fault(400, "Invalid input for field/attribute disabled_reason.")
        node = _compute_node_for(store, svc["host"], svc["binary"])
        if status is not None:
            store.set_service_status(node, status == "enabled", reason)
        if "forced_down" in body:
            node["forced_down"] = body_bool(body["forced_down"], "forced_down")
        view = service_view(store, svc, request.context["mv"])
    return Response(200, {"service": view})
