"""storage_model_info, identity_info, baremetal_model_info and the baremetal inventory plugin,
run through ansible-playbook / ansible-inventory against a twin serving a known topology.

Expected values come from the topology (rest_topology.py) (counts, sizes, links) and, for derived pool
capacities, from the twin's own Cinder store.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter

import pytest
import yaml
from ansible_run import BIN, ROOT, ansible_env, run_playbook, tasks_play
from rest_topology import N_VOLUMES, POOLS, TOPOLOGY

from vigil_twin.testing import running_twin, write_clouds_yaml


def rows(table):
    """Split table -> list of dicts."""
    return [dict(zip(table["columns"], row)) for row in table["data"]]


@pytest.fixture(scope="module")
def rest_twin(tmp_path_factory):
    with running_twin(TOPOLOGY) as twin:
        twin.clouds_yaml = write_clouds_yaml(twin, tmp_path_factory.mktemp("clouds") / "clouds.yaml")
        yield twin


@pytest.fixture
def run(tmp_path, rest_twin):
    def _run(*tasks, clouds_yaml=None, **kwargs):
        return run_playbook(tmp_path, tasks_play(*tasks), clouds_yaml=clouds_yaml or rest_twin.clouds_yaml, **kwargs)

    return _run


def _requests(twin):
    return json.loads(json.dumps(twin.cloud.requests.summary()))


# -- storage_model_info ------------------------------------------------------------------


def test_storage_model_counts_and_capacities(run, rest_twin):
    rest_twin.cloud.requests.reset()
    r = run({"name": "storage", "vigil.openstack.storage_model_info": {"cloud": "vigil-twin"}})
    assert r.rc == 0, r.stdout + r.stderr
    res = r.task("storage")
    assert res["changed"] is False
    volumes = rows(res["model"]["volumes"])
    assert len(volumes) == N_VOLUMES + 2
    by_name = {v["name"]: v for v in volumes}
    for i in range(N_VOLUMES):
        v = by_name["vol-%d" % i]
        assert v["size_gb"] == 10 + i
        assert v["host"] == POOLS[i % 3]
        assert v["pool"] == POOLS[i % 3]
        assert v["status"] == "available" and v["attachments"] == []
    servers = {s["name"]: s["id"] for s in rest_twin.cloud.stores["compute"].servers.values()}
    assert by_name["web-data"]["attachments"] == [servers["web-1"]]
    assert by_name["db-data"]["status"] == "in-use"

    pools = {p["name"]: p for p in rows(res["model"]["pools"])}
    assert set(pools) == set(POOLS)
    allocated = Counter()
    for v in TOPOLOGY["volumes"]:
        allocated[v["pool"]] += v["size_gb"]
    store = rest_twin.cloud.stores["volume"]
    for name, topo in zip(POOLS, TOPOLOGY["pools"]):
        p = pools[name]
        assert p["total_capacity_gb"] == topo["total_capacity_gb"]
        assert p["allocated_capacity_gb"] == allocated[name]
        assert p["free_capacity_gb"] == store.pool_capabilities(store.pools[name])["free_capacity_gb"]
        assert p["thin_provisioning"] is bool(topo.get("thin_provisioning"))
        assert p["reserved_percentage"] == topo.get("reserved_percentage", 0)
    assert pools[POOLS[1]]["max_over_subscription_ratio"] == 4.0
    assert pools[POOLS[0]]["max_over_subscription_ratio"] == 1.0
    assert pools[POOLS[0]]["backend"] == "lvm" and pools[POOLS[1]]["backend"] == "ceph"
    assert "standard" in pools[POOLS[0]]["volume_types"] and "fast" not in pools[POOLS[0]]["volume_types"]
    assert "fast" in pools[POOLS[1]]["volume_types"]

    assert {t["name"] for t in res["volume_types"]} >= {"standard", "fast"}
    services = {s["host"]: s for s in res["services"]}
    assert set(services) == {"storage-1@lvm", "storage-1@ceph", "storage-2@lvm"}
    assert services["storage-2@lvm"]["state"] == "down"
    assert res["model"]["meta"]["digest"].startswith("sha256:")
    assert res["skipped_services"] == []
    # bulk: pools, types, services, one volume page (plus auth)
    volume_requests = _requests(rest_twin)["by_service"]["volume"]
    assert volume_requests == 4


def test_storage_model_scoped_by_project_and_domain(run):
    r = run(
        {
            "name": "scoped",
            "vigil.openstack.storage_model_info": {"cloud": "vigil-twin", "projects": ["demo"], "domains": ["ops"]},
        }
    )
    assert r.rc == 0, r.stdout + r.stderr
    names = {v["name"] for v in rows(r.task("scoped")["model"]["volumes"])}
    expected = {v["name"] for v in TOPOLOGY["volumes"] if v["project"] in ("demo", "web")}
    assert names == expected
    assert len(r.task("scoped")["model"]["meta"]["scope"]["project_ids"]) == 2


def test_storage_model_paging_and_attachment_records(run, rest_twin):
    rest_twin.cloud.requests.reset()
    r = run(
        {
            "name": "paged",
            "vigil.openstack.storage_model_info": {"cloud": "vigil-twin", "page_size": 10, "attachment_records": True},
        }
    )
    assert r.rc == 0, r.stdout + r.stderr
    res = r.task("paged")
    assert len(res["model"]["volumes"]["data"]) == N_VOLUMES + 2
    assert len({row[0] for row in res["model"]["volumes"]["data"]}) == N_VOLUMES + 2  # no duplicates across pages
    assert len(res["attachments"]) == 2
    counts = {(q["path"]): q["count"] for q in _requests(rest_twin)["requests"] if q["service"] == "volume"}
    assert counts["/volume/v3/volumes/detail"] == 3  # 27 volumes, 10 per page


def test_storage_model_without_cinder_is_skipped(run, rest_twin):
    services = rest_twin.cloud.services
    rest_twin.cloud.services = [s for s in services if s.name != "volume"]  # a cloud without Cinder
    try:
        r = run({"name": "no cinder", "vigil.openstack.storage_model_info": {"cloud": "vigil-twin"}})
    finally:
        rest_twin.cloud.services = services
    assert r.rc == 0, r.stdout + r.stderr
    res = r.task("no cinder")
    assert res["model"]["volumes"]["data"] == [] and res["model"]["pools"]["data"] == []
    assert res["model"]["volumes"]["columns"][:2] == ["id", "name"]
    assert [s["service"] for s in res["skipped_services"]] == ["block-storage"]
    assert res["model"]["meta"]["skipped"] == res["skipped_services"]
    assert any("block-storage" in w for w in res.get("warnings", []))


def test_storage_model_retries_5xx_then_reports_them(run, rest_twin):
    # Retries come from the cloud config (clouds.yaml keys); generous ones make the outcome
    # certain whatever order the concurrent requests draw the twin's random faults in.
    good = yaml.safe_load(open(rest_twin.clouds_yaml))["clouds"]["vigil-twin"]
    patient = dict(good, status_code_retries=10, status_code_retry_delay=0.05)
    faults = rest_twin.cloud.faults
    faults.configure({"seed": 7, "services": {"volume": {"error_rate": 0.4, "error_status": 503}}})
    rest_twin.cloud.requests.reset()
    try:
        flaky = run({"name": "flaky", "vigil.openstack.storage_model_info": {"cloud": patient, "page_size": 2}})
        statuses = Counter(e["status"] for e in rest_twin.cloud.requests.log if e["service"] == "volume")
        faults.configure({"services": {"volume": {"error_rate": 1.0, "error_status": 503}}})
        down = run({"name": "down", "vigil.openstack.storage_model_info": {"cloud": "vigil-twin"}})
    finally:
        faults.clear()
    assert flaky.rc == 0, flaky.stdout + flaky.stderr
    assert statuses[503] > 0 and statuses[200] >= 17  # faults fired and were retried; 14 pages + 3 reads
    assert len(flaky.task("flaky")["model"]["volumes"]["data"]) == N_VOLUMES + 2
    assert down.status("down") == "failed"
    assert "HTTP 503" in down.task("down")["msg"] and "Traceback" not in down.stdout


def test_storage_model_errors_are_one_line(run, rest_twin):
    r = run(
        {"name": "bad scope", "vigil.openstack.storage_model_info": {"cloud": "vigil-twin", "projects": ["nope"]}},
    )
    assert r.status("bad scope") == "failed"
    assert "unknown project: nope" in r.task("bad scope")["msg"]
    assert "Traceback" not in r.stdout


def test_storage_model_insufficient_role(run):
    r = run({"name": "member", "vigil.openstack.storage_model_info": {"cloud": "vigil-twin-member"}})
    res = r.task("member")
    assert r.status("member") == "failed"
    assert "insufficient role" in res["msg"] and "403" in res["msg"]
    assert "Traceback" not in r.stdout + r.stderr


def test_auth_failure_and_unreachable(run, rest_twin):
    good = yaml.safe_load(open(rest_twin.clouds_yaml))["clouds"]["vigil-twin"]
    bad_auth = dict(good, auth=dict(good["auth"], password="wrong"))
    closed = dict(good, auth=dict(good["auth"], auth_url="http://127.0.0.1:9/identity/v3"))
    r = run(
        {"name": "bad auth", "vigil.openstack.identity_info": {"cloud": bad_auth}, "ignore_errors": True},
        {"name": "unreachable", "vigil.openstack.storage_model_info": {"cloud": closed}, "ignore_errors": True},
    )
    assert r.status("bad auth") == "failed" and r.status("unreachable") == "failed"
    assert "authentication failed" in r.task("bad auth")["msg"]
    msg = r.task("unreachable")["msg"]  # wording is connection.py's: names the endpoint and the refusal
    assert "http://127.0.0.1:9/identity/v3" in msg and "Connection refused" in msg
    assert "Traceback" not in r.stdout


# -- identity_info -----------------------------------------------------------------------


def test_identity_info(run):
    r = run(
        {"name": "all", "vigil.openstack.identity_info": {"cloud": "vigil-twin"}},
        {"name": "ops", "vigil.openstack.identity_info": {"cloud": "vigil-twin", "domains": ["ops"]}},
    )
    assert r.rc == 0, r.stdout + r.stderr
    everything = r.task("all")
    assert {d["name"] for d in everything["domains"]} == {"Default", "ops"}
    assert sorted(everything["project_names"].values()) == sorted(p["name"] for p in TOPOLOGY["identity"]["projects"])
    assert sorted(everything["user_names"].values()) == sorted(u["name"] for u in TOPOLOGY["identity"]["users"])
    ops = r.task("ops")
    assert list(ops["project_names"].values()) == ["web"]
    assert [d["name"] for d in ops["domains"]] == ["ops"]
    assert list(ops["user_names"].values()) == ["alice"]


# -- baremetal_model_info ----------------------------------------------------------------


def test_baremetal_model_ironic_and_maas(run, rest_twin):
    r = run(
        {
            "name": "bm",
            "vigil.openstack.baremetal_model_info": {
                "cloud": "vigil-twin",
                "backends": ["ironic", "maas"],
                "maas_url": rest_twin.maas_url,
                "maas_api_key": rest_twin.maas_api_key,
            },
        }
    )
    assert r.rc == 0, r.stdout + r.stderr
    res = r.task("bm")
    table = {row["name"]: row for row in rows(res["model"]["baremetal"])}
    assert len(table) == len(TOPOLOGY["baremetal"]) + len(TOPOLOGY["maas"]["machines"])
    assert table["bm-compute-1"]["hostname"] == "compute-1"
    assert table["bm-compute-10"]["hostname"] == "compute-10"  # exact: not compute-1
    assert table["bm-compute-10"]["power_state"] == "off" and table["bm-compute-10"]["maintenance"] is True
    assert table["bm-spare"]["hostname"] == "" and table["bm-spare"]["provision_state"] == "available"
    assert table["compute-2"]["backend"] == "maas" and table["compute-2"]["hostname"] == "compute-2"
    assert table["compute-2"]["pool"] == "compute" and table["compute-2"]["zone"] == "default"
    assert table["rack9-u12"]["hostname"] == "compute-3"  # owner_data.compute_hostname
    assert table["rack9-u12"]["power_state"] == "off" and table["rack9-u12"]["provision_state"] == "Ready"
    assert table["compute-11x"]["hostname"] == ""  # never compute-11 by substring
    assert table["compute-11x"]["power_state"] == "unknown"
    assert sorted(res["unlinked"]) == ["bm-spare", "compute-11x"]
    assert res["hostvars"][table["compute-2"]["id"]]["tags"] == ["ssd"]
    assert res["model"]["meta"]["backends"] == ["ironic", "maas"]


def test_baremetal_missing_ironic_is_skipped(run, rest_twin):
    services = rest_twin.cloud.services
    rest_twin.cloud.services = [s for s in services if s.name != "baremetal"]  # a cloud without Ironic
    try:
        r = run({"name": "no ironic", "vigil.openstack.baremetal_model_info": {"cloud": "vigil-twin"}})
    finally:
        rest_twin.cloud.services = services
    assert r.rc == 0, r.stdout + r.stderr
    res = r.task("no ironic")
    assert res["model"]["baremetal"]["data"] == []
    assert [s["service"] for s in res["skipped_services"]] == ["baremetal"]
    assert "not in the catalog" in res["skipped_services"][0]["reason"]


# -- inventory plugin --------------------------------------------------------------------


def _inventory(tmp_path, twin, config, extra_env=None):
    path = tmp_path / "baremetal.yml"
    path.write_text(yaml.safe_dump(config))
    # AWX style: credentials only through the environment
    env = ansible_env(
        tmp_path,
        twin.clouds_yaml,
        dict(
            {"OS_CLOUD": "vigil-twin", "MAAS_URL": twin.maas_url, "MAAS_API_KEY": twin.maas_api_key},
            **(extra_env or {}),
        ),
    )
    proc = subprocess.run(
        check=False,
        args=[str(BIN / "ansible-inventory"), "-i", str(path), "--list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def _plain(value):
    """ansible-inventory marks strings from plugins untrusted: {"__ansible_unsafe": "x"} (2.19 legacy profile)."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _members(inv, group):
    return set(inv.get(group, {}).get("hosts", []))


