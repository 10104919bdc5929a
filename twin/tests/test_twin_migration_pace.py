"""Nova's pace in the twin: max_concurrent_live_migrations per source host, memory-scaled
durations (services/migration_pace.py) and the changes-since filter pollers use."""

from __future__ import annotations

import copy
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from twin_api import Api

TOPO = {
    "flavors": [
        {"name": "m1.small", "vcpus": 1, "ram": 1024, "disk": 10},
        {"name": "m1.large", "vcpus": 1, "ram": 4096, "disk": 10},
    ],
    "nodes": [
        {"hostname": "src-1", "vcpus": 16, "memory_mb": 32768, "disk_gb": 500},
        {"hostname": "src-2", "vcpus": 16, "memory_mb": 32768, "disk_gb": 500},
        {"hostname": "dst-1", "vcpus": 16, "memory_mb": 32768, "disk_gb": 500},
    ],
    "servers": [
        {"name": "a-1", "flavor": "m1.small", "host": "src-1"},
        {"name": "a-2", "flavor": "m1.small", "host": "src-1"},
        {"name": "a-3", "flavor": "m1.small", "host": "src-1"},
        {"name": "b-1", "flavor": "m1.small", "host": "src-2"},
        {"name": "big", "flavor": "m1.large", "host": "src-2"},
    ],
    "timing": {"live_migration_base_seconds": 1.0, "live_migration_seconds_per_gb": 0.0},
}


def wait(fn, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not fn():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def live(api, name, host="dst-1"):
    sid = api.server(name)["id"]
    r = api.post(f"/servers/{sid}/action", {"os-migrateLive": {"host": host, "block_migration": "auto"}}, mv="2.30")
    assert r.status_code == 202, r.text
    return sid


def statuses(api, sid):
    return [m["status"] for m in api.get(f"/os-migrations?instance_uuid={sid}", mv="2.59").json()["migrations"]]


def settled(api, name):
    server = api.server(name)
    return server["status"] == "ACTIVE" and server["OS-EXT-STS:task_state"] is None


def test_one_live_migration_per_source_by_default_the_rest_queued(twin_factory):
    twin = twin_factory(copy.deepcopy(TOPO), speed=4.0)  # 1 s of twin time = 0.25 s
    api = Api(twin)
    first, second, third = live(api, "a-1"), live(api, "a-2"), live(api, "a-3")
    other = live(api, "b-1")  # another source host is not held up
    wait(lambda: statuses(api, first)[0] == "running" and statuses(api, other)[0] == "running")
    assert statuses(api, second) == ["queued"] and statuses(api, third) == ["queued"]
    assert api.server("a-2")["status"] == "MIGRATING"  # accepted: Nova queues it on the compute
    wait(lambda: settled(api, "a-1"))
    assert statuses(api, first) == ["completed"]
    wait(lambda: statuses(api, second)[0] in ("preparing", "running"))
    assert statuses(api, third) == ["queued"]
    wait(lambda: settled(api, "a-3"))
    for name in ("a-1", "a-2", "a-3", "b-1"):
        assert api.server(name)["OS-EXT-SRV-ATTR:host"] == "dst-1"
    assert requests.get(f"{twin.url}/admin/violations", timeout=10).json()["count"] == 0


def test_queued_migrations_run_one_after_another(twin_factory):
    twin = twin_factory(copy.deepcopy(TOPO), speed=4.0)
    api = Api(twin)
    start = time.monotonic()
    for name in ("a-1", "a-2", "a-3"):
        live(api, name)
    wait(
        lambda: all(settled(api, n) and api.server(n)["OS-EXT-SRV-ATTR:host"] == "dst-1" for n in ("a-1", "a-2", "a-3"))
    )
    assert time.monotonic() - start >= 3 * 0.25 * 0.95  # three 1 s migrations in a row at speed 4


def test_limit_from_the_topology(twin_factory):
    topo = copy.deepcopy(TOPO)
    topo["timing"]["max_concurrent_live_migrations"] = 3
    api = Api(twin_factory(topo, speed=4.0))
    ids = [live(api, n) for n in ("a-1", "a-2", "a-3")]
    wait(lambda: all(statuses(api, sid)[0] == "running" for sid in ids))


def test_limit_must_be_a_positive_integer(twin_factory):
    from vigil_twin.topology import TopologyError, validate_topology

    topo = copy.deepcopy(TOPO)
    topo["timing"]["max_concurrent_live_migrations"] = 0
    with pytest.raises(TopologyError, match="max_concurrent_live_migrations: must be >= 1"):
        validate_topology(topo)


def test_abort_of_a_queued_migration_frees_its_place(twin_factory):
    twin = twin_factory(copy.deepcopy(TOPO), speed=4.0)
    api = Api(twin)
    live(api, "a-1")
    second, third = live(api, "a-2"), live(api, "a-3")
    mid = api.get(f"/servers/{second}/migrations", mv="2.65").json()["migrations"][0]["id"]
    assert api.delete(f"/servers/{second}/migrations/{mid}", mv="2.65").status_code == 202
    assert statuses(api, second) == ["cancelled"] and settled(api, "a-2")
    assert api.server("a-2")["OS-EXT-SRV-ATTR:host"] == "src-1"
    wait(lambda: settled(api, "a-3") and api.server("a-3")["OS-EXT-SRV-ATTR:host"] == "dst-1")
    assert statuses(api, third) == ["completed"]


def test_duration_grows_with_memory(twin_factory):
    topo = copy.deepcopy(TOPO)
    topo["timing"] = {"live_migration_base_seconds": 0.5, "live_migration_seconds_per_gb": 0.5}
    twin = twin_factory(topo, speed=2.0)
    mig = twin.cloud.stores["compute"].migrations
    api = Api(twin)
    live(api, "b-1")
    wait(lambda: settled(api, "b-1"))
    live(api, "big")
    wait(lambda: settled(api, "big"))
    durations = sorted(m["duration"] for m in mig.values())
    assert durations == [0.5 + 0.5 * 1, 0.5 + 0.5 * 4]  # base + per GiB x RAM GiB


def test_changes_since_lists_what_changed(twin_factory):
    twin = twin_factory(copy.deepcopy(TOPO), speed=4.0)
    api = Api(twin)
    before = api.get("/servers/detail?all_tenants=1")
    server_time = datetime.strptime(before.headers["Date"], "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=timezone.utc)
    since = (server_time - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert api.get(f"/servers/detail?all_tenants=1&changes-since={since}").json()["servers"] == []
    sid = live(api, "a-1")
    changed = api.get(f"/servers/detail?all_tenants=1&changes-since={since}").json()["servers"]
    assert [s["id"] for s in changed] == [sid] and changed[0]["status"] == "MIGRATING"
    wait(lambda: settled(api, "a-1"))
    migs = api.get(f"/os-migrations?changes-since={since}", mv="2.59").json()["migrations"]
    assert [(m["instance_uuid"], m["status"]) for m in migs] == [(sid, "completed")]
    later = (server_time + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert api.get(f"/os-migrations?changes-since={later}", mv="2.59").json()["migrations"] == []
    r = api.get("/servers/detail?changes-since=yesterday")
    assert r.status_code == 400 and "changes-since" in r.json()["badRequest"]["message"]
