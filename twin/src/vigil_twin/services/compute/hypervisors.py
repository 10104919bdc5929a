"""Hypervisors: list, detail, show, statistics and the pre-2.53 servers/search routes."""

from __future__ import annotations

import json
from typing import Any

from vigil_twin.http import Request, Response
from vigil_twin.services.compute.api import (
    compute_store,
    fault,
    is_uuid,
    page_of,
    query_flag,
    require_admin,
    route,
)
from vigil_twin.services.compute.store import ComputeStore

# what `uptime` prints on the host, which is what libvirt's driver reports
UPTIME = " 10:00:00 up 42 days,  3:14,  0 users,  load average: 0.50, 0.40, 0.30"


# -- hypervisors ----------------------------------------------------------------------------
def _hypervisor_view(
    store: ComputeStore, node: dict[str, Any], mv: tuple[int, int], detail: bool, with_servers: bool
) -> dict[str, Any]:
    new_ids = mv >= (2, 53)
    v: dict[str, Any] = {
        "id": node["uuid"] if new_ids else node["hypervisor_id"],
        "hypervisor_hostname": node["hypervisor_hostname"],
        "state": store.node_state(node),
        "status": node["status"],
    }
    if detail:
        v.update(
            {
                "host_ip": node["host_ip"],
                "hypervisor_type": node["hypervisor_type"],
                "hypervisor_version": 8002000,
                "service": {
                    "host": node["hostname"],
                    "id": node["service_uuid"] if new_ids else node["service_id"],
                    "disabled_reason": node["disabled_reason"],
                },
            }
        )
        if mv < (2, 88):
            usage = store.placement.usages[node["uuid"]]
            vcpus = node["vcpus"] + node["pcpus"]
            mem_used = usage.get("MEMORY_MB", 0) + node["reserved"]["memory_mb"]
            disk_used = usage.get("DISK_GB", 0) + node["reserved"]["disk_gb"]
            cpu_info: dict[str, Any] = {
                "arch": "x86_64",
                "model": node["cpu_model"],
                "vendor": "Intel",
                "features": ["avx2", "sse4.2"],
                "topology": {"cells": 2, "sockets": 1, "cores": max(1, vcpus // 4), "threads": 2},
            }
            v.update(
                {
                    "vcpus": vcpus,
                    "vcpus_used": usage.get("VCPU", 0) + usage.get("PCPU", 0),
                    "memory_mb": node["memory_mb"],
                    "memory_mb_used": mem_used,
                    "free_ram_mb": node["memory_mb"] - mem_used,
                    "local_gb": node["disk_gb"],
                    "local_gb_used": disk_used,
                    "free_disk_gb": node["disk_gb"] - disk_used,
                    "disk_available_least": node["disk_gb"] - disk_used,
                    "running_vms": len(store.by_host.get(node["hostname"], ())),
                    "current_workload": sum(
                        1 for sid in store.by_host.get(node["hostname"], ()) if store.servers[sid]["task_state"]
                    ),
                    "cpu_info": cpu_info if mv >= (2, 28) else json.dumps(cpu_info),
                }
            )
        else:
            v["uptime"] = UPTIME
    if with_servers:
        sids = sorted(store.by_host.get(node["hostname"], ()), key=store.pos.__getitem__)
        if sids or mv >= (2, 75):
            v["servers"] = [{"name": store.servers[s]["instance_name"], "uuid": s} for s in sids]
    return v


def _hypervisors(request: Request, detail: bool) -> Response:
    require_admin(
        request, "os_compute_api:os-hypervisors:list-detail" if detail else "os_compute_api:os-hypervisors:list"
    )
    store = compute_store(request)
    mv = request.context["mv"]
    nodes = list(store.nodes.values())
    with_servers = False
    if mv >= (2, 53):
        with_servers = query_flag(request, "with_servers")
        pattern = request.arg("hypervisor_hostname_pattern")
        if pattern:
            nodes = [n for n in nodes if pattern in n["hypervisor_hostname"]]
            if not nodes:
                raise fault(404, f"No hypervisor matching '{pattern}' could be found.")
    links = None
    if mv >= (2, 33):
        key = "uuid" if mv >= (2, 53) else "hypervisor_id"
        path = "/os-hypervisors/detail" if detail else "/os-hypervisors"
        nodes, links = page_of(request, nodes, lambda n: str(n[key]), path)
    with store.cloud.lock:
        body: dict[str, Any] = {"hypervisors": [_hypervisor_view(store, n, mv, detail, with_servers) for n in nodes]}
    if links:
        body["hypervisors_links"] = links
    return Response(200, body)


@route("GET", "/os-hypervisors")
def list_hypervisors(request: Request) -> Response:
    return _hypervisors(request, detail=False)


@route("GET", "/os-hypervisors/detail")
def list_hypervisors_detail(request: Request) -> Response:
    return _hypervisors(request, detail=True)


@route("GET", "/os-hypervisors/statistics", max_mv=(2, 87))
def hypervisor_statistics(request: Request) -> Response:
    require_admin(request, "os_compute_api:os-hypervisors:statistics")
    store = compute_store(request)
    views = [_hypervisor_view(store, n, (2, 1), True, False) for n in store.nodes.values()]
    keys = (
        "vcpus",
        "vcpus_used",
        "memory_mb",
        "memory_mb_used",
        "free_ram_mb",
        "local_gb",
        "local_gb_used",
        "free_disk_gb",
        "disk_available_least",
        "running_vms",
        "current_workload",
    )
    stats = {k: sum(v[k] for v in views) for k in keys}
    stats["count"] = len(views)
    return Response(200, {"hypervisor_statistics": stats})


def _node(request: Request, store: ComputeStore) -> dict[str, Any]:
    """The hypervisor named in the path: its integer id before 2.53, its uuid from 2.53."""
    mv = request.context["mv"]
    ref = request.params["hypervisor_id"]
    if mv >= (2, 53):
        if not is_uuid(ref):
            raise fault(400, f"Invalid uuid {ref}")
        node = store.node_by_id.get(ref)
    else:
        node = store.node_by_id.get(ref) if ref.isdigit() else None
    if node is None:
        raise fault(404, f"Hypervisor with ID {ref} could not be found.")
    return node


@route("GET", "/os-hypervisors/{hypervisor_id}")
def show_hypervisor(request: Request) -> Response:
    require_admin(request, "os_compute_api:os-hypervisors:show")
    store = compute_store(request)
    mv = request.context["mv"]
    node = _node(request, store)
    with_servers = mv >= (2, 53) and query_flag(request, "with_servers")
    return Response(200, {"hypervisor": _hypervisor_view(store, node, mv, True, with_servers)})


@route("GET", "/os-hypervisors/{hypervisor_id}/uptime", max_mv=(2, 87))
def hypervisor_uptime(request: Request) -> Response:
    """Before 2.88 the uptime has its own route; from 2.88 it is part of the hypervisor's detail."""
    require_admin(request, "os_compute_api:os-hypervisors:uptime")
    store = compute_store(request)
    node = _node(request, store)
    view = _hypervisor_view(store, node, request.context["mv"], False, False)
    return Response(200, {"hypervisor": dict(view, uptime=UPTIME)})


def _matching_hypervisors(request: Request, policy: str, with_servers: bool) -> Response:
    """Pre-2.53 search by a substring of the hypervisor hostname (with or without its servers)."""
    require_admin(request, policy)
    store = compute_store(request)
    nodes = [n for n in store.nodes.values() if request.params["pattern"] in n["hypervisor_hostname"]]
    if not nodes:
        raise fault(404, f"No hypervisor matching '{request.params['pattern']}' could be found.")
    return Response(200, {"hypervisors": [_hypervisor_view(store, n, (2, 1), False, with_servers) for n in nodes]})


@route("GET", "/os-hypervisors/{pattern}/servers", max_mv=(2, 52))
def hypervisor_servers(request: Request) -> Response:
    return _matching_hypervisors(request, "os_compute_api:os-hypervisors:servers", with_servers=True)


@route("GET", "/os-hypervisors/{pattern}/search", max_mv=(2, 52))
def hypervisor_search(request: Request) -> Response:
    return _matching_hypervisors(request, "os_compute_api:os-hypervisors:search", with_servers=False)
