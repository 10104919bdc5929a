"""Ironic twin: nodes, fields, microversions, power transitions and refusals (plain HTTP)."""

from __future__ import annotations

import json
import re

import pytest
import requests
from rest_twin import Rest, load_stores, topology, wait_for

from vigil_twin.errors import TopologyError

B = "/baremetal/v1"
MV = {"X-OpenStack-Ironic-API-Version": "1.78"}


@pytest.fixture
def cloud(twin_factory):
    return twin_factory(topology(), speed=20)


@pytest.fixture
def admin(cloud):
    return Rest(cloud)


def _fault(resp: requests.Response) -> str:
    return json.loads(resp.json()["error_message"])["faultstring"]


def _power(api: Rest, node: str, target: str) -> requests.Response:
    return api("PUT", f"{B}/nodes/{node}/states/power", {"target": target}, headers=MV)


@pytest.mark.parametrize(
    ("baremetal", "message"),
    [
        ([{"name": "x", "compute_hostname": "ghost"}], "baremetal[0].compute_hostname: unknown compute node 'ghost'"),
        ([{"name": "x", "power_state": "sideways"}], "baremetal[0].power_state"),
        ([{"name": "x", "provision_state": "flying"}], "baremetal[0].provision_state"),
        ([{"name": "x"}, {"name": "x"}], "baremetal[1].name: duplicate 'x'"),
        (
            [{"name": "a", "compute_hostname": "cmp-1"}, {"name": "b", "compute_hostname": "cmp-1"}],
            "baremetal[1].compute_hostname: 'cmp-1' is already linked",
        ),
    ],
)
def test_bad_topology_names_the_field(baremetal, message):
    with pytest.raises(TopologyError, match=re.escape(message)):
        load_stores(topology(baremetal=baremetal))


def test_versions_and_microversion_headers(cloud, admin):
    root = requests.get(f"{cloud.url}/baremetal/", timeout=10).json()
    assert root["default_version"]["version"] == "1.96"
    resp = admin.get(f"{B}/nodes", headers=MV)
    assert resp.headers["X-OpenStack-Ironic-API-Version"] == "1.78"
    too_new = admin.get(f"{B}/nodes", headers={"X-OpenStack-Ironic-API-Version": "1.200"})
    assert too_new.status_code == 406
    assert too_new.headers["X-OpenStack-Ironic-API-Maximum-Version"] == "1.96"


def test_nodes_list_detail_fields_and_link(cloud, admin):
    listed = admin.get(f"{B}/nodes", headers=MV).json()["nodes"]
    assert {n["name"] for n in listed} == {"bm-1", "bm-spare"}
    assert set(listed[0]) == {"uuid", "name", "instance_uuid", "power_state", "provision_state", "maintenance", "links"}
    detail = {n["name"]: n for n in admin.get(f"{B}/nodes/detail", headers=MV).json()["nodes"]}
    assert detail["bm-1"]["extra"] == {"compute_hostname": "cmp-1"}
    assert detail["bm-1"]["properties"]["cpus"] == 32
    assert detail["bm-spare"]["power_state"] == "power off"
    picked = admin.get(f"{B}/nodes?fields=name,power_state,extra", headers=MV).json()["nodes"]
    assert all(set(n) == {"name", "power_state", "extra"} for n in picked)
    assert admin.get(f"{B}/nodes?fields=name,colour", headers=MV).status_code == 400
    paged = admin.get(f"{B}/nodes?limit=1", headers=MV).json()
    assert len(paged["nodes"]) == 1 and "marker=" in paged["next"]
    avail = admin.get(f"{B}/nodes?provision_state=available", headers=MV).json()["nodes"]
    assert [n["name"] for n in avail] == ["bm-spare"]
    assert admin.get(f"{B}/nodes/ghost", headers=MV).status_code == 404
    by_uuid = admin.get(f"{B}/nodes/{detail['bm-1']['uuid']}", headers=MV).json()
    assert by_uuid["name"] == "bm-1"


def test_power_off_then_on(cloud, admin):
    assert _power(admin, "bm-1", "power off").status_code == 202
    states = admin.get(f"{B}/nodes/bm-1/states", headers=MV).json()
    assert states["power_state"] == "power on" and states["target_power_state"] == "power off"
    busy = _power(admin, "bm-1", "power on")
    assert busy.status_code == 409 and "locked" in _fault(busy)
    wait_for(lambda: admin.get(f"{B}/nodes/bm-1", headers=MV).json()["power_state"] == "power off", "power off")
    node = admin.get(f"{B}/nodes/bm-1", headers=MV).json()
    assert node["target_power_state"] is None and node["last_error"] is None
    assert cloud.cloud.stores["compute"].nodes["cmp-1"]["state"] == "down", "nova-compute stops reporting"
    assert _power(admin, "bm-1", "power on").status_code == 202
    wait_for(lambda: admin.get(f"{B}/nodes/bm-1", headers=MV).json()["power_state"] == "power on", "power on")
    assert cloud.cloud.stores["compute"].nodes["cmp-1"]["state"] == "up"


