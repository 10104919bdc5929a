"""Volume attachments (3.27+)."""

from __future__ import annotations

from typing import Any

from vigil_twin.http import Request, Response
from vigil_twin.services._support import is_admin, truthy
from vigil_twin.services.volume.api import err, negotiate, respond, router, visible, volume_store


def _attachment_view(vol: dict[str, Any], a: dict[str, Any], detail: bool) -> dict[str, Any]:
    body = {
        "id": a["attachment_id"],
        "status": "attached",
        "instance": a["server_id"],
        "volume_id": vol["id"],
    }
    if detail:
        body.update(
            {
                "attached_at": a["attached_at"],
                "detached_at": None,
                "attach_mode": "rw",
                "connection_info": {"driver_volume_type": "iscsi", "volume_id": vol["id"]},
            }
        )
    return body


def _attachments(request: Request, detail: bool) -> Response:
    store = volume_store(request)
    mv = negotiate(request)
    if mv < (3, 27):
        raise err(404, "The resource could not be found.")
    all_tenants = is_admin(request) and truthy(request.arg("all_tenants", "0"))
    want_volume, want_instance = request.arg("volume_id"), request.arg("instance_id")
    items = []
    for vid in store.order:
        v = store.volumes[vid]
        if not all_tenants and v["project_id"] != request.context.get("project_id"):
            continue
        if want_volume and vid != want_volume:
            continue
        for a in v["attachments"]:
            if want_instance and a["server_id"] != want_instance:
                continue
            items.append(_attachment_view(v, a, detail))
    return respond(request, 200, {"attachments": items}, mv)


@router.route("GET", "/v3/attachments")
def attachments_list(request: Request) -> Response:
    return _attachments(request, detail=False)


@router.route("GET", "/v3/attachments/detail")
def attachments_detail(request: Request) -> Response:
    return _attachments(request, detail=True)


@router.route("GET", "/v3/attachments/{attachment_id}")
def attachment_show(request: Request) -> Response:
    store = volume_store(request)
    mv = negotiate(request)
    if mv < (3, 27):
        raise err(404, "The resource could not be found.")
    for v in store.volumes.values():
        for a in v["attachments"]:
            if a["attachment_id"] == request.params["attachment_id"] and visible(request, store, v):
                return respond(request, 200, {"attachment": _attachment_view(v, a, True)}, mv)
    raise err(404, f"VolumeAttachment {request.params['attachment_id']} could not be found.")
