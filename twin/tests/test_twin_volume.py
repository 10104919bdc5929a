"""Cinder twin: listing, pools, refusals and migration/retype transitions (plain HTTP)."""

from __future__ import annotations

import re

import pytest
from rest_twin import Rest, load_stores, topology, wait_for

from vigil_twin.errors import TopologyError

V = "/volume/v3"
MV = {"OpenStack-API-Version": "volume 3.65"}


@pytest.fixture
def cloud(twin_factory):
    return twin_factory(topology(), speed=20)


@pytest.fixture
def admin(cloud):
    return Rest(cloud)


def _vol(api: Rest, name: str) -> dict:
    vols = api.get(f"{V}/volumes/detail?all_tenants=1&name={name}", headers=MV).json()["volumes"]
    assert len(vols) == 1, vols
    return vols[0]


def _pools(api: Rest) -> dict:
    body = api.get(f"{V}/scheduler-stats/get_pools?detail=True").json()
    return {p["name"]: p["capabilities"] for p in body["pools"]}


def _migrate(api: Rest, vid: str, host: str, **extra) -> object:
    return api("POST", f"{V}/volumes/{vid}/action", {"os-migrate_volume": {"host": host, **extra}})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"volumes": [{"name": "x", "size_gb": 1, "pool": "nope@b#p"}]}, "volumes[0].pool: unknown pool 'nope@b#p'"),
        ({"pools": [{"name": "no-backend", "total_capacity_gb": 1}], "volumes": []}, "pools[0].name"),
        (
            {"volumes": [{"name": "x", "size_gb": 1, "pool": "st-1@ceph#gold", "attached_to": "ghost"}]},
            "volumes[0].attached_to: unknown server 'ghost'",
        ),
        (
            {"volumes": [{"name": "x", "size_gb": 1, "pool": "st-1@ceph#gold", "project": "nobody"}]},
            "volumes[0].project: unknown project 'nobody'",
        ),
        ({"volumes": [{"name": "x", "size_gb": 0, "pool": "st-1@ceph#gold"}]}, "volumes[0].size_gb"),
        ({"pools": [{"name": "a@b#c", "total_capacity_gb": "big"}], "volumes": []}, "pools[0].total_capacity_gb"),
    ],
)
def test_bad_topology_names_the_field(change, message):
    with pytest.raises(TopologyError, match=re.escape(message)):
        load_stores(topology(**change))


def test_version_discovery_and_microversion(cloud, admin):
    import requests

    root = requests.get(cloud.url + "/volume/", timeout=10)
    assert root.status_code == 300
    assert root.json()["versions"][0]["version"] == "3.71"
    resp = admin.get(f"{V}/volumes/detail", headers={"OpenStack-API-Version": "volume 3.99"})
    assert resp.status_code == 406
    resp = admin.get(f"{V}/volumes/detail?all_tenants=1", headers={"OpenStack-API-Version": "volume 3.63"})
    assert resp.headers["OpenStack-API-Version"] == "volume 3.63"
    assert all("volume_type_id" in v for v in resp.json()["volumes"])
    old = admin.get(f"{V}/volumes/detail?all_tenants=1").json()["volumes"]
    assert all("volume_type_id" not in v for v in old)


def test_project_id_in_url_is_accepted(cloud, admin):
    pid = cloud.cloud.stores["identity"].project_id("admin")
    names = {v["name"] for v in admin.get(f"{V}/{pid}/volumes/detail?all_tenants=1").json()["volumes"]}
    assert names == {"v1", "v2", "v3"}


def test_listing_tenants_filters_and_pagination(cloud, admin):
    mine = admin.get(f"{V}/volumes/detail").json()["volumes"]
    assert {v["name"] for v in mine} == {"v3"}, "without all_tenants an admin sees its own project"
    first = admin.get(f"{V}/volumes/detail?all_tenants=1&limit=2").json()
    assert len(first["volumes"]) == 2
    nxt = first["volumes_links"][0]["href"]
    assert "marker=" in nxt
    import requests

    rest = requests.get(nxt, headers={"X-Auth-Token": admin.session.headers["X-Auth-Token"]}, timeout=10).json()
    names = [v["name"] for v in first["volumes"] + rest["volumes"]]
    assert sorted(names) == ["v1", "v2", "v3"]
    assert "volumes_links" not in rest
    assert admin.get(f"{V}/volumes/detail?all_tenants=1&marker=nope").status_code == 404
    assert [v["name"] for v in admin.get(f"{V}/volumes/detail?all_tenants=1&status=in-use").json()["volumes"]] == ["v1"]
    member = Rest(cloud, "demo", "demo")
    seen = member.get(f"{V}/volumes/detail?all_tenants=1").json()["volumes"]
    assert {v["name"] for v in seen} == {"v1", "v2"}, "all_tenants is ignored for a member"
    assert all("os-vol-host-attr:host" not in v for v in seen)
    assert member.get(f"{V}/volumes/detail?host=st-1@ceph").status_code == 400
    assert member.get(f"{V}/volumes/{_vol(admin, 'v3')['id']}").status_code == 404


