"""Simple tenant usage (os-simple-tenant-usage): hours, vCPU-, RAM- and disk-hours per project over a
period, from each server's launch time to now."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from vigil_twin.http import Request, Response
from vigil_twin.services.compute.api import compute_store, fault, require_admin, route
from vigil_twin.services.compute.store import ComputeStore


def _when(request: Request, name: str, default: datetime) -> datetime:
    raw = request.arg(name)
    if not raw:
        return default
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(raw.rstrip("Z"), fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    raise fault(400, f"Invalid input for field/attribute {name}. Value: {raw}. Invalid timestamp for date {raw}")


def _launched(server: dict[str, Any]) -> datetime | None:
    text = server.get("launched_at")
    if not text:
        return None
    return datetime.strptime(text.rstrip("Z")[:26], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc)


def _usage(store: ComputeStore, project_id: str, start: datetime, stop: datetime, detailed: bool) -> dict[str, Any]:
    total = {"hours": 0.0, "vcpus": 0.0, "ram": 0.0, "disk": 0.0}
    rows = []
    for sid in sorted(store.by_project.get(project_id, ()), key=store.pos.__getitem__):
        s = store.servers[sid]
        launched = _launched(s)
        if launched is None:
            continue
        begin, end = max(start, launched), stop
        hours = max(0.0, (end - begin).total_seconds() / 3600.0)
        f = s["flavor"]
        total["hours"] += hours
        total["vcpus"] += hours * f["vcpus"]
        total["ram"] += hours * f["ram"]
        total["disk"] += hours * (f["disk"] + f["ephemeral"])
        rows.append(
            {
                "instance_id": sid,
                "name": s["name"],
                "hours": hours,
                "vcpus": f["vcpus"],
                "memory_mb": f["ram"],
                "local_gb": f["disk"] + f["ephemeral"],
                "flavor": f["original_name"],
                "state": s["vm_state"],
                "started_at": s["launched_at"],
                "ended_at": None,
                "uptime": int((end - launched).total_seconds()),
                "tenant_id": project_id,
            }
        )
    out: dict[str, Any] = {
        "tenant_id": project_id,
        "start": start.strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "stop": stop.strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "total_hours": total["hours"],
        "total_vcpus_usage": total["vcpus"],
        "total_memory_mb_usage": total["ram"],
        "total_local_gb_usage": total["disk"],
    }
    if detailed:
        out["server_usages"] = rows
    return out


def _period(request: Request) -> tuple[datetime, datetime]:
    now = datetime.now(timezone.utc)
    start = _when(request, "start", now - timedelta(days=1))
    stop = min(_when(request, "end", now), now)
    if stop < start:
        raise fault(400, "Invalid start time. The start time cannot occur after the end time.")
    return start, stop


@route("GET", "/os-simple-tenant-usage")
def list_usage(request: Request) -> Response:
    require_admin(request, "os_compute_api:os-simple-tenant-usage:list")
    store = compute_store(request)
    start, stop = _period(request)
    detailed = request.arg("detailed") in ("1", "true", "True")
    usages = [_usage(store, pid, start, stop, detailed) for pid in sorted(store.by_project) if store.by_project[pid]]
    return Response(200, {"tenant_usages": [u for u in usages if u["total_hours"] > 0 or detailed]})


@route("GET", "/os-simple-tenant-usage/{project_id}")
def show_usage(request: Request) -> Response:
    pid = request.params["project_id"]
    if not request.context.get("is_admin") and pid != request.context.get("project_id"):
        raise fault(403, "Policy doesn't allow os_compute_api:os-simple-tenant-usage:show to be performed.")
    start, stop = _period(request)
    return Response(200, {"tenant_usage": _usage(compute_store(request), pid, start, stop, True)})
