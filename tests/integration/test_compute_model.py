"""compute_model_info run through ansible-playbook against a twin serving a known topology.

Expected capacities come from the topology below; expected usages from the twin's own
Placement store (what Nova allocated), so the module is checked against the cloud, not
against itself.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import urllib.request

import openstack
import pytest
import yaml
from ansible_run import BIN, ansible_env, run_playbook, tasks_play

from ansible_collections.vigil.openstack.plugins.module_utils.model import frame
from vigil_twin.testing import running_twin, write_clouds_yaml

NODES = {
    # compute-1 and compute-10: a substring match would confuse them
    "compute-1": {
        "vcpus": 16,
        "memory_mb": 65536,
        "disk_gb": 500,
        "az": "az1",
        "aggregates": ["ssd"],
        "traits": ["HW_CPU_X86_AVX2"],
    },
    "compute-10": {
        "vcpus": 32,
        "pcpus": 8,
        "memory_mb": 131072,
        "disk_gb": 1000,
        "az": "az1",
        "reserved": {"memory_mb": 2048},
        "hypervisor_hostname": "compute-10.example.org",  # the Placement provider's name
    },
    "compute-2": {
        "vcpus": 16,
        "memory_mb": 65536,
        "disk_gb": 500,
        "az": "az2",
        "status": "disabled",
        "disabled_reason": "fan",
    },
    "compute-3": {"vcpus": 16, "memory_mb": 65536, "disk_gb": 500, "az": "az2", "allocation_ratio": {"vcpus": 2.0}},
    "compute-4": {"vcpus": 8, "memory_mb": 32768, "disk_gb": 200, "az": "az2", "state": "down", "forced_down": True},
}
SERVERS = [
    {
        "name": "web-1",
        "flavor": "m1.small",
        "host": "compute-1",
        "project": "demo",
        "server_groups": ["web-aa"],
        "tags": ["web"],
    },
    {
        "name": "web-2",
        "flavor": "m1.small",
        "host": "compute-10",
        "project": "demo",
        "server_groups": ["web-aa"],
        "tags": ["web"],
    },
    {"name": "avx-1", "flavor": "t1.avx", "host": "compute-1", "project": "demo"},
    {
        "name": "db-1",
        "flavor": "m1.large",
        "host": "compute-1",
        "project": "analytics",
        "boot_from_volume": True,
        "metadata": {"vigil": "skip"},
    },
    {"name": "rt-1", "flavor": "c1.pinned", "host": "compute-10", "project": "analytics"},
    {"name": "old-1", "flavor": "m1.small", "host": "compute-2", "project": "demo", "status": "SHUTOFF"},
    {"name": "lock-1", "flavor": "m1.small", "host": "compute-3", "project": "demo", "locked": True},
    {"name": "pause-1", "flavor": "m1.small", "host": "compute-3", "project": "analytics", "status": "PAUSED"},
    # device-backed ports, known only from Neutron (the flavors ask for no PCI device)
    {
        "name": "vf-1",
        "flavor": "m1.small",
        "host": "compute-3",
        "ports": [{"network": "private", "vnic_type": "direct"}],
    },
    {
        "name": "vdpa-1",
        "flavor": "m1.small",
        "host": "compute-3",
        "ports": ["private", {"network": "private", "vnic_type": "vdpa"}],
    },
]
TOPOLOGY = {
    "identity": {
        "projects": [{"name": "admin"}, {"name": "service"}, {"name": "demo"}, {"name": "analytics"}],
        "users": [
            {"name": "admin", "password": "vigil-admin", "project": "admin", "roles": ["admin", "member", "reader"]},
            {"name": "demo", "password": "vigil-demo", "project": "demo", "roles": ["member", "reader"]},
        ],
    },
    "flavors": [
        {"name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20},
        {"name": "m1.large", "vcpus": 4, "ram": 8192, "disk": 80, "swap": 1536},
        {"name": "c1.pinned", "vcpus": 4, "ram": 4096, "disk": 40, "extra_specs": {"hw:cpu_policy": "dedicated"}},
        {"name": "t1.avx", "vcpus": 2, "ram": 4096, "disk": 20, "extra_specs": {"trait:HW_CPU_X86_AVX2": "required"}},
    ],
    "aggregates": [{"name": "ssd", "metadata": {"storage": "ssd"}}],
    "nodes": [dict(spec, hostname=name) for name, spec in NODES.items()],
    "server_groups": [{"name": "web-aa", "policy": "anti-affinity", "project": "demo"}],
    "servers": SERVERS,
}
RCS = {"VCPU": "vcpus", "MEMORY_MB": "memory_mb", "DISK_GB": "disk_gb", "PCPU": "pcpus"}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    with running_twin(TOPOLOGY) as twin:
        path = write_clouds_yaml(twin, tmp_path_factory.mktemp("clouds") / "clouds.yaml")
        yield twin, path


def _reset_requests(twin):
    urllib.request.urlopen(urllib.request.Request(twin.url + "/admin/requests", method="DELETE"))


def _requests(twin):
    """The twin's request counts, without its own admin API (the reset call counts itself)."""
    counts = json.load(urllib.request.urlopen(twin.url + "/admin/requests"))
    counts["total"] -= counts["by_service"].pop("admin", 0)
    return counts


