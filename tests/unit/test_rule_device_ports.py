# -*- coding: utf-8 -*-
"""constraints/rules/device_ports: a server with SR-IOV, vDPA, smart-NIC or accelerator ports goes
only to a host offering the device; each expected destination flips when only the data does."""

import pytest
from modelgen import instances_frame, nodes_frame, with_usage

from ansible_collections.vigil.openstack.plugins.module_utils.constraints.placement import Placement
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry

HOSTS = ["src", "plain", "vf2", "vf1"]


def frames(vnics=("direct",), physnets=("physnet1",), traits=None, host_physnets=None):
    """src holds the server; plain has no SR-IOV; vf2 reports VFs on physnet2; vf1 has the
    HW_NIC_SRIOV trait and reports no physnets. plain is the roomiest, then vf2."""
    traits = traits or {}
    host_physnets = host_physnets or {}
    nodes = nodes_frame(
        HOSTS,
        vcpus=[16, 64, 32, 16],
        ram=[32768, 262144, 131072, 65536],
        disk=[200, 900, 400, 200],
        traits=[traits.get(h, {"src": ["HW_NIC_SRIOV"], "vf2": ["HW_NIC_SRIOV"], "vf1": ["HW_NIC_SRIOV"]}.get(h, [])) for h in HOSTS],
    )  # fmt: skip
    nodes["device_physnets"] = [
        host_physnets.get(h, {"src": ["physnet1"], "vf2": ["physnet2"]}.get(h, [])) for h in HOSTS
    ]
    inst = instances_frame(
        [{"uuid": "nfv-1", "host": "src", "vcpus": 2, "memory_mb": 2048, "disk_gb": 20, "pci": True,
          "migratable": "cold", "migratable_reason": "PCI passthrough or SR-IOV port: cold migration only"}]
    )  # fmt: skip
    inst["device_vnic_types"] = [list(vnics)]
    inst["device_physnets"] = [list(physnets)]
    return {"nodes": with_usage(nodes, inst), "instances": inst}


def destinations(f):
    pl = Placement(f, allow_cold_active=True)
    return [pl.hostnames[h] for h in range(pl.H) if pl.candidates(0)[h]]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ({}, ["vf1"]),  # vf2's VFs are on physnet2; vf1 has the trait and reports no physnet
        ({"host_physnets": {"vf2": ["physnet1", "physnet2"]}}, ["vf2", "vf1"]),
        ({"physnets": ()}, ["vf2", "vf1"]),  # physnet unknown: any SR-IOV host
        ({"traits": {"plain": ["CUSTOM_PHYSNET_PHYSNET1"]}}, ["plain", "vf1"]),  # Placement says plain has physnet1
        ({"traits": {"vf1": []}}, []),  # no trait, no physnet: vf1 offers nothing
        ({"vnics": ("macvtap",)}, ["vf1"]),
        ({"vnics": ("vdpa",)}, ["vf1"]),
        ({"vnics": ("remote-managed",)}, []),
        ({"vnics": ("remote-managed",), "traits": {"vf1": ["HW_NIC_SRIOV", "COMPUTE_REMOTE_MANAGED_PORTS"]}}, ["vf1"]),
        ({"vnics": ("accelerator-direct",), "physnets": ()}, []),
        ({"vnics": ("accelerator-direct",), "physnets": (), "traits": {"plain": ["COMPUTE_ACCELERATORS"]}}, ["plain"]),
        ({"vnics": ()}, ["plain", "vf2", "vf1"]),  # no device port: any host
    ],
)
def test_destinations_follow_the_device_data(case, expected):
    assert destinations(frames(**case)) == expected


def test_reason_names_the_missing_device():
    pl = Placement(frames(), allow_cold_active=True)
    assert pl.allowed(0, HOSTS.index("plain")) == (
        "host plain has no SR-IOV device (HW_NIC_SRIOV or a physical network with VFs) for a direct port"
    )
    assert pl.allowed(0, HOSTS.index("vf2")) == "host vf2 has no VFs on physical network PHYSNET1"
    assert pl.allowed(0, HOSTS.index("vf1")) == ""


@pytest.mark.parametrize(
    ("host_physnets", "destination"),
    [({}, "vf1"), ({"vf2": ["physnet1"]}, "vf2")],  # vf2 gains VFs on physnet1: the evacuation goes there
)
def test_host_maintenance_evacuates_an_sriov_server_where_its_device_is(host_physnets, destination):
    plan = registry.run(
        frames(host_physnets=host_physnets),
        "cluster_maintaining",
        "host_maintenance",
        {"maintenance_node": "src", "allow_cold_active": True},
    )
    moves = [a for a in plan["actions"] if a["type"] == "migrate"]
    assert [(m["resource"], m["input"]["destination_node"]) for m in moves] == [("nfv-1", destination)]
