"""Server diagnostics (admin): the standard form from 2.48, libvirt's free form before; the figures
follow the server's flavor and its utilisation in the topology."""

from __future__ import annotations

import time
from typing import Any

from vigil_twin.http import Request, Response
from vigil_twin.services.compute.api import compute_store, require_admin, route, server_or_404
from vigil_twin.services.compute.server_actions import state_conflict
from vigil_twin.services.compute.store import ComputeStore

_STARTED = time.time()


def _standard(store: ComputeStore, s: dict[str, Any]) -> dict[str, Any]:
    f = s["flavor"]
    uptime = int(time.time() - _STARTED) + 3600
    ports = store.addresses(s)
    nics = [a for addrs in ports.values() for a in addrs]
    cpu_time = int(uptime * 1e9 * s["cpu_util_pct"] / 100.0)
    return {
        "state": "running",
        "driver": "libvirt",
        "hypervisor": "kvm",
        "hypervisor_os": "linux",
        "uptime": uptime,
        "config_drive": False,
        "num_cpus": f["vcpus"],
        "num_nics": len(nics),
        "num_disks": 1,
        "cpu_details": [
            {"id": i, "time": cpu_time, "utilisation": round(s["cpu_util_pct"])} for i in range(f["vcpus"])
        ],
        "nic_details": [
            {
                "mac_address": nic["OS-EXT-IPS-MAC:mac_addr"],
                "rx_octets": 0,
                "rx_errors": 0,
                "rx_drop": 0,
                "rx_packets": 0,
                "rx_rate": None,
                "tx_octets": 0,
                "tx_errors": 0,
                "tx_drop": 0,
                "tx_packets": 0,
                "tx_rate": None,
            }
            for nic in nics
        ],
        "disk_details": [
            {"read_bytes": 0, "read_requests": 0, "write_bytes": 0, "write_requests": 0, "errors_count": 0}
        ],
        "memory_details": {"maximum": f["ram"], "used": int(f["ram"] * s["ram_util_pct"] / 100.0)},
    }


def _libvirt(std: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {f"cpu{c['id']}_time": c["time"] for c in std["cpu_details"]}
    out.update(
        {
            "memory": std["memory_details"]["maximum"] * 1024,
            "memory-actual": std["memory_details"]["maximum"] * 1024,
            "memory-rss": std["memory_details"]["used"] * 1024,
            "vda_read": 0,
            "vda_read_req": 0,
            "vda_write": 0,
            "vda_write_req": 0,
            "vda_errors": -1,
        }
    )
    for i, nic in enumerate(std["nic_details"]):
        for key in (
            "rx_octets",
            "rx_errors",
            "rx_drop",
            "rx_packets",
            "tx_octets",
            "tx_errors",
            "tx_drop",
            "tx_packets",
        ):
            out[f"tap{i}_{key.replace('_octets', '')}"] = nic[key]
    return out


@route("GET", "/servers/{server_id}/diagnostics")
def server_diagnostics(request: Request) -> Response:
    require_admin(request, "os_compute_api:os-server-diagnostics")
    store = compute_store(request)
    server = server_or_404(request, store)
    if server["vm_state"] != "active" or server["task_state"] is not None:
        raise state_conflict(server, "get_diagnostics")
    std = _standard(store, server)
    return Response(200, std if request.context["mv"] >= (2, 48) else _libvirt(std))
