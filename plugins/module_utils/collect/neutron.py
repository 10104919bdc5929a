# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Neutron collector: SR-IOV / PCI ports (they pin a server to cold migration and need a device
on the destination: vnic type and ``binding:profile`` physical network) and agents (a host whose
L2 agent is dead cannot bind the ports of an arriving server; a NIC Switch agent's
device_mappings say on which physical networks a host has VFs).

Requests: 1 for every port with only the fields the model needs (Neutron's default
``pagination_max_limit = -1`` answers a listing without ``limit`` in one page; next links are
followed if a server pages anyway), 1 for agents.

Ports are not filtered on ``binding:vnic_type`` by the server: that attribute is not a filter
in neutron-lib, so Neutron (``filter_validation = true``, its default) answers 400
"['binding:vnic_type'] is invalid attribute for filtering". The vnic type is read on the client.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.collect import endpoint, rest
from ansible_collections.vigil.openstack.plugins.module_utils.model.compute import SRIOV_VNIC_TYPES

SERVICE = "network"
PORT_FIELDS = ("id", "device_id", "device_owner", "binding:vnic_type", "binding:host_id", "binding:profile")
SRIOV_AGENT_TYPE = "NIC Switch agent"
L2_AGENT_TYPES = (
    "Open vSwitch agent",
    "Linux bridge agent",
    "NIC Switch agent",
    "OVN Controller agent",
    "OVN Controller Gateway agent",
)


def sriov_ports(ad):
    """Ports whose vnic type puts a device (VF, PF, vDPA...) in the server, selected here."""
    # Repeated fields select only the columns the model reads, which keeps 20 000 ports small.
    path = endpoint.versioned(ad, "/ports", "v2.0")
    ports = rest.paginate(ad, path, SERVICE, "ports", params={"fields": list(PORT_FIELDS)}, limit=None)
    return [p for p in ports if p.get("binding:vnic_type") in SRIOV_VNIC_TYPES]


def agents(ad):
    path = endpoint.versioned(ad, "/agents", "v2.0")
    return rest.get_json(ad, path, SERVICE).get("agents") or []


def dead_l2_hosts(agent_list):
    """Hosts whose L2 agent is not alive or administratively down."""
    return sorted(
        set(
            a.get("host")
            for a in agent_list or []
            if a.get("agent_type") in L2_AGENT_TYPES and not (a.get("alive") and a.get("admin_state_up", True))
        )
    )


def device_physnets(agent_list):
    """``{host: [physnets]}`` on which the host's NIC Switch agent maps SR-IOV devices (its
    ``[sriov_nic] physical_device_mappings``, reported as ``configurations.device_mappings``)."""
    out = {}
    for a in agent_list or []:
        if a.get("agent_type") == SRIOV_AGENT_TYPE and a.get("host"):
            mappings = (a.get("configurations") or {}).get("device_mappings") or {}
            out.setdefault(a["host"], set()).update(k for k, v in mappings.items() if v)
    return dict((h, sorted(n)) for h, n in out.items())


def collect(conn, with_agents=True):
    ad = endpoint.adapter(conn, SERVICE)
    out = {"ports": sriov_ports(ad), "agents": None}
    if with_agents:
        try:
            out["agents"] = agents(ad)
        except rest.CollectError as err:
            # The agents extension is absent with some ML2 backends; ports still count.
            if err.kind not in ("not_found",):
                raise
    return out
