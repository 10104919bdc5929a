"""Ironic through openstacksdk: nodes, fields, power off/on end to end, maintenance."""

from __future__ import annotations

import openstack
import pytest


def _linked_on(conn):
    """A powered-on node linked to a compute host (``extra.compute_hostname``)."""
    for node in conn.baremetal.nodes(details=True):
        if node.power_state == "power on" and (node.extra or {}).get("compute_hostname") and not node.is_maintenance:
            return node
    pytest.skip("no powered-on node linked to a compute host")


def test_nodes_detail_and_fields(conn):
    nodes = list(conn.baremetal.nodes(details=True))
    assert nodes
    hosts = {h.service_details["host"] for h in conn.compute.hypervisors(details=True)}
    linked = [n for n in nodes if (n.extra or {}).get("compute_hostname")]
    assert linked and all(n.extra["compute_hostname"] in hosts for n in linked)
    slim = list(conn.baremetal.nodes(fields=["uuid", "name", "power_state"]))
    assert {n.id for n in slim} == {n.id for n in nodes}
    assert all(n.provision_state is None for n in slim), "fields limits what comes back"
    one = conn.baremetal.get_node(linked[0].name)
    assert one.id == linked[0].id


def test_power_off_and_on_end_to_end(conn):
    node = _linked_on(conn)
    conn.baremetal.set_node_power_state(node, "power off", wait=True, timeout=60)
    off = conn.baremetal.get_node(node.id)
    assert off.power_state == "power off" and off.target_power_state is None and not off.last_error
    conn.baremetal.set_node_power_state(node, "power on", wait=True, timeout=60)
    assert conn.baremetal.get_node(node.id).power_state == "power on"


def test_invalid_power_target_refused(conn):
    node = _linked_on(conn)
    with pytest.raises(openstack.exceptions.BadRequestException):
        conn.baremetal.set_node_power_state(node, "power sideways")


def test_maintenance_set_unset(conn):
    node = _linked_on(conn)
    conn.baremetal.set_node_maintenance(node, reason="vigil contract")
    got = conn.baremetal.get_node(node.id)
    assert got.is_maintenance and got.maintenance_reason == "vigil contract"
    conn.baremetal.unset_node_maintenance(node)
    got = conn.baremetal.get_node(node.id)
    assert not got.is_maintenance and got.maintenance_reason is None


def test_power_off_refused_fault(conn, twin_only, waiter):
    import requests

    node = _linked_on(conn)
    fault = {"named": [{"kind": "power_off_refused", "target": node.id}]}
    assert requests.put(f"{twin_only.url}/admin/faults", json=fault, timeout=10).ok
    conn.baremetal.set_node_power_state(node, "power off")
    got = waiter(lambda: (n := conn.baremetal.get_node(node.id)).target_power_state is None and n, "refusal")
    assert got.power_state == "power on"
    assert got.last_error
