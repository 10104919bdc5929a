"""Glance and Neutron twins: image properties, networks, segments, ports that follow their server, agents."""

from __future__ import annotations

import re

import pytest
import requests
from rest_twin import Rest, load_stores, topology, wait_for

from vigil_twin.errors import TopologyError
from vigil_twin.topology import stable_uuid


@pytest.fixture
def cloud(twin_factory):
    return twin_factory(topology(), speed=50)


@pytest.fixture
def admin(cloud):
    return Rest(cloud)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"images": [{"name": "x", "properties": {"size": 3}}]}, "images[0].properties.size"),
        ({"images": [{"name": "x", "visibility": "secret"}]}, "images[0].visibility"),
        ({"networks": [{"name": "n", "network_type": "vlan"}]}, "networks[0].physical_network: required"),
        ({"networks": [{"name": "n", "network_type": "token-ring"}]}, "networks[0].network_type"),
        (
            {"servers": [{"name": "s", "flavor": "m1.small", "host": "cmp-1", "ports": ["nowhere"]}], "volumes": []},
            "servers[s].ports[0].network: unknown network 'nowhere'",
        ),
        (
            {
                "servers": [
                    {
                        "name": "s",
                        "flavor": "m1.small",
                        "host": "cmp-1",
                        "ports": [{"network": "private", "vnic_type": "x"}],
                    }
                ],
                "volumes": [],
            },
            "servers[s].ports[0].vnic_type",
        ),
    ],  # fmt: skip
)
def test_bad_topology_names_the_field(change, message):
    with pytest.raises(TopologyError, match=re.escape(message)):
        load_stores(topology(**change))


def test_images_with_properties(cloud, admin):
    root = requests.get(f"{cloud.url}/image/", timeout=10)
    assert root.status_code == 300 and root.json()["versions"][0]["id"] == "v2.16"
    images = {i["name"]: i for i in admin.get("/image/v2/images").json()["images"]}
    assert {"ubuntu", "cirros"} <= set(images), "cirros: the default image servers boot from"
    ubuntu = images["ubuntu"]
    assert ubuntu["id"] == stable_uuid("image", "ubuntu")
    assert ubuntu["hw_cpu_policy"] == "dedicated" and ubuntu["trait:CUSTOM_GPU"] == "required"
    assert admin.get(f"/image/v2/images/{ubuntu['id']}").json()["name"] == "ubuntu"
    assert admin.get("/image/v2/images/00000000-0000-0000-0000-000000000000").status_code == 404
    one = admin.get("/image/v2/images?limit=1").json()
    assert len(one["images"]) == 1 and one["next"].startswith("/v2/images?marker=")


def test_networks_segments_subnets(cloud, admin):
    nets = {n["name"]: n for n in admin.get("/network/v2.0/networks").json()["networks"]}
    assert nets["sriov"]["provider:network_type"] == "vlan"
    assert nets["sriov"]["provider:physical_network"] == "physnet1"
    segs = admin.get(f"/network/v2.0/segments?network_id={nets['sriov']['id']}").json()["segments"]
    assert [(s["network_type"], s["segmentation_id"]) for s in segs] == [("vlan", 100)]
    subnets = admin.get("/network/v2.0/subnets").json()["subnets"]
    assert [s["cidr"] for s in subnets] == ["10.0.0.0/16"]
    assert admin.get("/network/v2.0/networks/nope").status_code == 404
    assert admin.get("/network/v2.0/networks/nope").json()["NeutronError"]["type"] == "NetworkNotFound"


def test_ports_follow_their_server(cloud, admin):
    compute = cloud.cloud.stores["compute"]
    vm3 = compute.server_by_name["vm-3"]
    ports = admin.get(f"/network/v2.0/ports?device_id={vm3}").json()["ports"]
    assert sorted(p["binding:vnic_type"] for p in ports) == ["direct", "normal"]
    assert {p["binding:host_id"] for p in ports} == {"cmp-2"}
    normal = next(p for p in ports if p["binding:vnic_type"] == "normal")
    # a live migration through Nova moves the port binding with the server
    nova = {"X-OpenStack-Nova-API-Version": "2.96"}
    body = {"os-migrateLive": {"host": "cmp-3", "block_migration": "auto"}}
    moved = admin("POST", f"/compute/v2.1/servers/{vm3}/action", body, headers=nova)
    assert moved.status_code == 202, moved.text
    wait_for(
        lambda: admin.get(f"/network/v2.0/ports/{normal['id']}").json()["port"]["binding:host_id"] == "cmp-3",
        "port follows the server",
    )
    on_cmp3 = admin.get("/network/v2.0/ports?binding:host_id=cmp-3").json()["ports"]
    assert {p["device_id"] for p in on_cmp3} == {vm3}