def _rows(table):
    return [dict(zip(table["columns"], row)) for row in table["data"]]


def _run(tmp_path, cloud, *tasks, **kwargs):
    twin, path = cloud
    return run_playbook(tmp_path, tasks_play(*tasks), clouds_yaml=path, **kwargs)


def _model(tmp_path, cloud, **options):
    run = _run(
        tmp_path,
        cloud,
        {
            "name": "collect",
            "vigil.openstack.compute_model_info": dict({"cloud": "vigil-twin"}, **options),
            "register": "m",
        },
    )
    assert run.rc == 0, run.stdout + run.stderr
    return run.task("collect")["model"]


def test_full_model_matches_topology_and_placement(tmp_path, cloud):
    twin = cloud[0]
    model = _model(tmp_path, cloud, placement_detail="full")
    nodes = dict((r["hostname"], r) for r in _rows(model["nodes"]))
    instances = dict((r["name"], r) for r in _rows(model["instances"]))
    assert sorted(nodes) == sorted(NODES)
    assert sorted(instances) == sorted(s["name"] for s in SERVERS)
    assert model["meta"]["placement_detail"] == "full" and model["meta"]["skipped"] == []
    assert model["meta"]["digest"] == frame.model_digest(model)

    placement = twin.cloud.stores["placement"]
    for host, spec in NODES.items():
        row = nodes[host]
        rp = placement.providers[row["rp_uuid"]]
        assert rp["name"] == row["hypervisor_hostname"] == spec.get("hypervisor_hostname", host)
        for rc, key in RCS.items():
            low = rc.lower()
            assert row[low + "_total"] == spec.get(key, 0), (host, rc)
            assert row[low + "_used"] == placement.usages.get(row["rp_uuid"], {}).get(rc, 0), (host, rc)
            inv = rp["inventories"].get(rc)
            if inv:
                assert (row[low + "_reserved"], row[low + "_allocation_ratio"]) == (
                    inv["reserved"],
                    inv["allocation_ratio"],
                )
        assert row["az"] == spec["az"]
        assert row["status"] == spec.get("status", "enabled")
    assert nodes["compute-10"]["memory_mb_reserved"] == 2048
    assert nodes["compute-3"]["vcpu_allocation_ratio"] == 2.0
    assert nodes["compute-2"]["disabled_reason"] == "fan"
    assert (nodes["compute-4"]["state"], nodes["compute-4"]["forced_down"]) == ("down", True)
    assert nodes["compute-1"]["forced_down"] is False
    assert "ssd" in nodes["compute-1"]["aggregates"] and "ssd" not in nodes["compute-10"]["aggregates"]
    # the AZ aggregate's metadata is merged in, as Nova's aggregate filters see it
    assert nodes["compute-1"]["aggregate_metadata"] == {"availability_zone": ["az1"], "storage": ["ssd"]}
    assert "storage" not in nodes["compute-10"]["aggregate_metadata"]
    assert "HW_CPU_X86_AVX2" in nodes["compute-1"]["traits"]

    # Exact host matching: compute-1 has web-1, avx-1, db-1; compute-10 has web-2, rt-1.
    by_host = {}
    for name, row in instances.items():
        by_host.setdefault(row["host"], set()).add(name)
    assert by_host["compute-1"] == {"web-1", "avx-1", "db-1"}
    assert by_host["compute-10"] == {"web-2", "rt-1"}
    assert nodes["compute-1"]["instance_count"] == 3 and nodes["compute-10"]["instance_count"] == 2

    assert instances["avx-1"]["required_traits"] == ["HW_CPU_X86_AVX2"]
    assert instances["db-1"]["boot_from_volume"] and instances["db-1"]["disk_gb"] == 0
    assert instances["web-1"]["server_groups"] == instances["web-2"]["server_groups"] != []
    expect = {"web-1": "live", "rt-1": "cold", "old-1": "cold", "lock-1": "no", "pause-1": "no", "vf-1": "cold"}
    assert dict((n, instances[n]["migratable"]) for n in expect) == expect
    assert {n for n, row in instances.items() if row["pci"]} == {"vf-1", "vdpa-1"}
    groups = _rows(model["server_groups"])
    assert [(g["name"], g["policy"], len(g["members"])) for g in groups] == [("web-aa", "anti-affinity", 2)]