def test_inventory_groups_and_hostvars(tmp_path, rest_twin):
    inv = _inventory(
        tmp_path,
        rest_twin,
        {
            "plugin": "vigil.openstack.baremetal",
            "keyed_groups": [{"key": "baremetal_tags", "prefix": "tag"}],
            "groups": {"can_power_off": "power_state == 'on' and not maintenance and compute_hostname != ''"},
            "compose": {"node_label": "backend ~ ':' ~ baremetal_name"},
        },
    )
    hostvars = _plain(inv["_meta"]["hostvars"])
    assert set(hostvars) == {"bm-compute-1", "bm-compute-10", "bm-spare", "compute-2", "rack9-u12", "compute-11x"}
    assert _members(inv, "ironic") == {"bm-compute-1", "bm-compute-10", "bm-spare"}
    assert _members(inv, "maas") == {"compute-2", "rack9-u12", "compute-11x"}
    assert _members(inv, "power_on") == {"bm-compute-1", "compute-2"}
    assert _members(inv, "power_off") == {"bm-compute-10", "bm-spare", "rack9-u12"}
    assert _members(inv, "power_unknown") == {"compute-11x"}
    assert _members(inv, "maintenance") == {"bm-compute-10"}
    assert _members(inv, "provision_active") == {"bm-compute-1", "bm-compute-10"}
    assert _members(inv, "provision_ready") == {"rack9-u12"}
    assert _members(inv, "zone_zone_b") == {"rack9-u12"}
    assert _members(inv, "pool_compute") == {"compute-2"}
    assert _members(inv, "tag_ssd") == {"compute-2"}
    assert _members(inv, "unlinked") == {"bm-spare", "compute-11x"}
    assert _members(inv, "can_power_off") == {"bm-compute-1", "compute-2"}
    assert hostvars["rack9-u12"]["compute_hostname"] == "compute-3"
    assert hostvars["bm-compute-10"]["compute_hostname"] == "compute-10"
    assert hostvars["compute-2"]["node_label"] == "maas:compute-2"


