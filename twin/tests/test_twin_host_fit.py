"""The twin refuses a move whose destination lacks what the server's ports, flavor or boot volume
need ("No valid host", as Nova's scheduler would), and the answer flips when only the data does."""

from __future__ import annotations

import pytest
from rest_twin import Rest
from twin_api import Api

from vigil_twin import testing


def edge_topology(vf2_physnets=("physnet2",), boot_image_metadata=None, vnic_type="direct"):
    """The shared edge-case cluster, with AVX2 on plain: each other host lacks one thing only."""
    return testing.edge_topology(vf2_physnets, boot_image_metadata, vnic_type, plain_traits=["HW_CPU_X86_AVX2"])


def _migrate(api, name, host):
    sid = api.twin.cloud.stores["compute"].server_by_name[name]
    return api.post(f"/servers/{sid}/action", {"migrate": {"host": host} if host else None}, mv="2.56")


def _dest(api, name):
    sid = api.twin.cloud.stores["compute"].server_by_name[name]
    migs = api.get(f"/os-migrations?instance_uuid={sid}", mv="2.59").json()["migrations"]
    return migs[0]["dest_compute"]


def _accepted(twin_factory, topology, name):
    """Hosts each of which the twin accepts as the server's explicit destination (one twin per try)."""
    out = []
    for host in ("plain", "vf2", "vf1"):
        api = Api(twin_factory(topology))
        resp = _migrate(api, name, host)
        assert resp.status_code in (202, 400), resp.text
        if resp.status_code == 202:
            out.append(host)
        else:
            assert "No valid host was found. Host %s " % host in resp.json()["badRequest"]["message"]
    return out


@pytest.mark.parametrize(
    ("vf2_physnets", "vnic_type", "accepted", "scheduled"),
    [
        (["physnet2"], "direct", ["vf1"], "vf1"),  # VFs only on another physnet: vf2 refused
        (["physnet1", "physnet2"], "direct", ["vf2", "vf1"], "vf2"),  # vf2 gets physnet1 VFs: now the roomier
        (["physnet2"], "macvtap", ["vf1"], "vf1"),
        (["physnet1"], "remote-managed", [], None),  # no host has COMPUTE_REMOTE_MANAGED_PORTS
        (["physnet2"], "normal", ["plain", "vf2", "vf1"], "plain"),  # a plain port needs no device
    ],
)
def test_device_port_destination(twin_factory, vf2_physnets, vnic_type, accepted, scheduled):
    topo = edge_topology(vf2_physnets=vf2_physnets, vnic_type=vnic_type)
    assert _accepted(twin_factory, topo, "nfv-1") == accepted
    api = Api(twin_factory(topo))
    resp = _migrate(api, "nfv-1", None)
    if scheduled is None:
        assert resp.status_code == 400 and "No valid host" in resp.text
    else:
        assert resp.status_code == 202, resp.text
        assert _dest(api, "nfv-1") == scheduled


@pytest.mark.parametrize(
    ("metadata", "accepted"),
    [
        ({"trait:HW_CPU_X86_AVX2": "required", "hw_disk_bus": "virtio"}, ["plain", "vf2"]),
        ({"hw_disk_bus": "virtio"}, ["plain", "vf2", "vf1"]),
    ],
)
def test_boot_volume_image_traits(twin_factory, metadata, accepted):
    topo = edge_topology(boot_image_metadata=metadata)
    assert _accepted(twin_factory, topo, "bfv-1") == accepted


def test_boot_volume_shows_its_image_metadata_and_agents_their_device_mappings(twin_factory):
    twin = twin_factory(edge_topology(boot_image_metadata={"trait:HW_CPU_X86_AVX2": "required"}))
    rest = Rest(twin)
    project = twin.cloud.stores["identity"].project_by_name["admin"]
    volumes = rest.get(f"/volume/v3/{project}/volumes/detail?all_tenants=1").json()["volumes"]
    assert [v["volume_image_metadata"] for v in volumes] == [{"trait:HW_CPU_X86_AVX2": "required"}]
    agents = rest.get("/network/v2.0/agents").json()["agents"]
    mappings = {
        a["host"]: a["configurations"]["device_mappings"] for a in agents if a["agent_type"] == "NIC Switch agent"
    }
    assert {h: sorted(m) for h, m in mappings.items()} == {
        "src": ["physnet1"],
        "plain": [],
        "vf2": ["physnet2"],
        "vf1": ["physnet1"],
    }
