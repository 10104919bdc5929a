"""collect/neutron.py: ports are read without server-side filters Neutron refuses, and device-backed
ones are selected on the client, also when the server pages."""

from test_collect_rest_helpers import FakeAdapter

from ansible_collections.vigil.openstack.plugins.module_utils.collect import neutron
from ansible_collections.vigil.openstack.plugins.module_utils.model import compute

PORTS = [
    {"id": "p1", "device_id": "vm-1", "device_owner": "compute:nova", "binding:vnic_type": "normal"},
    {"id": "p2", "device_id": "vm-2", "device_owner": "compute:nova", "binding:vnic_type": "direct"},
    {"id": "p3", "device_id": "vm-3", "device_owner": "compute:nova", "binding:vnic_type": "vdpa"},
    {"id": "p4", "device_id": "", "device_owner": "network:dhcp", "binding:vnic_type": "normal"},
    {"id": "p5", "device_id": "vm-5", "device_owner": "compute:nova", "binding:vnic_type": "direct-physical"},
]


class CappedAdapter(FakeAdapter):
    """A Neutron with pagination_max_limit = 2: a listing without limit still comes in pages."""

    def get(self, path, params=None, microversion=None, **kwargs):
        return super().get(path, dict(params or {}, limit=2), microversion, **kwargs)


def test_sriov_ports_one_request_no_refused_filter():
    ad = FakeAdapter(PORTS, "ports", endpoint="http://twin/network")
    ports = neutron.sriov_ports(ad)
    assert [p["id"] for p in ports] == ["p2", "p3", "p5"]
    assert len(ad.calls) == 1
    path, params, _mv = ad.calls[0]
    assert path.endswith("/v2.0/ports")
    # only fields: no vnic filter (Neutron answers 400) and no limit (one answer by default)
    assert params == {"fields": list(neutron.PORT_FIELDS)}


def test_sriov_ports_follow_next_links_of_a_paging_server():
    ad = CappedAdapter(PORTS, "ports", endpoint="http://twin/network")
    assert [p["id"] for p in neutron.sriov_ports(ad)] == ["p2", "p3", "p5"]
    assert len(ad.calls) == 3 and ad.calls[-1][1]["marker"] == "p4"


def test_device_physnets_from_nic_switch_agents():
    agents = [
        {"agent_type": "NIC Switch agent", "host": "c1", "configurations": {"device_mappings": {"physnet1": ["ens3f0"], "physnet2": []}}},
        {"agent_type": "NIC Switch agent", "host": "c2", "configurations": {}},
        {"agent_type": "Open vSwitch agent", "host": "c3", "configurations": {"bridge_mappings": {"physnet1": "br-ex"}}},
    ]  # fmt: skip
    # a mapping with no device gives no VF; an OVS bridge mapping is no SR-IOV device
    assert neutron.device_physnets(agents) == {"c1": ["physnet1"], "c2": []}


def test_device_ports_give_vnic_types_and_physnets_per_server():
    ports = PORTS + [
        {"id": "p6", "device_id": "vm-2", "device_owner": "compute:nova", "binding:vnic_type": "macvtap",
         "binding:profile": {"physical_network": "physnet2", "pci_slot": "0000:3b:00.1"}},
        {"id": "p7", "device_id": "vm-2", "device_owner": "compute:nova", "binding:vnic_type": "direct",
         "binding:profile": {"physical_network": "physnet1"}},
        {"id": "p8", "device_id": "vm-8", "device_owner": "compute:nova", "binding:vnic_type": "accelerator-direct",
         "binding:profile": {"physical_network": "physnet1"}},
    ]  # fmt: skip
    assert compute.device_ports(ports) == {
        "vm-2": (["direct", "macvtap"], ["physnet1", "physnet2"]),
        "vm-3": (["vdpa"], []),
        "vm-5": (["direct-physical"], []),
        "vm-8": (["accelerator-direct"], []),  # an accelerator's physnet is not a VF it needs
    }
