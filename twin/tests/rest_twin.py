"""Helpers for the unit tests of the twin's non-core services (Cinder, Ironic, Glance, Neutron, MAAS, metrics)."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

import requests
from twin_api import token

from vigil_twin.cloud import Cloud
from vigil_twin.faults import Faults
from vigil_twin.services import load_services
from vigil_twin.topology import validate_topology

# A small cloud: two busy-ish hosts, three pools on two backends, volumes attached or not,
# Ironic and MAAS power linkage, an SR-IOV port. Tests copy it and change what they need.
BASE: dict[str, Any] = {
    "identity": {},
    "nodes": [
        {"hostname": "cmp-1", "vcpus": 32, "memory_mb": 131072, "disk_gb": 1000},
        {"hostname": "cmp-2", "vcpus": 32, "memory_mb": 131072, "disk_gb": 1000},
        # VFs on physnet1: vm-3's direct port may move here
        {"hostname": "cmp-3", "vcpus": 16, "memory_mb": 65536, "disk_gb": 500, "sriov_physnets": ["physnet1"]},
    ],
    "servers": [
        {
            "name": "vm-1",
            "flavor": "m1.large",
            "host": "cmp-1",
            "project": "demo",
            "cpu_util_pct": 50,
            "ram_util_pct": 60,
        },
        {
            "name": "vm-2",
            "flavor": "m1.large",
            "host": "cmp-1",
            "project": "demo",
            "cpu_util_pct": 80,
            "ram_util_pct": 40,
        },
        {
            "name": "vm-3",
            "flavor": "m1.small",
            "host": "cmp-2",
            "project": "admin",
            "cpu_util_pct": 10,
            "ram_util_pct": 20,
            "ports": [{"network": "sriov", "vnic_type": "direct"}, "private"],
        },
    ],  # fmt: skip
    "images": [{"name": "ubuntu", "properties": {"hw_cpu_policy": "dedicated", "trait:CUSTOM_GPU": "required"}}],
    "networks": [
        {"name": "private", "subnets": [{"cidr": "10.0.0.0/16"}]},
        {"name": "sriov", "network_type": "vlan", "physical_network": "physnet1", "segmentation_id": 100},
    ],
    "volume_types": [{"name": "gold", "volume_backend_name": "ceph"}, {"name": "fast", "volume_backend_name": "lvm"}],
    "pools": [
        {"name": "st-1@ceph#gold", "total_capacity_gb": 1000},
        {"name": "st-2@ceph#gold", "total_capacity_gb": 1000},
        {"name": "st-3@lvm#lvm", "total_capacity_gb": 100},
    ],
    "volumes": [
        {
            "name": "v1",
            "size_gb": 10,
            "pool": "st-1@ceph#gold",
            "project": "demo",
            "volume_type": "gold",
            "attached_to": "vm-1",
        },
        {"name": "v2", "size_gb": 20, "pool": "st-1@ceph#gold", "project": "demo", "volume_type": "gold"},
        {"name": "v3", "size_gb": 500, "pool": "st-2@ceph#gold", "project": "admin", "volume_type": "gold"},
    ],  # fmt: skip
    "cinder": {"migration_base_seconds": 20, "migration_seconds_per_gb": 0.1, "retype_seconds": 10},
    "baremetal": [
        {"name": "bm-1", "compute_hostname": "cmp-1"},
        {"name": "bm-spare", "power_state": "power off", "provision_state": "available"},
    ],
    "ironic": {"power_seconds": 10},
    "maas": {
        "zones": [{"name": "az1"}],
        "pools": [{"name": "compute"}],
        "machines": [
            {"hostname": "cmp-2", "zone": "az1", "pool": "compute", "tags": ["compute"]},
            {"hostname": "spare-2", "power_state": "off", "status": "New"},
        ],
        "power_seconds": 10,
    },
}


def topology(**changes: Any) -> dict[str, Any]:
    topo = copy.deepcopy(BASE)
    topo.update(copy.deepcopy(changes))
    return topo


class Rest:
    """Plain HTTP against any service of a twin with a Keystone token."""

    def __init__(self, twin: Any, user: str = "admin", project: str = "admin") -> None:
        self.twin = twin
        self.session = requests.Session()
        resp = token(twin, user, project=project)
        assert resp.status_code == 201, resp.text
        self.session.headers["X-Auth-Token"] = resp.headers["X-Subject-Token"]

    def __call__(self, method: str, path: str, body: Any = None, headers: dict | None = None) -> requests.Response:
        return self.session.request(method, self.twin.url + path, json=body, headers=headers or {}, timeout=30)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self("GET", path, **kw)


def wait_for(fn: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def load_stores(topo: dict[str, Any]) -> dict[str, Any]:
    """Load every service's store from a topology without serving it (for topology errors)."""
    t = validate_topology(topo)
    cloud = Cloud(t)
    cloud.faults = Faults()
    cloud.services = load_services()
    cloud.base_url = "http://127.0.0.1:9"
    try:
        for service in cloud.services:
            cloud.stores[service.name] = service.load(cloud, t)
    finally:
        cloud.close()
    return cloud.stores