def test_volume_attachment_names_the_server_and_host(cloud, admin):
    v1 = _vol(admin, "v1")
    vm1 = cloud.cloud.stores["compute"].server_by_name["vm-1"]
    assert v1["status"] == "in-use"
    assert [(a["server_id"], a["host_name"]) for a in v1["attachments"]] == [(vm1, "cmp-1")]
    atts = admin.get(f"{V}/attachments?all_tenants=1", headers={"OpenStack-API-Version": "volume 3.27"}).json()
    assert [(a["volume_id"], a["instance"]) for a in atts["attachments"]] == [(v1["id"], vm1)]


def test_types_pools_and_services(cloud, admin):
    types = {t["name"]: t for t in admin.get(f"{V}/types").json()["volume_types"]}
    assert types["fast"]["extra_specs"] == {"volume_backend_name": "lvm"}
    pools = _pools(admin)
    assert pools["st-1@ceph#gold"]["allocated_capacity_gb"] == 30
    assert pools["st-1@ceph#gold"]["free_capacity_gb"] == 970
    assert pools["st-3@lvm#lvm"]["volume_backend_name"] == "lvm"
    services = admin.get(f"{V}/os-services?binary=cinder-volume").json()["services"]
    assert sorted(s["host"] for s in services) == ["st-1@ceph", "st-2@ceph", "st-3@lvm"]
    member = Rest(cloud, "demo", "demo")
    assert member.get(f"{V}/scheduler-stats/get_pools?detail=True").status_code == 403
    assert member.get(f"{V}/os-services").status_code == 403


def test_migration_moves_volume_and_capacity(cloud, admin):
    v2 = _vol(admin, "v2")
    assert _migrate(admin, v2["id"], "st-2@ceph#gold").status_code == 202
    now = admin.get(f"{V}/volumes/{v2['id']}").json()["volume"]
    assert now["os-vol-mig-status-attr:migstat"] in ("starting", "migrating")
    assert _pools(admin)["st-2@ceph#gold"]["allocated_capacity_gb"] == 520, "destination reserved during the copy"
    again = _migrate(admin, v2["id"], "st-2@ceph#gold")
    assert again.status_code == 400 and "active migration" in again.json()["badRequest"]["message"]
    done = wait_for(
        lambda: (
            (v := admin.get(f"{V}/volumes/{v2['id']}").json()["volume"])["os-vol-mig-status-attr:migstat"] == "success"
            and v
        ),
        "migration success",
    )
    assert done["os-vol-host-attr:host"] == "st-2@ceph#gold"
    assert done["status"] == "available"
    pools = _pools(admin)
    assert pools["st-1@ceph#gold"]["allocated_capacity_gb"] == 10
    assert pools["st-2@ceph#gold"]["allocated_capacity_gb"] == 520


def test_migration_refusals(cloud, admin):
    v2 = _vol(admin, "v2")
    same = _migrate(admin, v2["id"], "st-1@ceph#gold")
    assert same.status_code == 400 and "different than the current host" in same.json()["badRequest"]["message"]
    unknown = _migrate(admin, v2["id"], "st-9@ceph#gold")
    assert unknown.status_code == 400 and "No available service" in unknown.json()["badRequest"]["message"]
    bad_flag = _migrate(admin, v2["id"], "st-2@ceph#gold", force_host_copy="maybe")
    assert bad_flag.status_code == 400
    member = Rest(cloud, "demo", "demo")
    assert _migrate(member, v2["id"], "st-2@ceph#gold").status_code == 403
    assert _migrate(admin, "00000000-0000-0000-0000-000000000000", "st-2@ceph#gold").status_code == 404
    # too big for the destination: accepted, then the scheduler refuses (migration_status error)
    v3 = _vol(admin, "v3")
    assert _migrate(admin, v3["id"], "st-3@lvm#lvm").status_code == 202
    after = admin.get(f"{V}/volumes/{v3['id']}").json()["volume"]
    assert after["os-vol-mig-status-attr:migstat"] == "error"
    assert after["os-vol-host-attr:host"] == "st-2@ceph#gold"


def test_disabled_backend_is_refused(cloud, admin):
    resp = admin("PUT", f"{V}/os-services/disable", {"host": "st-2@ceph", "binary": "cinder-volume"})
    assert resp.status_code == 200 and resp.json()["status"] == "disabled"
    refused = _migrate(admin, _vol(admin, "v2")["id"], "st-2@ceph#gold")
    assert refused.status_code == 400


