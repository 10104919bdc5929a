"""Nova twin details the contract suite does not reach: microversions, refusals, old URLs."""

from __future__ import annotations

import copy
import time

import pytest
import requests
from twin_api import Api

SMALL = {
    "flavors": [
        {"name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 10},
        {"name": "m1.big", "vcpus": 4, "ram": 12000, "disk": 10},
    ],
    "nodes": [
        {"hostname": "compute-1", "vcpus": 4, "memory_mb": 16384, "disk_gb": 100},
        {"hostname": "compute-2", "vcpus": 4, "memory_mb": 16384, "disk_gb": 100},
        {
            "hostname": "compute-3",
            "vcpus": 4,
            "memory_mb": 16384,
            "disk_gb": 100,
            "status": "disabled",
            "disabled_reason": "repair",
        },
    ],
    "server_groups": [{"name": "aa", "policy": "anti-affinity"}],
    "servers": [
        {"name": "big-1", "flavor": "m1.big", "host": "compute-1"},
        {"name": "big-2", "flavor": "m1.big", "host": "compute-2"},
        {"name": "s-1", "flavor": "m1.small", "host": "compute-1", "server_groups": ["aa"]},
        {"name": "s-2", "flavor": "m1.small", "host": "compute-2", "server_groups": ["aa"]},
    ],
}


@pytest.fixture
def small(twin_factory):
    return twin_factory(copy.deepcopy(SMALL), speed=100.0)


def wait(fn, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not fn():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.03)


def test_microversion_negotiation(twin):
    api = Api(twin)
    r = api.get("/flavors")
    assert r.headers["X-OpenStack-Nova-API-Version"] == "2.1"
    r = api.get("/flavors", mv="latest")
    assert r.headers["OpenStack-API-Version"] == "compute 2.96"
    r = api.get("/flavors", headers={"X-OpenStack-Nova-API-Version": "2.60"})
    assert r.headers["X-OpenStack-Nova-API-Version"] == "2.60"
    r = api.get("/flavors", mv="2.97")
    assert r.status_code == 406 and r.json()["computeFault"]["code"] == 406
    r = api.get("/flavors", mv="two")
    assert r.status_code == 400 and "badRequest" in r.json()


def test_version_discovery_without_token(twin):
    root = requests.get(f"{twin.url}/compute/", timeout=10).json()
    assert root["versions"][0]["version"] == "2.96" and root["versions"][0]["min_version"] == "2.1"
    v21 = requests.get(f"{twin.url}/compute/v2.1/", timeout=10).json()
    assert v21["version"]["id"] == "v2.1"
    assert requests.get(f"{twin.url}/compute/v2.1/servers", timeout=10).status_code == 401
    assert requests.get(f"{twin.url}/placement/", timeout=10).json()["versions"][0]["max_version"] == "1.39"
    ident = requests.get(f"{twin.url}/identity/v3", timeout=10).json()
    assert ident["version"]["id"].startswith("v3")


def test_project_id_in_url(twin):
    api = Api(twin)
    pid = twin.cloud.stores["identity"].project_by_name["admin"]
    assert api.get(f"/{pid}/servers/detail?all_tenants=1").status_code == 200


def test_hypervisor_ids_by_microversion(twin):
    api = Api(twin)
    old = api.get("/os-hypervisors/detail", mv="2.52").json()["hypervisors"][0]
    new = api.get("/os-hypervisors/detail", mv="2.53").json()["hypervisors"][0]
    assert isinstance(old["id"], int) and isinstance(old["service"]["id"], int)
    assert len(new["id"]) == 36 and len(new["service"]["id"]) == 36
    assert isinstance(api.get("/os-hypervisors/detail", mv="2.27").json()["hypervisors"][0]["cpu_info"], str)
    assert isinstance(api.get("/os-hypervisors/detail", mv="2.28").json()["hypervisors"][0]["cpu_info"], dict)
    assert (
        api.get(f"/os-hypervisors/{new['id']}", mv="2.53").json()["hypervisor"]["hypervisor_hostname"]
        == new["hypervisor_hostname"]
    )
    assert api.get(f"/os-hypervisors/{old['id']}", mv="2.53").status_code == 400
    assert api.get("/os-hypervisors/statistics", mv="2.88").status_code == 404
    assert api.get("/os-hypervisors/statistics", mv="2.87").json()["hypervisor_statistics"]["count"] == 9


def test_exact_host_matching(twin):
    api = Api(twin)
    on_1 = api.get("/servers/detail?all_tenants=1&host=compute-1", mv="2.96").json()["servers"]
    assert on_1 and all(s["OS-EXT-SRV-ATTR:host"] == "compute-1" for s in on_1)


def test_legacy_service_actions(twin):
    api = Api(twin)
    r = api.put(
        "/os-services/disable-log-reason",
        {"host": "compute-4", "binary": "nova-compute", "disabled_reason": "old api"},
        mv="2.52",
    )
    assert r.status_code == 200 and r.json()["service"]["status"] == "disabled"
    svc = [
        s for s in api.get("/os-services?host=compute-4", mv="2.52").json()["services"] if s["binary"] == "nova-compute"
    ][0]
    assert svc["status"] == "disabled" and svc["disabled_reason"] == "old api" and isinstance(svc["id"], int)
    assert api.put("/os-services/enable", {"host": "compute-4", "binary": "nova-compute"}, mv="2.53").status_code == 404
    r = api.put("/os-services/enable", {"host": "compute-4", "binary": "nova-compute"}, mv="2.1")
    assert r.json()["service"]["status"] == "enabled"
    r = api.put("/os-services/disable", {"host": "controller", "binary": "nova-scheduler"}, mv="2.1")
    assert r.status_code == 400


def test_host_status_follows_service(twin):
    api = Api(twin)
    legacy = api.server("legacy-1")  # on compute-6, disabled in the demo
    assert legacy["host_status"] == "MAINTENANCE"
    requests.put(f"{twin.url}/admin/faults", json={"named": [{"kind": "host_down", "target": "compute-6"}]}, timeout=10)
    assert api.server("legacy-1")["host_status"] == "DOWN"


def test_pagination_edges(twin):
    api = Api(twin)
    r = api.get("/servers/detail?all_tenants=1&marker=nope", mv="2.96")
    assert r.status_code == 400 and "marker [nope] not found" in r.json()["badRequest"]["message"]
    page = api.get("/servers/detail?all_tenants=1&limit=100", mv="2.96").json()
    assert len(page["servers"]) == 30 and "servers_links" not in page
    ids = []
    url = "/servers?all_tenants=1&limit=8"
    while url:
        body = api.get(url, mv="2.96").json()
        ids += [s["id"] for s in body["servers"]]
        links = body.get("servers_links")
        url = links[0]["href"].split("/v2.1", 1)[1] if links else None
    assert len(ids) == len(set(ids)) == 30


def test_move_refusals(small):
    api = Api(small)
    s1, big1 = api.server("s-1"), api.server("big-1")
    # anti-affinity: s-2 already on compute-2
    r = api.post(
        f"/servers/{s1['id']}/action", {"os-migrateLive": {"host": "compute-2", "block_migration": "auto"}}, mv="2.67"
    )
    assert r.status_code == 400 and "server group" in r.json()["badRequest"]["message"]
    # disabled destination: refused, unless forced (2.30-2.67 only)
    r = api.post(
        f"/servers/{s1['id']}/action", {"os-migrateLive": {"host": "compute-3", "block_migration": "auto"}}, mv="2.67"
    )
    assert r.status_code == 400 and "disabled" in r.json()["badRequest"]["message"]
    r = api.post(
        f"/servers/{s1['id']}/action",
        {"os-migrateLive": {"host": "compute-3", "block_migration": "auto", "force": True}},
        mv="2.68",
    )
    assert r.status_code == 400  # 'force' is gone from 2.68
    # overcommit: big-1 (12000 MB) cannot join big-2 on compute-2, even forced
    r = api.post(
        f"/servers/{big1['id']}/action",
        {"os-migrateLive": {"host": "compute-2", "block_migration": "auto", "force": True}},
        mv="2.67",
    )
    assert r.status_code == 400 and "No valid host" in r.json()["badRequest"]["message"]
    r = api.post(f"/servers/{big1['id']}/action", {"migrate": {"host": "compute-2"}}, mv="2.56")
    assert r.status_code == 400 and "No valid host" in r.json()["badRequest"]["message"]
    # no host given and nowhere to go
    r = api.post(f"/servers/{big1['id']}/action", {"migrate": None}, mv="2.56")
    assert r.status_code == 400
    # host in migrate only from 2.56
    r = api.post(f"/servers/{s1['id']}/action", {"migrate": {"host": "compute-3"}}, mv="2.55")
    assert r.status_code == 400
    # missing server: Nova's 404 body
    r = api.post("/servers/00000000-0000-0000-0000-000000000000/action", {"migrate": None}, mv="2.56")
    assert r.status_code == 404 and "itemNotFound" in r.json()
    assert api.server("big-1")["OS-EXT-SRV-ATTR:host"] == "compute-1"
    assert requests.get(f"{small.url}/admin/violations", timeout=10).json()["count"] == 0


def test_forced_live_migration_to_disabled_host(small):
    api = Api(small)
    s1 = api.server("s-1")
    r = api.post(
        f"/servers/{s1['id']}/action",
        {"os-migrateLive": {"host": "compute-3", "block_migration": "auto", "force": True}},
        mv="2.30",
    )
    assert r.status_code == 202
    wait(lambda: api.server("s-1")["OS-EXT-SRV-ATTR:host"] == "compute-3" and api.server("s-1")["status"] == "ACTIVE")


def test_migration_states_and_abort_rules(small):
    api = Api(small)
    api.put(f"/os-services/{_svc(api, 'compute-3')}", {"status": "enabled"}, mv="2.53")
    requests.put(f"{small.url}/admin/faults", json={"named": [{"kind": "migration_hang", "target": "s-1"}]}, timeout=10)
    s1 = api.server("s-1")
    r = api.post(
        f"/servers/{s1['id']}/action", {"os-migrateLive": {"host": None, "block_migration": "auto"}}, mv="2.25"
    )
    assert r.status_code == 202
    assert api.server("s-1")["status"] == "MIGRATING"
    assert api.server("s-1")["OS-EXT-STS:task_state"] == "migrating"
    # a second move while one runs: 409 conflictingRequest
    r = api.post(f"/servers/{s1['id']}/action", {"migrate": None}, mv="2.56")
    assert r.status_code == 409 and "conflictingRequest" in r.json()
    migs = api.get(f"/servers/{s1['id']}/migrations", mv="2.80").json()["migrations"]
    assert len(migs) == 1
    wait(lambda: api.get(f"/servers/{s1['id']}/migrations", mv="2.80").json()["migrations"][0]["status"] == "running")
    shown = api.get(f"/servers/{s1['id']}/migrations/{migs[0]['id']}", mv="2.80").json()["migration"]
    assert shown["memory_total_bytes"] == 2048 * 1024 * 1024 and shown["uuid"] and shown["project_id"]
    assert (
        api.delete(f"/servers/{s1['id']}/migrations/{migs[0]['id']}", mv="2.23").status_code == 404
    )  # abort needs 2.24
    assert api.delete(f"/servers/{s1['id']}/migrations/{migs[0]['id']}", mv="2.24").status_code == 202
    wait(lambda: api.server("s-1")["status"] == "ACTIVE")
    assert api.server("s-1")["OS-EXT-SRV-ATTR:host"] == "compute-1"
    all_migs = api.get("/os-migrations", mv="2.59").json()["migrations"]
    assert all_migs[0]["status"] == "cancelled" and all_migs[0]["migration_type"] == "live-migration"
    actions = api.get(f"/servers/{s1['id']}/os-instance-actions", mv="2.58").json()["instanceActions"]
    assert actions[0]["action"] == "live-migration" and actions[0]["message"]
    event = api.get(f"/servers/{s1['id']}/os-instance-actions/{actions[0]['request_id']}", mv="2.62").json()[
        "instanceAction"
    ]
    assert event["events"][0]["result"] == "Error"


def test_confirm_fail_and_resize(small):
    api = Api(small)
    s2 = api.server("s-2")
    r = api.post(f"/servers/{s2['id']}/action", {"resize": {"flavorRef": "m1.big"}}, mv="2.96")
    assert r.status_code == 400  # no host with room for m1.big
    requests.put(
        f"{small.url}/admin/faults", json={"named": [{"kind": "confirm_fail", "target": s2["id"]}]}, timeout=10
    )
    big2 = api.server("big-2")
    assert (
        api.post(f"/servers/{big2['id']}/action", {"migrate": {"host": "compute-3"}}, mv="2.56").status_code == 400
    )  # disabled
    api.put(f"/os-services/{_svc(api, 'compute-3')}", {"status": "enabled"}, mv="2.53")
    assert api.post(f"/servers/{s2['id']}/action", {"migrate": {"host": "compute-3"}}, mv="2.56").status_code == 202
    wait(lambda: api.server("s-2")["status"] == "VERIFY_RESIZE")
    assert api.post(f"/servers/{s2['id']}/action", {"confirmResize": None}, mv="2.56").status_code == 204
    wait(lambda: api.server("s-2")["status"] == "ERROR")
    mig = api.get(f"/os-migrations?instance_uuid={s2['id']}", mv="2.59").json()["migrations"][0]
    assert mig["status"] == "error"


def _svc(api: Api, host: str) -> str:
    return [
        s for s in api.get(f"/os-services?host={host}", mv="2.53").json()["services"] if s["binary"] == "nova-compute"
    ][0]["id"]


def test_member_policies(twin):
    member = Api(twin, user="demo", project="demo")
    assert member.get("/os-hypervisors", mv="2.53").status_code == 403
    assert member.get("/os-hypervisors", mv="2.53").json()["forbidden"]["code"] == 403
    assert member.get("/servers/detail?all_tenants=1", mv="2.96").status_code == 403
    mine = member.get("/servers/detail", mv="2.96").json()["servers"]
    assert mine and "OS-EXT-SRV-ATTR:host" not in mine[0]
    other = twin.cloud.stores["compute"].server_by_name["batch-3"]  # analytics project
    assert member.get(f"/servers/{other}", mv="2.96").status_code == 404
    locked = twin.cloud.stores["compute"].server_by_name["etl-1"]
    analyst = Api(twin, user="analyst", project="analytics")
    r = analyst.post(f"/servers/{locked}/action", {"os-stop": None}, mv="2.96")
    assert r.status_code == 409 and "locked" in r.json()["conflictingRequest"]["message"]


def test_request_counter(twin):
    requests.delete(f"{twin.url}/admin/requests", timeout=10)
    api = Api(twin)
    api.get("/flavors")
    api.get("/flavors")
    summary = requests.get(f"{twin.url}/admin/requests", timeout=10).json()
    assert summary["by_service"]["compute"] == 2 and summary["by_service"]["identity"] == 1


def test_snapshot_and_restore(small):
    api = Api(small)
    snap = requests.get(f"{small.url}/admin/snapshot", timeout=10).json()
    s1 = api.server("s-1")
    api.put(f"/os-services/{_svc(api, 'compute-3')}", {"status": "enabled"}, mv="2.53")
    api.post(
        f"/servers/{s1['id']}/action", {"os-migrateLive": {"host": "compute-3", "block_migration": "auto"}}, mv="2.96"
    )
    wait(lambda: api.server("s-1")["OS-EXT-SRV-ATTR:host"] == "compute-3" and api.server("s-1")["status"] == "ACTIVE")
    assert requests.post(f"{small.url}/admin/restore", json=snap, timeout=10).status_code == 204
    assert api.server("s-1")["OS-EXT-SRV-ATTR:host"] == "compute-1"
    rp = small.cloud.stores["compute"].nodes["compute-1"]["uuid"]
    allocs = api.get(f"/allocations/{s1['id']}", service="placement", mv="1.28").json()["allocations"]
    assert set(allocs) == {rp}
    svc = [s for s in api.get("/os-services?host=compute-3", mv="2.53").json()["services"]][0]
    assert svc["status"] == "disabled"
    # the restored cloud keeps working: a move after the restore moves allocations again
    api.put(f"/os-services/{_svc(api, 'compute-3')}", {"status": "enabled"}, mv="2.53")
    api.post(
        f"/servers/{s1['id']}/action", {"os-migrateLive": {"host": "compute-3", "block_migration": "auto"}}, mv="2.96"
    )
    wait(lambda: api.server("s-1")["OS-EXT-SRV-ATTR:host"] == "compute-3" and api.server("s-1")["status"] == "ACTIVE")
    allocs = api.get(f"/allocations/{s1['id']}", service="placement", mv="1.28").json()["allocations"]
    assert set(allocs) == {small.cloud.stores["compute"].nodes["compute-3"]["uuid"]}


def test_generic_fault_bodies(twin):
    api = Api(twin)
    requests.put(
        f"{twin.url}/admin/faults", json={"services": {"compute": {"error_rate": 1.0, "error_status": 503}}}, timeout=10
    )
    r = api.get("/flavors")
    assert r.status_code == 503 and r.json()["computeFault"]["code"] == 503
    requests.delete(f"{twin.url}/admin/faults", timeout=10)
    assert api.get("/flavors").status_code == 200
