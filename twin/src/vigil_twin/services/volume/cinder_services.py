"""Cinder services (os-services): list, enable and disable."""

from __future__ import annotations

from vigil_twin.http import Request, Response
from vigil_twin.services._support import is_admin, iso
from vigil_twin.services.volume.api import err, negotiate, policy_error, respond, router, volume_store


@router.route("GET", "/v3/os-services")
def services_list(request: Request) -> Response:
    store = volume_store(request)
    mv = negotiate(request)
    if not is_admin(request):
        raise policy_error("volume_extension:services:index")
    binary, host = request.arg("binary"), request.arg("host")
    items = [
        store.service_view(s, mv)
        for s in store.services.values()
        if (not binary or s["binary"] == binary) and (not host or s["host"] == host)
    ]
    return respond(request, 200, {"services": items}, mv)


@router.route("PUT", "/v3/os-services/{action}")
def services_update(request: Request) -> Response:
    store = volume_store(request)
    mv = negotiate(request)
    if not is_admin(request):
        raise policy_error("volume_extension:services:update")
    action = request.params["action"]
    if action not in ("enable", "disable", "disable-log-reason"):
        raise err(404, f"Unknown action {action}")
    body = request.json or {}
    host, binary = body.get("host"), body.get("binary") or "cinder-volume"
    svc = store.services.get(f"{binary}:{host}")
    if svc is None:
        raise err(404, f"Service {binary} on host {host} could not be found.")
    with store.cloud.lock:
        svc["status"] = "enabled" if action == "enable" else "disabled"
        svc["disabled_reason"] = body.get("disabled_reason") if action == "disable-log-reason" else None
        svc["updated_at"] = iso()
    return respond(
        request,
        200,
        {
            "host": host,
            "binary": binary,
            "status": svc["status"],
            "disabled": svc["status"] == "disabled",
            "disabled_reason": svc["disabled_reason"],
        },
        mv,
    )