def test_summary_mode_request_budget_and_usages(tmp_path, cloud):
    twin = cloud[0]
    _reset_requests(twin)
    model = _model(tmp_path, cloud, placement_detail="summary")
    counts = _requests(twin)
    # identity 1 (token; a /v3 auth_url needs no discovery), compute 5 (hypervisors,
    # aggregates, servers, server groups, and services because compute-4 is down), image 1,
    # volume 1 (the bootable volumes: db-1 boots from a volume), network 2 (ports, agents),
    # placement 1 (the provider summaries).
    assert counts["total"] == 11, counts
    assert counts["by_service"] == {
        "identity": 1,
        "compute": 5,
        "image": 1,
        "volume": 1,
        "network": 2,
        "placement": 1,
    }, counts
    nodes = dict((r["hostname"], r) for r in _rows(model["nodes"]))
    placement = twin.cloud.stores["placement"]
    for host, row in nodes.items():
        rp = row["rp_uuid"]
        assert row["vcpu_total"] + row["pcpu_total"] == NODES[host]["vcpus"] + NODES[host].get("pcpus", 0)
        for rc in ("VCPU", "MEMORY_MB", "DISK_GB", "PCPU"):
            low = rc.lower()
            assert row[low + "_used"] == placement.usages.get(rp, {}).get(rc, 0), (host, rc)
            capacity = (row[low + "_total"] - row[low + "_reserved"]) * row[low + "_allocation_ratio"]
            assert abs(capacity - placement.capacity(rp, rc)) < 1e-6, (host, rc)
        inventories = placement.providers[rp]["inventories"]
        # reserved memory and disk, derived from the hypervisor statistics, equal Placement's;
        # with them the ratios come out as configured
        for rc in ("MEMORY_MB", "DISK_GB", "VCPU"):
            assert row[rc.lower() + "_reserved"] == inventories[rc]["reserved"], (host, rc)
            assert row[rc.lower() + "_allocation_ratio"] == inventories[rc]["allocation_ratio"], (host, rc)
        assert row["traits"] == sorted(placement.providers[rp]["traits"]), host
    assert nodes["compute-10"]["pcpu_used"] == 4
    assert nodes["compute-10"]["memory_mb_reserved"] == 2048
    assert model["meta"]["placement_detail"] == "summary" and model["meta"]["placement_estimated"] == []


