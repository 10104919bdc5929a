"""Topology loading and validation: every error names the field."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from vigil_twin.testing import DEMO_TOPOLOGY
from vigil_twin.topology import TopologyError, dump_topology, load_topology, validate_topology, write_clouds_yaml

BASE = {
    "flavors": [
        {"name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20},
        {"name": "m1.big", "vcpus": 16, "ram": 65536, "disk": 100},
    ],
    "nodes": [
        {"hostname": "compute-1", "vcpus": 8, "memory_mb": 32768, "disk_gb": 500},
        {"hostname": "compute-2", "vcpus": 8, "memory_mb": 32768, "disk_gb": 500, "az": "az2"},
    ],
    "server_groups": [{"name": "g1", "policy": "anti-affinity"}],
    "servers": [
        {"name": "a", "flavor": "m1.small", "host": "compute-1", "server_groups": ["g1"]},
        {"name": "b", "flavor": "m1.small", "host": "compute-2", "server_groups": ["g1"]},
    ],
}


def broken(path: str, value, delete: bool = False) -> dict:
    t = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    obj = t
    for p in parents:
        obj = obj[int(p)] if p.isdigit() else obj[p]
    key = int(last) if last.isdigit() else last
    if delete:
        del obj[key]
    else:
        obj[key] = value
    return t


@pytest.mark.parametrize(
    ("path", "value", "delete", "message"),
    [
        ("servers.1.flavor", "m1.huge", False, "servers[1].flavor: unknown flavor 'm1.huge'"),
        ("servers.0.host", "compute-3", False, "servers[0].host: unknown host 'compute-3'"),
        ("servers.0.host", None, True, "servers[0].host: is required for a ACTIVE server"),
        ("servers.0.status", "RUNNING", False, "servers[0].status: unknown status 'RUNNING'"),
        ("servers.0.project", "nope", False, "servers[0].project: unknown project 'nope'"),
        ("servers.0.server_groups", ["g2"], False, "servers[0].server_groups[0]: unknown server group 'g2'"),
        ("servers.0.cpu_util_pct", 140, False, "servers[0].cpu_util_pct: must be between 0 and 100"),
        ("servers.0.colour", "red", False, "servers[0].colour: unknown field"),
        ("servers.1.name", "a", False, "servers[1].name: duplicate name 'a'"),
        ("nodes.1.hostname", "compute-1", False, "nodes[1].hostname: duplicate hostname 'compute-1'"),
        ("nodes.0.vcpus", "8", False, "nodes[0].vcpus: must be an integer"),
        ("nodes.0.vcpus", None, True, "nodes[0].vcpus: is required"),
        ("nodes.0.status", "off", False, "nodes[0].status: must be enabled or disabled"),
        ("nodes.0.allocation_ratio", {"vcpus": -1}, False, "nodes[0].allocation_ratio.vcpus: must be >= 0.01"),
        ("nodes.0.reserved", {"memory_mb": 99999}, False, "nodes[0].reserved.memory_mb: 99999 exceeds"),
        (
            "flavors.0.extra_specs",
            {"hw:cpu_policy": 1},
            False,
            "flavors[0].extra_specs.hw:cpu_policy: must be a string",
        ),
        ("server_groups.0.policy", "spread", False, "server_groups[0].policy: unknown policy 'spread'"),
        (
            "server_groups.0.rules",
            {"max_server_per_host": 0},
            False,
            "server_groups[0].rules.max_server_per_host: must be >= 1",
        ),
        ("servers", {"a": 1}, False, "servers: must be a list"),
    ],
)
def test_errors_name_the_field(path, value, delete, message):
    with pytest.raises(TopologyError) as err:
        validate_topology(broken(path, value, delete))
    assert message in str(err.value)


def test_overcommitted_host_is_refused():
    t = copy.deepcopy(BASE)
    t["servers"].append({"name": "huge", "flavor": "m1.big", "host": "compute-1"})
    with pytest.raises(TopologyError, match=r"nodes\[0\]: host compute-1 is overcommitted: MEMORY_MB"):
        validate_topology(t)


def test_identity_needs_admin_and_member():
    t = dict(BASE, identity={"users": [{"name": "root", "password": "x", "project": "admin", "roles": ["admin"]}]})
    with pytest.raises(
        TopologyError, match="identity.users: need at least one user with the admin role and one without"
    ):
        validate_topology(t)
    t = dict(BASE, identity={"users": [{"name": "u", "password": "x", "project": "nowhere"}]})
    with pytest.raises(TopologyError, match=r"identity.users\[0\].project: unknown project 'nowhere'"):
        validate_topology(t)


def test_defaults_ids_and_azs():
    t = validate_topology(BASE)
    assert {u["name"] for u in t["identity"]["users"]} == {"admin", "demo"}
    assert t["servers"][0]["id"] == validate_topology(BASE)["servers"][0]["id"]  # stable ids
    aggs = {a["name"]: a for a in t["aggregates"]}
    assert aggs["az2"]["metadata"] == {"availability_zone": "az2"} and aggs["az2"]["hosts"] == ["compute-2"]
    assert t["nodes"][0]["az"] == "nova"
    assert t["timing"]["live_migration_base_seconds"] > 0


def test_other_sections_pass_through_untouched():
    t = dict(BASE, volumes=[{"whatever": True}], maas={"machines": []})
    v = validate_topology(t)
    assert v["volumes"] == [{"whatever": True}] and v["maas"] == {"machines": []}


def test_load_yaml_json_and_dump_round_trip(tmp_path):
    y = tmp_path / "t.yaml"
    y.write_text(yaml.safe_dump(BASE))
    j = tmp_path / "t.json"
    j.write_text(json.dumps(BASE))
    assert load_topology(y)["servers"] == load_topology(j)["servers"]
    out = tmp_path / "out.yaml"
    dump_topology(load_topology(y), str(out))
    assert load_topology(out)["servers"] == load_topology(y)["servers"]


def test_load_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("servers: [\n")
    with pytest.raises(TopologyError, match="bad.yaml: not valid YAML"):
        load_topology(bad)
    with pytest.raises(TopologyError, match="cannot read"):
        load_topology(tmp_path / "missing.yaml")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(yaml.safe_dump(broken("servers.1.flavor", "m1.huge")))
    with pytest.raises(TopologyError, match=r"wrong.yaml: servers\[1\].flavor: unknown flavor 'm1.huge'"):
        load_topology(wrong)


def test_demo_topology_loads():
    t = load_topology(DEMO_TOPOLOGY)
    hosts = {n["hostname"] for n in t["nodes"]}
    assert {"compute-1", "compute-10"} <= hosts
    assert len({n["az"] for n in t["nodes"]}) == 2
    statuses = {s["status"] for s in t["servers"]}
    assert "SHUTOFF" in statuses
    assert any(s["locked"] for s in t["servers"])
    assert any(g["policy"] == "anti-affinity" for g in t["server_groups"])


def test_clouds_yaml(twin, tmp_path):
    path = write_clouds_yaml(twin, tmp_path / "clouds.yaml")
    clouds = yaml.safe_load(open(path))["clouds"]
    assert set(clouds) == {"vigil-twin", "vigil-twin-member", "vigil-twin-system"}
    assert clouds["vigil-twin"]["auth"]["auth_url"] == f"{twin.url}/identity/v3"
    assert clouds["vigil-twin"]["auth"]["username"] == "admin"
    assert clouds["vigil-twin-member"]["auth"]["project_name"] == "demo"
    assert clouds["vigil-twin-system"]["auth"]["system_scope"] == "all"
