"""Glance and Neutron through openstacksdk: image properties, networks, segments, ports, agents."""

from __future__ import annotations

import pytest


def test_images_carry_properties(conn):
    images = list(conn.image.images())
    assert images
    props = {}
    for img in images:
        props.update(img.properties or {})
    assert any(k.startswith("trait:") for k in props) or any(k.startswith("hw_") for k in props)
    servers = [s for s in conn.compute.servers(all_projects=True) if s.image and s.image.get("id")]
    ids = {i.id for i in images}
    assert all(s.image["id"] in ids for s in servers), "every server's image is listed"


def test_networks_and_segments(conn):
    nets = list(conn.network.networks())
    assert nets
    segments = list(conn.network.segments())
    assert {s.network_id for s in segments} <= {n.id for n in nets}


def test_ports_bound_to_server_hosts(conn):
    servers = [s for s in conn.compute.servers(all_projects=True) if s.status == "ACTIVE"][:5]
    assert servers
    for server in servers:
        ports = list(conn.network.ports(device_id=server.id))
        assert ports, f"{server.name} has no port"
        assert {p.binding_host_id for p in ports} == {server.compute_host}


def test_port_follows_live_migration(conn, waiter):
    from twin_contract_helpers import pick_move

    server, dest = pick_move(conn)
    conn.compute.live_migrate_server(server, host=dest, block_migration="auto")
    waiter(lambda: (s := conn.compute.get_server(server.id)).status == "ACTIVE" and s.compute_host == dest, "migration")
    ports = list(conn.network.ports(device_id=server.id))
    assert ports and {p.binding_host_id for p in ports} == {dest}


def test_agents_per_compute_host(conn):
    hosts = {h.service_details["host"] for h in conn.compute.hypervisors(details=True)}
    agents = list(conn.network.agents())
    l2 = {
        a.host for a in agents if a.agent_type in ("Open vSwitch agent", "OVN Controller agent", "Linux bridge agent")
    }
    assert hosts <= l2
    services = {s.host: s.state for s in conn.compute.services(binary="nova-compute")}
    for agent in agents:
        if agent.host in services and agent.agent_type == "Open vSwitch agent":
            assert agent.is_alive == (services[agent.host] == "up")


def test_sriov_ports_have_vnic_direct(conn):
    direct = list(conn.network.ports(binding_vnic_type="direct"))
    if not direct:
        pytest.skip("no SR-IOV port in this cloud")
    assert all(p.device_id for p in direct)


def _list(conn, collection, **params):
    return conn.network.get(f"/{collection}", params=params, raise_exc=False)


def test_vnic_type_is_not_a_port_filter(conn):
    # Neutron's filter_validation (on by default) refuses attributes neutron-lib does not mark
    # is_filter; vigil's collector once sent this one and failed on every real cloud.
    resp = _list(conn, "ports", **{"binding:vnic_type": "direct", "fields": "id"})
    assert resp.status_code == 400, resp.text
    assert resp.json() == {
        "NeutronError": {
            "type": "HTTPBadRequest",
            "message": "['binding:vnic_type'] is invalid attribute for filtering",
            "detail": "",
        }
    }


@pytest.mark.parametrize(
    ("collection", "name", "accepted"),
    [
        ("ports", "binding:host_id", True),
        ("ports", "device_id", True),
        ("ports", "device_owner", True),
        ("ports", "status", True),
        ("ports", "network_id", True),
        ("ports", "binding:vif_type", False),
        ("ports", "binding:profile", False),
        ("ports", "port_security_enabled", False),
        ("networks", "provider:network_type", True),
        ("networks", "shared", True),
        ("networks", "subnets", False),
        ("subnets", "network_id", True),
        ("subnets", "allocation_pools", False),
        ("segments", "network_id", True),
        ("segments", "segmentation_id", False),
        ("agents", "host", True),
        ("agents", "agent_type", True),
        ("agents", "alive", True),
        ("agents", "configurations", False),
    ],
)
def test_which_attributes_filter(conn, collection, name, accepted):
    resp = _list(conn, collection, **{name: "true" if name in ("shared", "alive") else "x", "fields": "id"})
    if accepted:
        assert resp.status_code == 200, resp.text
    else:
        assert resp.status_code == 400 and "is invalid attribute for filtering" in resp.text, resp.text


def test_boolean_filter_refuses_a_non_boolean(conn):
    resp = _list(conn, "networks", shared="maybe")
    assert resp.status_code == 400, resp.text
    assert resp.json()["NeutronError"]["type"] == "InvalidInput"
    assert (
        resp.json()["NeutronError"]["message"] == "Invalid input for operation: 'maybe' cannot be converted to boolean."
    )
    assert _list(conn, "networks", shared="TRUE").status_code == 200


def test_ports_without_limit_come_in_one_answer(conn):
    resp = _list(conn, "ports", fields=["id", "binding:vnic_type"])
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert "ports_links" not in body, "a server that pages without limit: pagination_max_limit is set"
    assert body["ports"] and all(set(p) == {"id", "binding:vnic_type"} for p in body["ports"])