def test_summary_mode_reads_a_vcpu_full_host_and_takes_a_memory_full_one_as_full(tmp_path, cloud):
    """compute-3 (vCPU ratio 2.0, not Nova's default 4.0) filled to its last vCPU is still
    summarised, so read exactly; compute-1 filled to its last MiB is left out of the summaries:
    modelled full on every class, its traits unknown (none), and meta says so."""
    twin, clouds = cloud
    config = openstack.config.OpenStackConfig(config_files=[str(clouds)])
    conn = openstack.connection.Connection(config=config.get_one("vigil-twin"))
    placement = twin.cloud.stores["placement"]
    rp = dict((p["name"], u) for u, p in placement.providers.items())
    fillers = []  # consumers taking every free unit, each within max_unit
    for host, rc in (("compute-3", "VCPU"), ("compute-1", "MEMORY_MB")):
        free = placement.capacity(rp[host], rc) - placement.usages[rp[host]].get(rc, 0)
        max_unit = placement.providers[rp[host]]["inventories"][rc]["max_unit"]
        while free > 0:
            take = min(free, max_unit)
            fillers.append(("0badcafe-0000-4000-8000-%012d" % len(fillers), rp[host], rc, take))
            free -= take
    try:
        for consumer, provider, rc, amount in fillers:
            body = {
                "allocations": {provider: {"resources": {rc: amount}}},
                "project_id": conn.current_project_id,
                "user_id": conn.current_user_id,
                "consumer_generation": None,
            }
            conn.placement.put("/allocations/" + consumer, json=body, microversion="1.28").raise_for_status()
        _reset_requests(twin)
        model = _model(tmp_path, cloud, placement_detail="summary")
        counts = _requests(twin)
        vcpu_used = placement.usages[rp["compute-3"]]["VCPU"]  # with the filler
    finally:
        for consumer, *_unused in fillers:
            conn.placement.delete("/allocations/" + consumer, microversion="1.28")
    assert counts["by_service"]["placement"] == 1, counts  # the summaries, nothing per host
    assert model["meta"]["placement_estimated"] == ["compute-1"]
    nodes = dict((r["hostname"], r) for r in _rows(model["nodes"]))

    def free(row, rc):
        low = rc.lower()
        return (row[low + "_total"] - row[low + "_reserved"]) * row[low + "_allocation_ratio"] - row[low + "_used"]

    full_vcpu = nodes["compute-3"]
    assert full_vcpu["vcpu_allocation_ratio"] == 2.0 and full_vcpu["vcpu_used"] == vcpu_used
    assert free(full_vcpu, "VCPU") == 0 and free(full_vcpu, "MEMORY_MB") > 0
    assert full_vcpu["traits"] == sorted(placement.providers[rp["compute-3"]]["traits"])
    left_out = nodes["compute-1"]
    assert all(abs(free(left_out, rc)) < 1e-6 for rc in ("VCPU", "MEMORY_MB", "DISK_GB", "PCPU"))
    assert left_out["traits"] == []
    assert left_out["memory_mb_used"] == placement.usages[rp["compute-1"]]["MEMORY_MB"]  # the servers'; filler gone


