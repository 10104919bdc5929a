"""Cinder's limits and quota sets, read-only: Cinder's default quotas, usage counted from the volumes."""

from __future__ import annotations

from typing import Any

from vigil_twin.http import Request, Response
from vigil_twin.services.volume.api import negotiate, policy_error, respond, router, volume_store
from vigil_twin.services.volume.store import VolumeStore

# Cinder's [DEFAULT] quota_* options
DEFAULTS = {
    "volumes": 10,
    "snapshots": 10,
    "gigabytes": 1000,
    "backups": 10,
    "backup_gigabytes": 1000,
    "per_volume_gigabytes": -1,
    "groups": 10,
}


def _used(store: VolumeStore, project_id: str) -> dict[str, int]:
    mine = [v for v in store.volumes.values() if v["project_id"] == project_id]
    return {"volumes": len(mine), "gigabytes": sum(v["size"] for v in mine)}


def _project(request: Request) -> str:
    pid = request.params["project_id"]
    if not request.context.get("is_admin") and pid != request.context.get("project_id"):
        raise policy_error("volume_extension:quotas:show")
    return pid


@router.route("GET", "/v3/limits")
def limits(request: Request) -> Response:
    mv = negotiate(request)
    used = _used(volume_store(request), request.context.get("project_id") or "")
    absolute: dict[str, Any] = {
        "maxTotalVolumes": DEFAULTS["volumes"],
        "maxTotalSnapshots": DEFAULTS["snapshots"],
        "maxTotalVolumeGigabytes": DEFAULTS["gigabytes"],
        "maxTotalBackups": DEFAULTS["backups"],
        "maxTotalBackupGigabytes": DEFAULTS["backup_gigabytes"],
        "totalVolumesUsed": used["volumes"],
        "totalGigabytesUsed": used["gigabytes"],
        "totalSnapshotsUsed": 0,
        "totalBackupsUsed": 0,
        "totalBackupGigabytesUsed": 0,
    }
    return respond(request, 200, {"limits": {"rate": [], "absolute": absolute}}, mv)


@router.route("GET", "/v3/os-quota-sets/{project_id}")
def show_quota_set(request: Request) -> Response:
    mv = negotiate(request)
    pid = _project(request)
    body: dict[str, Any] = dict(DEFAULTS)
    if request.arg("usage") in ("True", "true", "1"):
        used = _used(volume_store(request), pid)
        body = {k: {"limit": v, "in_use": used.get(k, 0), "reserved": 0, "allocated": 0} for k, v in body.items()}
    return respond(request, 200, {"quota_set": dict(body, id=pid)}, mv)


@router.route("GET", "/v3/os-quota-sets/{project_id}/defaults")
def default_quota_set(request: Request) -> Response:
    mv = negotiate(request)
    return respond(request, 200, {"quota_set": dict(DEFAULTS, id=request.params["project_id"])}, mv)
