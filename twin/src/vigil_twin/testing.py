"""Test helpers: start a twin in-process, write a clouds.yaml for it (TEAM.md contract).

with running_twin() as twin:              # twin/topologies/demo.yaml, speed 100
    write_clouds_yaml(twin, tmp / "clouds.yaml")
    conn = openstack.connect(cloud="vigil-twin")
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vigil_twin.server import Twin
from vigil_twin.topology import load_topology, validate_topology
from vigil_twin.topology import write_clouds_yaml as _write_clouds_yaml

__all__ = ["DEMO_TOPOLOGY", "EDGE_POOL", "edge_topology", "running_twin", "write_clouds_yaml"]

# twin/src/vigil_twin/testing.py -> twin/topologies/demo.yaml
DEMO_TOPOLOGY = Path(__file__).resolve().parents[2] / "topologies" / "demo.yaml"


def _topology(topology: Any) -> dict[str, Any]:
    if topology is None:
        return load_topology(DEMO_TOPOLOGY)
    if isinstance(topology, (str, os.PathLike)):
        return load_topology(topology)
    return validate_topology(topology)


@contextlib.contextmanager
def running_twin(topology: Any = None, speed: float = 100.0) -> Iterator[Twin]:
    """A started twin on 127.0.0.1 (free port); stopped on exit.

    ``topology``: None (the demo topology), a path, or a topology dict.
    """
    twin = Twin(_topology(topology), speed=speed)
    twin.start()
    # MAAS credentials: the maas service sets them on the cloud when it is loaded
    twin.maas_url = getattr(twin.cloud, "maas_url", None) or f"{twin.url}/MAAS/"
    twin.maas_api_key = getattr(twin.cloud, "maas_api_key", None)
    try:
        yield twin
    finally:
        twin.stop()


def write_clouds_yaml(twin: Twin, path: str | os.PathLike[str]) -> str:
    """Write clouds.yaml: ``vigil-twin`` (admin, project scope), ``vigil-twin-member`` (member role),
    ``vigil-twin-system`` (admin, system scope). Returns the path."""
    return _write_clouds_yaml(twin, path)


EDGE_POOL = "st-1@lvm#lvm"


def edge_topology(
    vf2_physnets: Any = ("physnet2",),
    boot_image_metadata: dict[str, Any] | None = None,
    vnic_type: str = "direct",
    plain_traits: Any = (),
) -> dict[str, Any]:
    """The edge-case cluster of the host-fit tests (twin and end to end): ``src`` holds an SR-IOV
    server (``nfv-1``) and a boot-from-volume one (``bfv-1``); each other host lacks something.

    plain: roomiest, no SR-IOV (and the CPU traits in `plain_traits`). vf2: AVX2, VFs on
    `vf2_physnets`. vf1: HW_NIC_SRIOV with VFs on physnet1 (the twin's default for the trait),
    no AVX2. A fresh dict on every call: tests add servers to it.
    """
    return {
        "nodes": [
            {"hostname": "src", "vcpus": 16, "memory_mb": 32768, "disk_gb": 200,
             "traits": ["HW_NIC_SRIOV", "HW_CPU_X86_AVX2"], "sriov_physnets": ["physnet1"]},
            {"hostname": "plain", "vcpus": 64, "memory_mb": 262144, "disk_gb": 900, "traits": list(plain_traits)},
            {"hostname": "vf2", "vcpus": 32, "memory_mb": 131072, "disk_gb": 400,
             "traits": ["HW_NIC_SRIOV", "HW_CPU_X86_AVX2"], "sriov_physnets": list(vf2_physnets)},
            {"hostname": "vf1", "vcpus": 16, "memory_mb": 65536, "disk_gb": 200, "traits": ["HW_NIC_SRIOV"]},
        ],
        "networks": [
            {"name": "private", "network_type": "vxlan", "segmentation_id": 1001, "subnets": [{"cidr": "10.0.0.0/16"}]},
            {"name": "sriov-net", "network_type": "vlan", "physical_network": "physnet1", "segmentation_id": 100,
             "subnets": [{"cidr": "10.9.0.0/24"}]},
        ],
        "servers": [
            {"name": "nfv-1", "flavor": "m1.small", "host": "src", "ports": [{"network": "sriov-net", "vnic_type": vnic_type}]},
            {"name": "bfv-1", "flavor": "m1.small", "host": "src", "boot_from_volume": True},
        ],
        "pools": [{"name": EDGE_POOL, "total_capacity_gb": 1000}],
        "volumes": [
            {"name": "bfv-1-root", "size_gb": 20, "pool": EDGE_POOL, "attached_to": "bfv-1", "device": "/dev/vda",
             "bootable": True, "image_metadata": dict(boot_image_metadata or {})},
        ],
    }  # fmt: skip