def test_member_sees_own_ports_without_binding(cloud):
    member = Rest(cloud, "demo", "demo")
    ports = member.get("/network/v2.0/ports").json()["ports"]
    vm_ids = {cloud.cloud.stores["compute"].server_by_name[n] for n in ("vm-1", "vm-2")}
    assert {p["device_id"] for p in ports} == vm_ids
    assert all("binding:host_id" not in p for p in ports)
    assert member.get("/network/v2.0/agents").status_code == 403


def test_agents_per_host_follow_compute_state(cloud, admin):
    agents = admin.get("/network/v2.0/agents?agent_type=Open vSwitch agent").json()["agents"]
    assert {a["host"] for a in agents} == {"controller", "cmp-1", "cmp-2", "cmp-3"}
    assert all(a["alive"] for a in agents)
    sriov = admin.get("/network/v2.0/agents?binary=neutron-sriov-nic-agent").json()["agents"]
    assert {a["host"] for a in sriov} == {"cmp-1", "cmp-2", "cmp-3"}
    cloud.cloud.stores["compute"].nodes["cmp-1"]["state"] = "down"  # what a host failure does to the store
    dead = admin.get("/network/v2.0/agents?host=cmp-1&alive=false").json()["agents"]
    assert {a["binary"] for a in dead} == {"neutron-openvswitch-agent", "neutron-sriov-nic-agent"}


def test_agents_down_from_topology(twin_factory):
    twin = twin_factory(topology(network_agents_down=["cmp-2"]))
    agents = Rest(twin).get("/network/v2.0/agents?host=cmp-2").json()["agents"]
    assert agents and not any(a["alive"] for a in agents)


def test_fast_ids_match_stable_uuid():
    from vigil_twin.services._support import uid

    for kind, name in [("port", "vm-1:0"), ("volume", "db-1-data"), ("image", "cirros"), ("server", "ü")]:
        assert uid(kind, name) == stable_uuid(kind, name)


def test_ports_paginate_with_fields(cloud, admin):
    first = admin.get("/network/v2.0/ports?limit=2&fields=name").json()
    assert len(first["ports"]) == 2 and all(set(p) == {"name"} for p in first["ports"])
    nxt = first["ports_links"][0]["href"]
    rest = admin.session.get(nxt, timeout=10).json()["ports"]
    everything = admin.get("/network/v2.0/ports").json()["ports"]
    assert len(first["ports"]) + len(rest) == len(everything)
    assert {p["status"] for p in admin.get("/network/v2.0/ports?status=ACTIVE").json()["ports"]} == {"ACTIVE"}


def test_ports_refuse_vnic_type_filter_as_neutron_does(admin):
    # Neutron 29 with filter_validation = true (its default): binding:vnic_type is not is_filter
    resp = admin.get("/network/v2.0/ports?binding:vnic_type=direct&fields=id")
    assert resp.status_code == 400
    assert resp.json() == {
        "NeutronError": {
            "type": "HTTPBadRequest",
            "message": "['binding:vnic_type'] is invalid attribute for filtering",
            "detail": "",
        }
    }
    both = admin.get("/network/v2.0/ports?binding:vif_type=ovs&device_id=x&port_security_enabled=true")
    assert both.status_code == 400
    assert both.json()["NeutronError"]["message"] == (
        "['binding:vif_type', 'port_security_enabled'] is invalid attribute for filtering"
    )