def test_named_fault_fails_the_migration(cloud, admin):
    v2 = _vol(admin, "v2")
    assert admin("PUT", "/admin/faults", {"named": [{"kind": "volume_migration_fail", "target": "v2"}]}).ok
    assert _migrate(admin, v2["id"], "st-2@ceph#gold", lock_volume=True).status_code == 202
    assert admin.get(f"{V}/volumes/{v2['id']}").json()["volume"]["status"] == "maintenance"
    failed = wait_for(
        lambda: (
            (v := admin.get(f"{V}/volumes/{v2['id']}").json()["volume"])["os-vol-mig-status-attr:migstat"] == "error"
            and v
        ),
        "migration error",
    )
    assert failed["os-vol-host-attr:host"] == "st-1@ceph#gold"
    assert failed["status"] == "available", "lock_volume's maintenance status is lifted"
    assert _pools(admin)["st-2@ceph#gold"]["allocated_capacity_gb"] == 500, "reservation released"


def _retype(api: Rest, vid: str, new_type: str, policy: str | None = None):
    body = {"new_type": new_type}
    if policy:
        body["migration_policy"] = policy
    return api("POST", f"{V}/volumes/{vid}/action", {"os-retype": body})


def test_retype_refusals_and_policy_never(cloud, admin):
    v1 = _vol(admin, "v1")
    assert _retype(admin, v1["id"], "gold").status_code == 400
    assert _retype(admin, v1["id"], "platinum").status_code == 404
    assert _retype(admin, v1["id"], "fast", "sometimes").status_code == 400
    assert _retype(admin, v1["id"], "fast", "never").status_code == 202
    assert admin.get(f"{V}/volumes/{v1['id']}").json()["volume"]["status"] == "retyping"
    back = wait_for(
        lambda: (v := admin.get(f"{V}/volumes/{v1['id']}").json()["volume"])["status"] == "in-use" and v, "retype end"
    )
    assert back["volume_type"] == "gold", "a retype needing a migration is refused with policy never"
    assert back["os-vol-host-attr:host"] == "st-1@ceph#gold"


def test_retype_on_demand_migrates(cloud, admin):
    v1 = _vol(admin, "v1")
    assert _retype(admin, v1["id"], "fast", "on-demand").status_code == 202
    done = wait_for(
        lambda: (
            (v := admin.get(f"{V}/volumes/{v1['id']}").json()["volume"])["os-vol-mig-status-attr:migstat"] == "success"
            and v
        ),
        "retype migration",
    )
    assert done["volume_type"] == "fast"
    assert done["os-vol-host-attr:host"] == "st-3@lvm#lvm"
    assert done["status"] == "in-use"


def test_volume_names_may_repeat_when_ids_differ():
    twins = [
        {"name": "data", "id": "11111111-1111-1111-1111-111111111111", "size_gb": 1, "pool": "st-1@ceph#gold"},
        {"name": "data", "id": "22222222-2222-2222-2222-222222222222", "size_gb": 2, "pool": "st-1@ceph#gold"},
    ]
    stores = load_stores(topology(volumes=twins))
    assert {v["size"] for v in stores["volume"].volumes.values()} == {1, 2}
    with pytest.raises(TopologyError, match=re.escape("volumes[1].name: duplicate 'data'")):
        load_stores(topology(volumes=[{k: v for k, v in t.items() if k != "id"} for t in twins]))


def test_unknown_path_is_404_and_project_segment_still_works(admin, cloud):
    r = admin.get(f"{V}/no-such-thing")
    assert r.status_code == 404
    project = admin.get(f"{V}/volumes").json()  # without a project segment
    pid = cloud.cloud.stores["identity"].project_by_name["admin"]
    assert admin.get(f"{V}/{pid}/volumes").json() == project


def test_type_encryption_is_empty_for_unencrypted_types(admin):
    vtype = admin.get(f"{V}/types").json()["volume_types"][0]
    assert admin.get(f"{V}/types/{vtype['id']}/encryption").json() == {}
    assert admin.get(f"{V}/types/nope/encryption").status_code == 404


def test_limits_and_quotas_count_the_projects_volumes(admin, cloud):
    store = cloud.cloud.stores["volume"]
    pid = cloud.cloud.stores["identity"].project_by_name["admin"]
    mine = [v for v in store.volumes.values() if v["project_id"] == pid]
    absolute = admin.get(f"{V}/limits").json()["limits"]["absolute"]
    assert absolute["totalVolumesUsed"] == len(mine)
    assert absolute["totalGigabytesUsed"] == sum(v["size"] for v in mine)
    quota = admin.get(f"{V}/os-quota-sets/{pid}?usage=True").json()["quota_set"]
    assert quota["volumes"] == {"limit": 10, "in_use": len(mine), "reserved": 0, "allocated": 0}
    assert admin.get(f"{V}/os-quota-sets/{pid}/defaults").json()["quota_set"]["gigabytes"] == 1000