def test_scope_exact_hosts_exclusions_and_snapshot(tmp_path, cloud):
    snap = tmp_path / "model.json.gz"
    run = _run(
        tmp_path,
        cloud,
        {
            "name": "one host",
            "vigil.openstack.compute_model_info": {"cloud": "vigil-twin", "compute_nodes": ["compute-1"]},
            "register": "a",
        },
        {
            "name": "az",
            "vigil.openstack.compute_model_info": {"cloud": "vigil-twin", "availability_zones": ["az2"]},
            "register": "b",
        },
        {
            "name": "exclusions",
            "vigil.openstack.compute_model_info": {
                "cloud": "vigil-twin",
                "host_aggregates": ["ssd"],
                "exclude": {"instance_metadata": {"vigil": "skip"}, "instance_tags": ["web"]},
                "snapshot_path": str(snap),
            },
            "register": "c",
        },
        {
            "name": "no match",
            "vigil.openstack.compute_model_info": {"cloud": "vigil-twin", "compute_nodes": ["compute-"]},
            "ignore_errors": True,
        },
        {
            "name": "by project",
            "vigil.openstack.compute_model_info": {"cloud": "vigil-twin", "projects": ["analytics"]},
            "register": "d",
        },
        {
            "name": "bad project",
            "vigil.openstack.compute_model_info": {"cloud": "vigil-twin", "projects": ["nope"]},
            "ignore_errors": True,
        },
    )
    one = run.task("one host")["model"]
    assert [r["hostname"] for r in _rows(one["nodes"])] == ["compute-1"]
    assert sorted(r["name"] for r in _rows(one["instances"])) == ["avx-1", "db-1", "web-1"]
    az = run.task("az")["model"]
    assert sorted(r["hostname"] for r in _rows(az["nodes"])) == ["compute-2", "compute-3", "compute-4"]
    excl = run.task("exclusions")
    assert excl["model"]["meta"]["scope"] == {
        "host_aggregates": ["ssd"],
        "exclude": {"instance_metadata": {"vigil": "skip"}, "instance_tags": ["web"]},
    }
    # excluded instances stay in the model (they take capacity); the planner re-applies the scope
    assert sorted(r["name"] for r in _rows(excl["model"]["instances"])) == ["avx-1", "db-1", "web-1"]
    assert stat.S_IMODE(os.stat(snap).st_mode) == 0o600
    assert frame.load_snapshot(str(snap))["meta"]["digest"] == excl["model"]["meta"]["digest"]
    failed = run.task("no match")
    assert run.status("no match") == "failed" and failed["msg"] == "bad scope: the scope matches no compute node"
    twin = cloud[0]
    analytics = twin.cloud.stores["identity"].project_by_name["analytics"]
    by_project = run.task("by project")["model"]
    assert by_project["meta"]["scope"] == {"projects": [analytics]}
    assert len(by_project["instances"]["data"]) == len(SERVERS)  # other projects' servers stay as load
    assert (
        run.status("bad project") == "failed" and run.task("bad project")["msg"] == "bad scope: unknown project: nope"
    )


def test_check_mode_and_clear_errors(tmp_path, cloud):
    run = _run(
        tmp_path,
        cloud,
        {
            "name": "check",
            "vigil.openstack.compute_model_info": {"cloud": "vigil-twin"},
            "check_mode": True,
            "register": "c",
        },
        {"name": "member", "vigil.openstack.compute_model_info": {"cloud": "vigil-twin-member"}, "ignore_errors": True},
        {"name": "bad cloud", "vigil.openstack.compute_model_info": {"cloud": "no-such-cloud"}, "ignore_errors": True},
        {
            "name": "bad password",
            "vigil.openstack.compute_model_info": {
                "auth": {
                    "auth_url": cloud[0].url + "/identity/v3",
                    "username": "admin",
                    "password": "wrong",
                    "project_name": "admin",
                    "user_domain_name": "Default",
                    "project_domain_name": "Default",
                },
            },
            "ignore_errors": True,
        },  # fmt: skip
        {
            "name": "unreachable",
            "vigil.openstack.compute_model_info": {
                "auth": {
                    "auth_url": "http://127.0.0.1:9/identity/v3",
                    "username": "admin",
                    "password": "x",
                    "project_name": "admin",
                    "user_domain_name": "Default",
                    "project_domain_name": "Default",
                },
            },
            "ignore_errors": True,
        },  # fmt: skip
        {
            "name": "bad option",
            "vigil.openstack.compute_model_info": {"cloud": "vigil-twin", "allocation_ratios": {"VCPU": "lots"}},
            "ignore_errors": True,
        },
    )
    check = run.task("check")
    assert run.status("check") == "ok" and not check["changed"] and len(check["model"]["nodes"]["data"]) == len(NODES)
    msgs = dict(
        (name, run.task(name)["msg"]) for name in ("member", "bad cloud", "bad password", "unreachable", "bad option")
    )
    for name, msg in msgs.items():
        assert "\n" not in msg and "Traceback" not in msg, (name, msg)
    assert "admin" in msgs["member"] and "403" in msgs["member"]
    assert "no-such-cloud" in msgs["bad cloud"]
    assert msgs["bad password"].startswith("authentication failed")
    assert "unreachable" in msgs["unreachable"]
    # auth given as a (no_log) module option: Ansible masks its auth_url, the host still shows
    assert "identity endpoint on 127.0.0.1:9 (auth.auth_url) unreachable" in msgs["unreachable"], msgs["unreachable"]
    assert msgs["bad option"] == "bad option: allocation_ratios.VCPU must be a number, got 'lots'"


