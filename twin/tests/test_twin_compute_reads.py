"""Nova reads beyond the contract suite: addresses from Neutron, server groups at 2.71, flavor
paging and filters, keypairs, limits, quotas, usage, diagnostics, metadata, uptime, heartbeats."""

from __future__ import annotations

import copy

import pytest
from twin_api import Api

TOPOLOGY = {
    "flavors": [
        {"name": "f.a", "id": "1", "vcpus": 1, "ram": 1024, "disk": 10},
        {"name": "f.b", "id": "2", "vcpus": 2, "ram": 4096, "disk": 20},
        {"name": "f.c", "id": "3", "vcpus": 4, "ram": 8192, "disk": 40},
    ],
    "nodes": [{"hostname": "compute-1", "vcpus": 16, "memory_mb": 32768, "disk_gb": 500}],
    "server_groups": [{"name": "together", "policy": "affinity"}],
    "servers": [
        {
            "name": "web-1",
            "flavor": "f.b",
            "host": "compute-1",
            "server_groups": ["together"],
            "key_name": "ops",
            "metadata": {"role": "web"},
            "cpu_util_pct": 50,
            "ram_util_pct": 25,
        },
        {"name": "web-2", "flavor": "f.a", "host": "compute-1", "key_name": "ops"},
    ],
}


@pytest.fixture
def api(twin_factory):
    return Api(twin_factory(copy.deepcopy(TOPOLOGY)))


def _sid(api, name):
    return api.twin.cloud.stores["compute"].server_by_name[name]


def test_addresses_come_from_the_bound_ports(api):
    server = api.server("web-1")
    ports = api.twin.cloud.stores["network"].by_device[server["id"]]
    port = api.twin.cloud.stores["network"].ports[ports[0]]
    assert server["addresses"] == {
        "private": [
            {
                "version": 4,
                "addr": port["fixed_ips"][0]["ip_address"],
                "OS-EXT-IPS:type": "fixed",
                "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
            }
        ]
    }


def test_server_groups_from_2_71(api):
    group = next(iter(api.twin.cloud.stores["compute"].groups))
    assert api.server("web-1")["server_groups"] == [group]
    assert api.server("web-2")["server_groups"] == []
    old = api.get(f"/servers/{_sid(api, 'web-1')}", mv="2.70").json()["server"]
    assert "server_groups" not in old


def test_flavors_page_and_filter(api):
    page = api.get("/flavors?limit=2").json()
    assert [f["id"] for f in page["flavors"]] == ["1", "2"]
    assert "marker=2" in page["flavors_links"][0]["href"]
    assert [f["id"] for f in api.get("/flavors?marker=2").json()["flavors"]] == ["3"]
    assert [f["id"] for f in api.get("/flavors/detail?minRam=4096&minDisk=30").json()["flavors"]] == ["3"]
    r = api.get("/flavors?marker=nope")
    assert r.status_code == 400 and "marker [nope] not found" in r.text
    assert api.get("/flavors?minRam=lots").status_code == 400


def test_keypairs_of_the_servers_users(api):
    store = api.twin.cloud.stores["compute"]
    owner = store.servers[_sid(api, "web-1")]["user_id"]
    assert api.get("/os-keypairs").json()["keypairs"] == []  # admin has none
    listed = api.get(f"/os-keypairs?user_id={owner}", mv="2.10").json()["keypairs"]
    assert [k["keypair"]["name"] for k in listed] == ["ops"]
    shown = api.get(f"/os-keypairs/ops?user_id={owner}", mv="2.10").json()["keypair"]
    assert shown["user_id"] == owner and shown["public_key"].startswith("ssh-ed25519 ")
    assert api.get("/os-keypairs/ops").status_code == 404


def test_limits_quotas_and_usage_count_the_projects_servers(api):
    store = api.twin.cloud.stores["compute"]
    project = store.servers[_sid(api, "web-1")]["project_id"]
    absolute = api.get(f"/limits?tenant_id={project}", mv="2.96").json()["limits"]["absolute"]
    assert (absolute["totalInstancesUsed"], absolute["totalCoresUsed"], absolute["totalRAMUsed"]) == (2, 3, 5120)
    assert absolute["maxTotalInstances"] == -1 and "maxPersonality" not in absolute
    detail = api.get(f"/os-quota-sets/{project}/detail", mv="2.96").json()["quota_set"]
    assert detail["cores"] == {"limit": -1, "in_use": 3, "reserved": 0}
    assert api.get(f"/os-quota-sets/{project}/defaults").json()["quota_set"]["instances"] == 10
    usage = api.get(f"/os-simple-tenant-usage/{project}?start=2026-01-01T00:00:00").json()["tenant_usage"]
    hours = {u["name"]: u["hours"] for u in usage["server_usages"]}
    assert set(hours) == {"web-1", "web-2"} and hours["web-1"] > 0
    assert usage["total_vcpus_usage"] == pytest.approx(hours["web-1"] * 2 + hours["web-2"] * 1)


def test_diagnostics_follow_flavor_and_utilisation(api):
    sid = _sid(api, "web-1")
    diag = api.get(f"/servers/{sid}/diagnostics", mv="2.48").json()
    assert diag["num_cpus"] == 2 and diag["memory_details"] == {"maximum": 4096, "used": 1024}
    assert [c["utilisation"] for c in diag["cpu_details"]] == [50, 50]
    assert diag["num_nics"] == 1
    old = api.get(f"/servers/{sid}/diagnostics").json()
    assert old["memory"] == 4096 * 1024 and "cpu1_time" in old


def test_metadata_read(api):
    sid = _sid(api, "web-1")
    assert api.get(f"/servers/{sid}/metadata").json() == {"metadata": {"role": "web"}}
    assert api.get(f"/servers/{sid}/metadata/role").json() == {"meta": {"role": "web"}}
    assert api.get(f"/servers/{sid}/metadata/nope").status_code == 404


def test_hypervisor_uptime_route_until_2_87(api):
    node = api.twin.cloud.stores["compute"].nodes["compute-1"]
    r = api.get(f"/os-hypervisors/{node['hypervisor_id']}/uptime")
    assert r.json()["hypervisor"]["uptime"].startswith(" 10:00:00 up 42 days")
    assert api.get(f"/os-hypervisors/{node['uuid']}/uptime", mv="2.88").status_code == 404
    assert "up 42 days" in api.get(f"/os-hypervisors/{node['uuid']}", mv="2.88").json()["hypervisor"]["uptime"]


def test_service_heartbeat_moves_while_up_and_stops_when_down(api):
    def compute_service():
        services = api.get("/os-services?binary=nova-compute", mv="2.53").json()["services"]
        return services[0]

    first = compute_service()
    assert first["state"] == "up" and first["updated_at"] > "2026-01-02"
    node = api.twin.cloud.stores["compute"].nodes["compute-1"]
    api.put(f"/os-services/{first['id']}", {"forced_down": True}, mv="2.53")
    down = compute_service()
    assert down["state"] == "down" and down["updated_at"] < first["updated_at"]
    assert node["forced_down"] is True
    api.put(f"/os-services/{first['id']}", {"forced_down": False}, mv="2.53")
    assert compute_service()["updated_at"] >= first["updated_at"]
