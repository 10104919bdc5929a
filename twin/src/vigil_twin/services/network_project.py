"""Neutron's per-project resources, read-only: quotas (Neutron's defaults, usage counted) and the
``default`` security group every project has. Routes on `network.router`."""

from __future__ import annotations

from typing import Any

from vigil_twin.http import Request, Response
from vigil_twin.services._support import is_admin, uid
from vigil_twin.services.network import CREATED, _store, err, router

# Neutron's [QUOTAS] defaults; the twin enforces none of them (ports are made by Nova only)
QUOTA_DEFAULTS = {
    "network": 100,
    "subnet": 100,
    "subnetpool": -1,
    "port": 500,
    "router": 10,
    "floatingip": 50,
    "security_group": 10,
    "security_group_rule": 100,
    "rbac_policy": 10,
}


def _quota_project(request: Request) -> str:
    pid = request.params["project_id"]
    if not is_admin(request) and pid != request.context.get("project_id"):
        raise err(403, "HTTPForbidden", "rule:get_quota is disallowed by policy")
    return pid


@router.route("GET", "/v2.0/quotas/{project_id}")
def quota_show(request: Request) -> Response:
    _quota_project(request)
    return Response(200, {"quota": dict(QUOTA_DEFAULTS)})


@router.route("GET", "/v2.0/quotas/{project_id}/default")
def quota_default(request: Request) -> Response:
    return Response(200, {"quota": dict(QUOTA_DEFAULTS)})


@router.route("GET", "/v2.0/quotas/{project_id}/details")
def quota_details(request: Request) -> Response:
    pid = _quota_project(request)
    store = _store(request)
    used = {
        "network": sum(1 for n in store.networks.values() if n["project_id"] == pid),
        "subnet": sum(1 for s in store.subnets.values() if s["project_id"] == pid),
        "port": sum(1 for p in store.ports.values() if p["project_id"] == pid),
    }
    body = {k: {"limit": v, "used": used.get(k, 0), "reserved": 0} for k, v in QUOTA_DEFAULTS.items()}
    return Response(200, {"quota": body})


def _default_group(project: str) -> dict[str, Any]:
    gid = uid("security_group", project)
    rules = [
        {
            "id": uid("security_group_rule", f"{project}:{direction}:{ethertype}"),
            "security_group_id": gid,
            "direction": direction,
            "ethertype": ethertype,
            "protocol": None,
            "port_range_min": None,
            "port_range_max": None,
            "remote_ip_prefix": None,
            "remote_group_id": gid if direction == "ingress" else None,
            "project_id": project,
            "tenant_id": project,
        }
        for direction in ("ingress", "egress")
        for ethertype in ("IPv4", "IPv6")
    ]
    return {
        "id": gid,
        "name": "default",
        "description": "Default security group",
        "project_id": project,
        "tenant_id": project,
        "security_group_rules": rules,
        "stateful": True,
        "shared": False,
        "tags": [],
        "created_at": CREATED,
        "updated_at": CREATED,
        "revision_number": 1,
    }


def _groups(request: Request) -> list[dict[str, Any]]:
    """One default group per project that has ports (and the caller's own)."""
    store = _store(request)
    projects = {p["project_id"] for p in store.ports.values()} | {request.context.get("project_id")}
    if not is_admin(request):
        projects = {request.context.get("project_id")}
    return [_default_group(p) for p in sorted(x for x in projects if x)]


@router.route("GET", "/v2.0/security-groups")
def security_groups(request: Request) -> Response:
    rows = _groups(request)
    for key in ("id", "name", "project_id", "tenant_id"):
        wanted = request.query.get(key)
        if wanted:
            rows = [g for g in rows if g[key] in wanted]
    return Response(200, {"security_groups": rows})


@router.route("GET", "/v2.0/security-groups/{group_id}")
def security_group_show(request: Request) -> Response:
    for group in _groups(request):
        if group["id"] == request.params["group_id"]:
            return Response(200, {"security_group": group})
    raise err(404, "SecurityGroupNotFound", f"Security group {request.params['group_id']} does not exist")