def test_missing_services_are_skipped_not_fatal(tmp_path):
    # A cloud whose catalog has no Placement, Glance or Neutron: Nova alone still gives a model.
    with running_twin(TOPOLOGY) as twin:
        twin.cloud.services = [
            s for s in twin.services if s.name not in ("placement", "image", "network")
        ]  # catalog only
        path = write_clouds_yaml(twin, tmp_path / "clouds.yaml")
        run = run_playbook(
            tmp_path,
            tasks_play(
                {"name": "collect", "vigil.openstack.compute_model_info": {"cloud": "vigil-twin"}, "register": "m"}
            ),
            clouds_yaml=path,
        )
    assert run.rc == 0, run.stdout + run.stderr
    result = run.task("collect")
    skipped = sorted(s["service"] for s in result["model"]["meta"]["skipped"])
    assert skipped == ["image", "network", "placement"]
    nodes = dict((r["hostname"], r) for r in _rows(result["model"]["nodes"]))
    assert nodes["compute-1"]["vcpu_total"] == 16 and nodes["compute-1"]["vcpu_used"] == 1 + 2 + 4


def _inventory(tmp_path, cloud, config, *args):
    path = cloud[1]
    inv = tmp_path / "hypervisors.yml"
    inv.write_text(yaml.safe_dump(dict({"plugin": "vigil.openstack.hypervisors", "cloud": "vigil-twin"}, **config)))
    env = ansible_env(tmp_path, path, {"ANSIBLE_INVENTORY_ENABLED": "vigil.openstack.hypervisors"})
    proc = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(inv), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return proc, inv


