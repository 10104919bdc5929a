"""Cloud-agnostic helpers for the contract suite (no twin internals)."""

from __future__ import annotations

from typing import Any

import openstack

LIVE_OK = ("ACTIVE", "PAUSED")


def provider_for(conn: openstack.connection.Connection, hypervisor_hostname: str) -> Any:
    found = list(conn.placement.resource_providers(name=hypervisor_hostname))
    assert len(found) == 1, f"expected one resource provider named {hypervisor_hostname}, got {found}"
    return found[0]


def allocations_of(conn: openstack.connection.Connection, consumer: str) -> dict[str, dict[str, int]]:
    """rp uuid -> resources of a consumer (plain HTTP through the SDK's session)."""
    resp = conn.placement.get(f"/allocations/{consumer}", microversion="1.28")
    assert resp.status_code == 200, resp.text
    return {rp: v["resources"] for rp, v in resp.json()["allocations"].items()}


def free(conn: openstack.connection.Connection, rp: Any) -> dict[str, float]:
    invs = {i.resource_class: i for i in conn.placement.resource_provider_inventories(rp)}
    used = conn.placement.fetch_resource_provider_usages(rp).usages or {}
    return {rc: (i.total - i.reserved) * i.allocation_ratio - used.get(rc, 0) for rc, i in invs.items()}


def fits(conn: openstack.connection.Connection, rp: Any, server: Any) -> bool:
    room = free(conn, rp)
    f = server.flavor
    cpu_rc = "PCPU" if (f.extra_specs or {}).get("hw:cpu_policy") == "dedicated" else "VCPU"
    need = {cpu_rc: f.vcpus, "MEMORY_MB": f.ram, "DISK_GB": (f.disk or 0) + (f.ephemeral or 0)}
    return all(room.get(rc, 0) >= n for rc, n in need.items() if n)


def pick_move(conn: openstack.connection.Connection, statuses=LIVE_OK) -> tuple[Any, str]:
    """A small movable server (no server group, not locked, not pinned) and an enabled, up
    destination host in its AZ with room for it."""
    services = {s.host: s for s in conn.compute.services(binary="nova-compute")}
    hyps = {h.service_details["host"]: h for h in conn.compute.hypervisors(details=True)}
    grouped = {m for g in conn.compute.server_groups(all_projects=True) for m in g.member_ids or []}
    servers = [
        s
        for s in conn.compute.servers(all_projects=True)
        if s.status in statuses and not s.is_locked and s.id not in grouped and s.compute_host in services
        and (s.flavor.extra_specs or {}).get("hw:cpu_policy") != "dedicated"
        and not any(k.startswith("pci_passthrough") for k in (s.flavor.extra_specs or {}))
    ]  # fmt: skip
    servers.sort(key=lambda s: (s.flavor.ram, s.name))
    for server in servers:
        if services[server.compute_host].state != "up":
            continue
        for host, svc in sorted(services.items()):
            if host == server.compute_host or svc.status != "enabled" or svc.state != "up":
                continue
            if svc.availability_zone != server.availability_zone:
                continue
            if fits(conn, provider_for(conn, hyps[host].name), server):
                return server, host
    raise AssertionError("no movable server with a destination in this cloud")
