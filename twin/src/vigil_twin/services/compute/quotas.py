"""Limits and quota sets (read-only). The twin's projects have unlimited instances, cores and RAM
(-1, as an operator may set them, so tests can add load freely); the other quotas are Nova's
defaults. Usage is counted from the servers each project has."""

from __future__ import annotations

from typing import Any

from vigil_twin.http import Request, Response
from vigil_twin.services.compute.api import compute_store, fault, require_admin, route
from vigil_twin.services.compute.store import ComputeStore

# Nova's [quota] defaults
DEFAULTS = {
    "instances": 10,
    "cores": 20,
    "ram": 51200,
    "key_pairs": 100,
    "metadata_items": 128,
    "server_groups": 10,
    "server_group_members": 10,
    "injected_files": 5,
    "injected_file_content_bytes": 10240,
    "injected_file_path_bytes": 255,
}
TWIN_LIMITS = dict(DEFAULTS, instances=-1, cores=-1, ram=-1)
_GONE_AT_2_57 = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")
# network quotas Nova proxied to Neutron before 2.36 (fixed values: the twin's Neutron has no quotas)
_NETWORK_BEFORE_2_36 = {"floating_ips": 10, "fixed_ips": -1, "security_groups": 10, "security_group_rules": 20}


def usage(store: ComputeStore, project_id: str) -> dict[str, int]:
    servers = [store.servers[sid] for sid in store.by_project.get(project_id, ())]
    return {
        "instances": len(servers),
        "cores": sum(s["flavor"]["vcpus"] for s in servers),
        "ram": sum(s["flavor"]["ram"] for s in servers),
        "server_groups": sum(1 for g in store.groups.values() if g["project_id"] == project_id),
        "key_pairs": 0,
    }


def _quota_view(values: dict[str, int], mv: tuple[int, int]) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in values.items() if not (mv >= (2, 57) and k in _GONE_AT_2_57)}
    if mv < (2, 36):
        out.update(_NETWORK_BEFORE_2_36)
    return out


def _project(request: Request) -> str:
    pid = request.params["project_id"]
    if not request.context.get("is_admin") and pid != request.context.get("project_id"):
        raise fault(403, "Policy doesn't allow os_compute_api:os-quota-sets:show to be performed.")
    return pid


@route("GET", "/os-quota-sets/{project_id}")
def show_quota_set(request: Request) -> Response:
    pid = _project(request)
    return Response(200, {"quota_set": dict(_quota_view(TWIN_LIMITS, request.context["mv"]), id=pid)})


@route("GET", "/os-quota-sets/{project_id}/defaults")
def default_quota_set(request: Request) -> Response:
    pid = request.params["project_id"]
    return Response(200, {"quota_set": dict(_quota_view(DEFAULTS, request.context["mv"]), id=pid)})


@route("GET", "/os-quota-sets/{project_id}/detail")
def detail_quota_set(request: Request) -> Response:
    pid = _project(request)
    used = usage(compute_store(request), pid)
    limits = _quota_view(TWIN_LIMITS, request.context["mv"])
    body = {k: {"limit": v, "in_use": used.get(k, 0), "reserved": 0} for k, v in limits.items()}
    return Response(200, {"quota_set": dict(body, id=pid)})


@route("GET", "/limits")
def limits(request: Request) -> Response:
    store = compute_store(request)
    mv = request.context["mv"]
    pid = request.context.get("project_id") or ""
    wanted = request.arg("tenant_id")
    if wanted and wanted != pid:
        require_admin(request, "os_compute_api:limits:other_project")
        pid = wanted
    used = usage(store, pid)
    absolute: dict[str, Any] = {
        "maxTotalInstances": TWIN_LIMITS["instances"],
        "maxTotalCores": TWIN_LIMITS["cores"],
        "maxTotalRAMSize": TWIN_LIMITS["ram"],
        "maxServerMeta": TWIN_LIMITS["metadata_items"],
        "maxTotalKeypairs": TWIN_LIMITS["key_pairs"],
        "maxServerGroups": TWIN_LIMITS["server_groups"],
        "maxServerGroupMembers": TWIN_LIMITS["server_group_members"],
        "totalInstancesUsed": used["instances"],
        "totalCoresUsed": used["cores"],
        "totalRAMUsed": used["ram"],
        "totalServerGroupsUsed": used["server_groups"],
    }
    if mv < (2, 57):
        absolute.update(maxPersonality=5, maxPersonalitySize=10240)
    if mv < (2, 39):
        absolute["maxImageMeta"] = 128
    if mv < (2, 36):
        absolute.update(
            maxSecurityGroups=10,
            maxSecurityGroupRules=20,
            maxTotalFloatingIps=10,
            totalSecurityGroupsUsed=0,
            totalFloatingIpsUsed=0,
        )
    return Response(200, {"limits": {"rate": [], "absolute": absolute}})