def _plain(value):
    """ansible-inventory --list marks plugin strings untrusted: {"__ansible_unsafe": "x"} -> "x"."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return dict((k, _plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def test_hypervisors_inventory_groups_hostvars_and_cache(tmp_path, cloud):
    twin = cloud[0]
    config = {
        "instances": True,
        "scope": {"compute_nodes": ["compute-1", "compute-10", "compute-2"]},
        "groups": {"has_pinned_capacity": "capacity.PCPU.usable > 0"},
        "keyed_groups": [{"key": "traits", "prefix": "trait"}],
        "cache": True,
        "cache_plugin": "ansible.builtin.jsonfile",
        "cache_connection": str(tmp_path / "cache"),
        "cache_timeout": 600,
    }
    proc, inv = _inventory(tmp_path, cloud, config, "--list")
    assert proc.returncode == 0, proc.stderr
    data = _plain(json.loads(proc.stdout))
    hostvars = data["_meta"]["hostvars"]
    assert sorted(hostvars) == ["compute-1", "compute-10", "compute-2"]
    assert sorted(data["az_az1"]["hosts"]) == ["compute-1", "compute-10"] and data["az_az2"]["hosts"] == ["compute-2"]
    assert data["status_disabled"]["hosts"] == ["compute-2"]
    assert data["aggregate_ssd"]["hosts"] == ["compute-1"]
    assert data["has_pinned_capacity"]["hosts"] == ["compute-10"]
    assert "compute-1" in data["trait_HW_CPU_X86_AVX2"]["hosts"]
    c1 = hostvars["compute-1"]
    placement = twin.cloud.stores["placement"]
    used = placement.usages[c1["rp_uuid"]]
    assert c1["capacity"]["VCPU"]["used"] == used["VCPU"] and c1["capacity"]["VCPU"]["total"] == 16
    assert (
        c1["capacity"]["MEMORY_MB"]["free"]
        == (65536 - c1["capacity"]["MEMORY_MB"]["reserved"]) * 1.0 - used["MEMORY_MB"]
    )
    assert "vcpu_total" not in c1  # amounts per resource class live in capacity
    assert sorted(i["name"] for i in c1["instances"]) == ["avx-1", "db-1", "web-1"]
    assert sorted(i["name"] for i in hostvars["compute-10"]["instances"]) == ["rt-1", "web-2"]

    # Second run: from the cache, not a single request to the cloud.
    _reset_requests(twin)
    again = _inventory(tmp_path, cloud, config, "--list")[0]
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["_meta"]["hostvars"].keys() == hostvars.keys()
    assert _requests(twin)["total"] == 0

    # The same inventory drives a playbook: one host per compute node, exact names.
    play = [
        {
            "hosts": "az_az1",
            "gather_facts": False,
            "connection": "local",
            "tasks": [{"name": "free", "ansible.builtin.debug": {"var": "capacity.VCPU.free"}}],
        }
    ]
    run = run_playbook(
        tmp_path,
        play,
        clouds_yaml=cloud[1],
        args=["-i", str(inv)],
        env={"ANSIBLE_INVENTORY_ENABLED": "vigil.openstack.hypervisors"},
    )
    assert run.rc == 0, run.stdout + run.stderr
    assert sorted(r["host"] for r in run.results if r["task"] == "free") == ["compute-1", "compute-10"]


def test_hypervisors_inventory_error_is_one_line(tmp_path, cloud):
    proc = _inventory(tmp_path, cloud, {"cloud": "vigil-twin-member"}, "--list")[0]
    assert "vigil.openstack.hypervisors: " in proc.stderr and "403" in proc.stderr
    assert "Traceback" not in proc.stderr


def _faults(twin, config):
    body = json.dumps(config).encode()
    req = urllib.request.Request(twin.url + "/admin/faults", data=body, method="PUT" if config else "DELETE")
    req.add_header("Content-Type", "application/json")
    urllib.request.urlopen(req)


def test_5xx_are_retried_with_backoff_then_reported(tmp_path, cloud):
    twin = cloud[0]
    # Every third-ish compute request fails (seeded, so the sequence is the same each run).
    _faults(twin, {"seed": 7, "services": {"compute": {"error_rate": 0.3, "error_status": 503}}})
    try:
        _reset_requests(twin)
        model = _model(tmp_path, cloud, placement_detail="summary")
        log = json.load(urllib.request.urlopen(twin.url + "/admin/requests?log=1"))["log"]
        assert len(model["instances"]["data"]) == len(SERVERS)
        compute = [r for r in log if r["service"] == "compute"]
        failures = [r for r in compute if r["status"] == 503]
        # hypervisors, aggregates, servers, server groups, services (compute-4 is down): each
        # answered once, plus one retry per 503
        assert failures and len(compute) == 5 + len(failures), compute
        _faults(twin, {"services": {"compute": {"error_rate": 1.0, "error_status": 503}}})
        run = _run(
            tmp_path,
            cloud,
            {"name": "down", "vigil.openstack.compute_model_info": {"cloud": "vigil-twin"}, "ignore_errors": True},
        )
        msg = run.task("down")["msg"]
        assert run.status("down") == "failed" and "HTTP 503" in msg and "\n" not in msg, msg
    finally:
        _faults(twin, {})


def test_migration_in_progress_is_read_and_blocks_the_server(tmp_path, monkeypatch):
    # A slow migration (600 s of twin time at speed 1) is under way while the module runs.
    import openstack

    topology = dict(TOPOLOGY, timing={"live_migration_base_seconds": 600.0})
    with running_twin(topology, speed=1.0) as twin:
        path = write_clouds_yaml(twin, tmp_path / "clouds.yaml")
        monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
        conn = openstack.connect(cloud="vigil-twin")
        web1 = conn.compute.find_server("web-1", all_projects=True)
        conn.compute.live_migrate_server(web1, host="compute-3", block_migration="auto")
        run = run_playbook(
            tmp_path,
            tasks_play(
                {"name": "collect", "vigil.openstack.compute_model_info": {"cloud": "vigil-twin"}, "register": "m"}
            ),
            clouds_yaml=path,
        )
        paths = [r["path"] for r in _requests(twin)["requests"]]
    assert run.rc == 0, run.stdout + run.stderr
    model = run.task("collect")["model"]
    assert "/compute/v2.1/os-migrations" in paths
    assert model["meta"]["migrations_in_progress"] == [web1.id]
    row = next(r for r in _rows(model["instances"]) if r["name"] == "web-1")
    assert row["migratable"] == "no" and row["status"] == "MIGRATING", row
