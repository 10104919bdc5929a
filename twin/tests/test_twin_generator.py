"""The generator: reproducible, realistic, always within capacity."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

from vigil_twin.generator import generate
from vigil_twin.topology import flavor_resources, node_capacity, validate_topology


def test_same_seed_same_topology_other_seed_differs():
    a = generate(30, 400, 40, seed=7)
    assert json.dumps(a) == json.dumps(generate(30, 400, 40, seed=7))
    assert json.dumps(a) != json.dumps(generate(30, 400, 40, seed=8))


def test_valid_and_within_capacity():
    t = validate_topology(generate(40, 1200, seed=2))  # raises on any overcommitted host
    flavors = {f["name"]: f for f in t["flavors"]}
    used: dict[str, Counter] = defaultdict(Counter)
    for s in t["servers"]:
        used[s["host"]].update(flavor_resources(flavors[s["flavor"]], s["boot_from_volume"]))
    for n in t["nodes"]:
        cap = node_capacity(n)
        for rc, amount in used[n["hostname"]].items():
            assert amount <= cap[rc]


def test_realistic_shape():
    t = validate_topology(generate(60, 1500, seed=1))
    assert len({n["az"] for n in t["nodes"]}) >= 2
    assert any(n["status"] == "disabled" and n["disabled_reason"] for n in t["nodes"])
    assert any(n["pcpus"] for n in t["nodes"])
    flavors = {f["name"]: f for f in t["flavors"]}
    by_host = {n["hostname"]: n for n in t["nodes"]}
    pinned = [s for s in t["servers"] if flavors[s["flavor"]]["extra_specs"].get("hw:cpu_policy") == "dedicated"]
    sriov = [s for s in t["servers"] if "pci_passthrough:alias" in flavors[s["flavor"]]["extra_specs"]]
    assert pinned and sriov
    assert all(by_host[s["host"]]["pcpus"] for s in pinned)
    assert all("HW_NIC_SRIOV" in by_host[s["host"]]["traits"] for s in sriov)
    assert {"SHUTOFF", "ACTIVE"} <= {s["status"] for s in t["servers"]}
    assert any(s["locked"] for s in t["servers"])
    # skewed load: the busiest host carries several times the median
    counts = sorted(Counter(s["host"] for s in t["servers"]).values())
    assert counts[-1] >= 3 * counts[len(counts) // 2]
    # anti-affinity members sit on distinct hosts, affinity members together
    members = defaultdict(list)
    for s in t["servers"]:
        for g in s["server_groups"]:
            members[g].append(s["host"])
    policies = {g["name"]: g["policy"] for g in t["server_groups"]}
    assert "anti-affinity" in policies.values()
    for g, hosts in members.items():
        if policies[g] == "anti-affinity":
            assert len(hosts) == len(set(hosts))
        elif policies[g] == "affinity":
            assert len(set(hosts)) == 1


def test_volumes_and_pools_shape():
    t = generate(10, 100, volumes=50, seed=1)
    pools = {p["name"]: p for p in t["pools"]}
    assert all("@" in name and "#" in name for name in pools)
    assert len({name.split("@")[1].split("#")[0] for name in pools}) == 2  # lvm and ceph backends
    servers = {s["name"] for s in t["servers"]}
    used = Counter()
    for v in t["volumes"]:
        assert set(v) == {"name", "size_gb", "pool", "project", "volume_type", "attached_to"}
        assert v["pool"] in pools
        assert v["attached_to"] is None or v["attached_to"] in servers
        used[v["pool"]] += v["size_gb"]
    assert all(used[p] <= pools[p]["total_capacity_gb"] for p in used)
    assert len(t["volumes"]) == 50