def test_power_refusals(cloud, admin):
    bad = _power(admin, "bm-1", "power sideways")
    assert bad.status_code == 400 and "Invalid state" in _fault(bad)
    old = admin("PUT", f"{B}/nodes/bm-1/states/power", {"target": "soft power off"})
    assert old.status_code == 406, "soft power actions need 1.27"
    assert admin("PUT", f"{B}/nodes/bm-1/states/power", {}, headers=MV).status_code == 400
    assert _power(admin, "ghost", "power off").status_code == 404


def test_power_off_refused_fault(cloud, admin):
    assert admin("PUT", "/admin/faults", {"named": [{"kind": "power_off_refused", "target": "bm-1"}]}).ok
    assert _power(admin, "bm-1", "power off").status_code == 202
    node = wait_for(
        lambda: (n := admin.get(f"{B}/nodes/bm-1", headers=MV).json())["target_power_state"] is None and n, "refusal"
    )
    assert node["power_state"] == "power on"
    assert "power off" in node["last_error"]
    assert cloud.cloud.stores["compute"].nodes["cmp-1"]["state"] == "up"


def test_maintenance_set_and_unset(cloud, admin):
    assert admin("PUT", f"{B}/nodes/bm-1/maintenance", {"reason": "disk swap"}, headers=MV).status_code == 202
    node = admin.get(f"{B}/nodes/bm-1", headers=MV).json()
    assert node["maintenance"] is True and node["maintenance_reason"] == "disk swap"
    only = admin.get(f"{B}/nodes?maintenance=true", headers=MV).json()["nodes"]
    assert [n["name"] for n in only] == ["bm-1"]
    assert admin("DELETE", f"{B}/nodes/bm-1/maintenance", headers=MV).status_code == 202
    node = admin.get(f"{B}/nodes/bm-1", headers=MV).json()
    assert node["maintenance"] is False and node["maintenance_reason"] is None


def test_snapshot_restore_keeps_power_state(cloud, admin):
    snap = requests.get(f"{cloud.url}/admin/snapshot", timeout=10).json()
    assert _power(admin, "bm-1", "power off").status_code == 202
    wait_for(lambda: admin.get(f"{B}/nodes/bm-1", headers=MV).json()["power_state"] == "power off", "power off")
    assert requests.post(f"{cloud.url}/admin/restore", json=snap, timeout=10).status_code == 204
    assert admin.get(f"{B}/nodes/bm-1", headers=MV).json()["power_state"] == "power on"


def test_ports_one_per_node_and_filters(admin, cloud):
    nodes = admin.get(f"{B}/nodes", headers=MV).json()["nodes"]
    ports = admin.get(f"{B}/ports/detail", headers=MV).json()["ports"]
    assert sorted(p["node_uuid"] for p in ports) == sorted(n["uuid"] for n in nodes)
    assert len({p["address"] for p in ports}) == len(ports)
    first = ports[0]
    assert first["pxe_enabled"] is True and "physical_network" in first
    by_node = admin.get(f"{B}/nodes/{first['node_uuid']}/ports", headers=MV).json()["ports"]
    assert [p["uuid"] for p in by_node] == [first["uuid"]]
    by_address = admin.get(f"{B}/ports?address={first['address']}", headers=MV).json()["ports"]
    assert [p["uuid"] for p in by_address] == [first["uuid"]] and set(by_address[0]) == {"uuid", "address", "links"}
    assert admin.get(f"{B}/ports/{first['uuid']}", headers=MV).json()["node_uuid"] == first["node_uuid"]
    assert admin.get(f"{B}/ports/nope", headers=MV).status_code == 404


def test_drivers_are_the_hardware_types_in_use(admin, cloud):
    used = {n["driver"] for n in cloud.cloud.stores["baremetal"].nodes.values()}
    drivers = admin.get(f"{B}/drivers", headers=MV).json()["drivers"]
    assert {d["name"] for d in drivers} == used | {"ipmi"}
    assert all(d["type"] == "dynamic" and d["hosts"] == ["conductor-1"] for d in drivers)
    assert admin.get(f"{B}/drivers/ipmi", headers=MV).json()["name"] == "ipmi"
    assert admin.get(f"{B}/drivers/fake", headers=MV).status_code == 404
