"""Load added while a plan runs: flavors created, servers booted (scheduled through the twin's
Placement) and deleted, seen through openstacksdk as an operator's script would."""

from __future__ import annotations

import copy
import time

import openstack
import pytest

from vigil_twin.testing import write_clouds_yaml

TIGHT = {
    "flavors": [{"name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 10}],
    "nodes": [
        {"hostname": "compute-1", "vcpus": 4, "memory_mb": 8192, "disk_gb": 100, "az": "az1"},
        {"hostname": "compute-2", "vcpus": 4, "memory_mb": 8192, "disk_gb": 100, "az": "az2"},
    ],
    "server_groups": [{"name": "spread", "policy": "anti-affinity"}],
    "servers": [{"name": "old-1", "flavor": "m1.small", "host": "compute-1", "server_groups": ["spread"]}],
    "timing": {"boot_seconds": 0.5},
}


@pytest.fixture
def conn(twin_factory, tmp_path, monkeypatch):
    twin = twin_factory(copy.deepcopy(TIGHT), speed=10.0)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", write_clouds_yaml(twin, tmp_path / "clouds.yaml"))
    c = openstack.connect(cloud="vigil-twin")
    c.twin = twin
    return c


def _usage(conn, host):
    rp = next(conn.placement.resource_providers(name=host))
    return conn.placement.get(f"/resource_providers/{rp.id}/usages").json()["usages"]


def _boot(conn, name, flavor, **kw):
    image = next(conn.image.images())
    net = next(conn.network.networks())
    server = conn.compute.create_server(
        name=name, flavor_id=flavor.id, image_id=image.id, networks=[{"uuid": net.id}], **kw
    )
    return conn.compute.wait_for_server(server, status="ACTIVE", failures=["ERROR"], interval=0.1, wait=20)


def test_flavor_created_then_booted_lands_where_it_fits(conn):
    big = conn.compute.create_flavor(name="m1.big", ram=6144, vcpus=2, disk=10)
    assert conn.compute.find_flavor("m1.big").ram == 6144
    server = _boot(conn, "new-1", big)
    # compute-1 has 2048 MB used of 8192: 6144 fits on either, the RAM weigher picks the emptier compute-2
    assert server.compute_host == "compute-2"
    assert _usage(conn, "compute-2")["MEMORY_MB"] == 6144
    allocs = conn.placement.get(f"/allocations/{server.id}").json()["allocations"]
    assert [a["resources"]["MEMORY_MB"] for a in allocs.values()] == [6144]
    # a second one fits nowhere: ERROR with Nova's fault, no allocation
    failed = conn.compute.create_server(
        name="new-2", flavor_id=big.id, image_id=next(conn.image.images()).id, networks="auto"
    )
    failed = conn.compute.wait_for_server(failed, status="ERROR", failures=[], interval=0.1, wait=20)
    assert "No valid host was found" in failed.fault["message"]
    assert conn.placement.get(f"/allocations/{failed.id}").json()["allocations"] == {}


def test_boot_honours_availability_zone_and_group(conn):
    flavor = conn.compute.find_flavor("m1.small")
    in_az1 = _boot(conn, "az-1", flavor, availability_zone="az1")
    assert in_az1.compute_host == "compute-1"
    for i in range(2):  # compute-2 as full as compute-1: the RAM weigher alone would pick compute-1 (by name)
        assert _boot(conn, f"filler-{i}", flavor, availability_zone="az2").compute_host == "compute-2"
    group = conn.compute.find_server_group("spread", all_projects=True)
    spread = _boot(conn, "spread-2", flavor, scheduler_hints={"group": group.id})
    assert spread.compute_host == "compute-2"  # old-1 is in the anti-affinity group on compute-1
    assert spread.id in conn.compute.get_server_group(group.id).member_ids


def test_booted_server_has_a_port_and_addresses(conn):
    server = _boot(conn, "with-port", conn.compute.find_flavor("m1.small"))
    ports = list(conn.network.ports(device_id=server.id))
    assert len(ports) == 1 and ports[0].binding_host_id == server.compute_host
    ip = ports[0].fixed_ips[0]["ip_address"]
    assert [a["addr"] for addrs in server.addresses.values() for a in addrs] == [ip]
    actions = list(conn.compute.server_actions(server))
    assert [a.action for a in actions] == ["create"]


def test_delete_frees_allocations_and_ports(conn):
    server = _boot(conn, "short-lived", conn.compute.find_flavor("m1.small"))
    host = server.compute_host
    before = _usage(conn, host)["MEMORY_MB"]
    port = next(conn.network.ports(device_id=server.id))
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, interval=0.1, wait=10)
    assert _usage(conn, host)["MEMORY_MB"] == before - 2048
    assert conn.placement.get(f"/allocations/{server.id}").json()["allocations"] == {}
    assert conn.network.find_port(port.id) is None
    assert "short-lived" not in [s.name for s in conn.compute.servers(all_projects=True)]
    # the address is free again: the next server gets it
    again = _boot(conn, "next", conn.compute.find_flavor("m1.small"))
    assert next(conn.network.ports(device_id=again.id)).fixed_ips[0]["ip_address"] == port.fixed_ips[0]["ip_address"]


def test_create_refusals_name_the_problem(conn):
    image = next(conn.image.images())
    with pytest.raises(openstack.exceptions.BadRequestException, match="Flavor nope could not be found"):
        conn.compute.create_server(name="x", flavor_id="nope", image_id=image.id, networks="auto")
    with pytest.raises(openstack.exceptions.ConflictException, match="Flavor with name m1.small already exists"):
        conn.compute.create_flavor(name="m1.small", ram=1, vcpus=1, disk=1)
    with pytest.raises(openstack.exceptions.BadRequestException, match="less than the minimum of 1"):
        conn.compute.create_flavor(name="zero", ram=0, vcpus=1, disk=1)
    assert conn.compute.find_flavor("zero") is None
    assert [s.name for s in conn.compute.servers(all_projects=True)] == ["old-1"]


def test_delete_refused_while_migrating(conn):
    old = conn.compute.find_server("old-1", all_projects=True)
    conn.compute.live_migrate_server(old, host="compute-2", block_migration="auto")
    with pytest.raises(openstack.exceptions.ConflictException, match="task_state migrating"):
        conn.compute.delete_server(old)
    deadline = time.monotonic() + 20
    while conn.compute.get_server(old).task_state is not None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    conn.compute.delete_server(old)
    conn.compute.wait_for_delete(old, interval=0.1, wait=10)