@pytest.mark.parametrize(
    ("collection", "query"),
    [
        ("networks", "provider:network_type=vlan&router:external=false"),
        ("subnets", "ip_version=4&cidr=10.0.0.0/16"),
        ("segments", "network_type=vxlan&physical_network="),
        ("agents", "host=cmp-1&agent_type=Open vSwitch agent&alive=true"),
        ("ports", "binding:host_id=cmp-1&status=ACTIVE&device_owner=compute:nova&project_id=x"),
    ],
)
def test_neutron_filters_accepted(admin, collection, query):
    assert admin.get(f"/network/v2.0/{collection}?{query}").status_code == 200


@pytest.mark.parametrize(
    ("collection", "name"),
    [
        ("networks", "port_security_enabled"),
        ("networks", "subnets"),
        ("subnets", "allocation_pools"),
        ("agents", "configurations"),
    ],
)
def test_neutron_unknown_filters_refused(admin, collection, name):
    resp = admin.get(f"/network/v2.0/{collection}?{name}=1")
    assert resp.status_code == 400
    assert resp.json()["NeutronError"]["message"] == f"['{name}'] is invalid attribute for filtering"


def test_ports_one_answer_without_limit_unless_the_server_caps_pages(twin_factory):
    # Neutron's pagination_max_limit defaults to -1: no limit asked, no page cap, no next link
    servers = [{"name": f"s{i}", "flavor": "m1.small", "host": "cmp-1"} for i in range(5)]
    uncapped = Rest(twin_factory(topology(servers=servers, volumes=[]))).get("/network/v2.0/ports?fields=id").json()
    assert len(uncapped["ports"]) == 5 and "ports_links" not in uncapped
    capped = twin_factory(topology(servers=servers, volumes=[], network_pagination_max_limit=2))
    first = Rest(capped).get("/network/v2.0/ports?fields=id").json()
    assert len(first["ports"]) == 2 and first["ports_links"][0]["rel"] == "next"


def test_subnet_has_gateway_pools_and_show(admin):
    subnet = admin.get("/network/v2.0/subnets").json()["subnets"][0]
    assert subnet["gateway_ip"] == "10.0.0.1"
    assert subnet["allocation_pools"] == [{"start": "10.0.0.2", "end": "10.0.255.254"}]
    shown = admin.get(f"/network/v2.0/subnets/{subnet['id']}").json()["subnet"]
    assert shown == subnet
    missing = admin.get("/network/v2.0/subnets/nope")
    assert missing.status_code == 404 and missing.json()["NeutronError"]["type"] == "SubnetNotFound"


def test_no_two_ports_share_an_address_and_fixed_ips_filter(admin):
    ports = admin.get("/network/v2.0/ports").json()["ports"]
    addresses = [ip["ip_address"] for p in ports for ip in p["fixed_ips"]]
    assert len(addresses) == len(set(addresses)) > 1
    assert "10.0.0.1" not in addresses  # the gateway's
    one = ports[1]
    ip = one["fixed_ips"][0]["ip_address"]
    found = admin.get(f"/network/v2.0/ports?fixed_ips=ip_address={ip}").json()["ports"]
    assert [p["id"] for p in found] == [one["id"]]
    subnet = one["fixed_ips"][0]["subnet_id"]
    both = admin.get(f"/network/v2.0/ports?fixed_ips=ip_address={ip}&fixed_ips=subnet_id={subnet}").json()
    assert [p["id"] for p in both["ports"]] == [one["id"]]
    assert admin.get("/network/v2.0/ports?fixed_ips=ip_address=10.9.9.9").json()["ports"] == []
    assert admin.get("/network/v2.0/ports?fixed_ips=mac=1").status_code == 400


def test_topology_fixed_ips_are_kept_out_of_the_pool(twin_factory):
    topo = topology(ports=[{"name": "vip", "network": "private", "fixed_ip": "10.0.0.2"}])
    twin = twin_factory(topo)
    ports = twin.cloud.stores["network"].ports.values()
    owners = {ip["ip_address"]: p["name"] for p in ports for ip in p["fixed_ips"]}
    assert owners["10.0.0.2"] == "vip"
    assert len(owners) == sum(len(p["fixed_ips"]) for p in ports)  # one owner per address
    dup = topology(ports=[{"name": n, "network": "private", "fixed_ip": "10.0.0.9"} for n in ("a", "b")])
    with pytest.raises(TopologyError, match="10.0.0.9 is already allocated"):
        twin_factory(dup)