def test_inventory_named_by_compute_host_and_cached(tmp_path, rest_twin):
    config = {
        "plugin": "vigil.openstack.baremetal",
        "backends": ["ironic"],
        "inventory_hostname": "compute_hostname",
        "cache": True,
        "cache_plugin": "ansible.builtin.jsonfile",
        "cache_connection": str(tmp_path / "cache"),
        "cache_timeout": 600,
    }
    rest_twin.cloud.requests.reset()
    inv = _inventory(tmp_path, rest_twin, config)
    assert set(inv["_meta"]["hostvars"]) == {
        "compute-1",
        "compute-10",
        rest_twin.cloud.stores["baremetal"].find("bm-spare")["uuid"],
    }
    first = _requests(rest_twin)["total"]
    assert first > 0
    again = _inventory(tmp_path, rest_twin, config)
    assert again["_meta"]["hostvars"] == inv["_meta"]["hostvars"]
    assert _requests(rest_twin)["total"] == first  # served from the cache


def test_inventory_clear_error(tmp_path, rest_twin):
    path = tmp_path / "baremetal.yml"
    path.write_text(yaml.safe_dump({"plugin": "vigil.openstack.baremetal", "backends": ["ironic"]}))
    env = ansible_env(
        tmp_path, rest_twin.clouds_yaml, {"OS_CLOUD": "vigil-twin-member", "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"}
    )
    proc = subprocess.run(
        check=False,
        args=[str(BIN / "ansible-inventory"), "-i", str(path), "--list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0
    assert "insufficient role" in proc.stderr


def test_inventory_awx_project_source(tmp_path, rest_twin):
    """AWX injects OS_CLIENT_CONFIG_FILE with one cloud ("devstack") and no OS_CLOUD; the
    source file names only the plugin; MAAS credentials come as environment variables."""
    clouds = yaml.safe_load(open(rest_twin.clouds_yaml))["clouds"]
    awx_clouds = tmp_path / "awx-clouds.yaml"
    awx_clouds.write_text(yaml.safe_dump({"clouds": {"devstack": clouds["vigil-twin"]}}))
    path = tmp_path / "baremetal.yml"
    path.write_text("plugin: vigil.openstack.baremetal\n")
    env = ansible_env(tmp_path, awx_clouds, {"MAAS_URL": rest_twin.maas_url, "MAAS_API_KEY": rest_twin.maas_api_key})
    env.pop("OS_CLOUD", None)
    proc = subprocess.run(
        check=False,
        args=[str(BIN / "ansible-inventory"), "-i", str(path), "--list", "--export"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    inv = json.loads(proc.stdout)
    assert len(_members(inv, "baremetal")) == 6
    assert _members(inv, "linked") == {"bm-compute-1", "bm-compute-10", "compute-2", "rack9-u12"}


# -- the demo topology (twin-core's twin/clouds_yaml fixtures) -----------------------------


def test_demo_topology_storage_and_baremetal(playbook, twin):
    topo = twin.cloud.topology
    r = playbook(
        tasks_play(
            {"name": "storage", "vigil.openstack.storage_model_info": {"cloud": "vigil-twin"}},
            {
                "name": "bm",
                "vigil.openstack.baremetal_model_info": {
                    "cloud": "vigil-twin",
                    "maas_url": twin.maas_url,
                    "maas_api_key": twin.maas_api_key,
                },
            },
        )
    )
    assert r.rc == 0, r.stdout + r.stderr
    volumes = {v["name"]: v for v in rows(r.task("storage")["model"]["volumes"])}
    assert {n: (v["size_gb"], v["pool"]) for n, v in volumes.items()} == {
        v["name"]: (v["size_gb"], v["pool"]) for v in topo["volumes"]
    }
    pools = {p["name"]: p for p in rows(r.task("storage")["model"]["pools"])}
    assert {n: p["total_capacity_gb"] for n, p in pools.items()} == {
        p["name"]: p["total_capacity_gb"] for p in topo["pools"]
    }
    for name, pool in pools.items():
        assert pool["allocated_capacity_gb"] == sum(v["size_gb"] for v in topo["volumes"] if v["pool"] == name)

    bm = {b["name"]: b for b in rows(r.task("bm")["model"]["baremetal"])}
    expected = {e["name"]: e.get("compute_hostname", "") for e in topo["baremetal"]}
    expected.update({m["hostname"]: m.get("compute_hostname", "") for m in topo["maas"]["machines"]})
    assert {n: b["hostname"] for n, b in bm.items()} == expected
    assert r.task("bm")["model"]["meta"]["backends"] == ["ironic", "maas"]
