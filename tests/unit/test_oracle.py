# -*- coding: utf-8 -*-
"""The plan referee (oracle.py): each rule catches a hand-built plan that breaks it; the lower
bound on hand-computed clouds; the random-fit generator; neither imports strategy code."""

import ast
from pathlib import Path

import oracle
import pytest
from modelgen import instances_frame, nodes_frame, with_usage
from randomfit import add_load, random_fit

from ansible_collections.vigil.openstack.plugins.module_utils.model import frame

HERE = Path(__file__).parent


def cloud(servers, hosts=3, vcpus=8, ram=16384, disk=100, groups=(), **node_kw):
    """Hosts h0.. (8 vCPU, 16 GiB, 100 GiB, ratios 1.0); servers: (uuid, host, vcpus, ram MiB, extra)."""
    names = ["h%d" % k for k in range(hosts)]
    nodes = nodes_frame(names, [vcpus] * hosts, [ram] * hosts, [disk] * hosts, ratio=(1.0, 1.0, 1.0), **node_kw)
    rows = [dict(uuid=u, host=h, vcpus=c, memory_mb=r, disk_gb=10, **(x[0] if x else {})) for u, h, c, r, *x in servers]
    inst = instances_frame(rows)
    sg = {"id": [], "name": [], "policy": [], "members": [], "max_server_per_host": [], "project_id": []}
    for gid, policy, members, mx in groups:
        for k, v in (("id", gid), ("name", gid), ("policy", policy), ("members", members)):
            sg[k].append(v)
        sg["max_server_per_host"].append(mx)
        sg["project_id"].append("p1")
    return {
        "nodes": with_usage(nodes, inst),
        "instances": inst,
        "server_groups": frame.from_columns("server_groups", sg),
    }


def mig(uuid, src, dst, kind="live", parents=()):
    inp = {"migration_type": kind, "source_node": src, "destination_node": dst}
    return {"type": "migrate", "resource": uuid, "input": inp, "parents": list(parents)}


def service(host, state):
    return {"type": "compute_service", "resource": host, "input": {"host": host, "state": state}, "parents": []}


def power(host, state):
    inp = {"hostname": host, "backend": "ironic", "node_id": "n-" + host, "state": state}
    return {"type": "node_power", "resource": host, "input": inp, "parents": []}


def plan(*actions, **params):
    acts = [dict(a, id=a.get("id", "a%d" % (k + 1))) for k, a in enumerate(actions)]
    return {"parameters": params, "actions": acts}


def found(model, p, rule_text):
    bad = oracle.violations(model, p)
    assert len(bad) == 1 and rule_text in bad[0], bad
    return bad


def test_valid_plan_and_its_figures():
    m = cloud([("a", "h0", 2, 4096), ("b", "h1", 4, 4096), ("c", "h2", 2, 2048)])
    v = oracle.check(m, plan(mig("a", "h0", "h1"), mig("c", "h2", "h1"), service("h0", "disabled")))
    assert v.violations == []
    assert (v.hosts_in_use_before, v.hosts_in_use_after, v.migrations, v.memory_moved_gb) == (3, 1, 2, 6.0)
    assert v.placement == {"a": "h1", "b": "h1", "c": "h1"}


def test_parents_must_come_first():
    m = cloud([("a", "h0", 1, 1024)])
    found(m, plan(mig("a", "h0", "h1", parents=["a2"]), service("h0", "disabled")), "parent a2 is not an earlier")


def test_unknown_server_and_destination():
    m = cloud([("a", "h0", 1, 1024)])
    found(m, plan(mig("zz", "h0", "h1")), "unknown server zz")
    found(m, plan(mig("a", "h0", "h9")), "unknown destination h9")
    found(m, plan(mig("a", "h0", "h0")), "already on h0")


def test_source_is_where_the_server_is_then():
    m = cloud([("a", "h0", 1, 1024)])
    found(m, plan(mig("a", "h1", "h2")), "a is on h0, not on the source h1")
    # moved twice: the second move must name the first one's destination as its source
    assert oracle.violations(m, plan(mig("a", "h0", "h1"), mig("a", "h1", "h2"))) == []
    found(m, plan(mig("a", "h0", "h1"), mig("a", "h0", "h2")), "a is on h1, not on the source h0")


@pytest.mark.parametrize(
    "extra, kind, params, ok",
    [
        ({}, "live", {}, True),
        ({"status": "SHUTOFF"}, "live", {}, False),
        ({"status": "SHUTOFF"}, "cold", {}, True),
        ({"status": "PAUSED"}, "live", {}, False),
        ({"status": "PAUSED"}, "cold", {}, False),
        ({"locked": True}, "live", {}, False),
        ({"task_state": "migrating"}, "live", {}, False),
        ({"pinned": True, "migratable": "cold"}, "live", {}, False),
        ({"pci": True}, "live", {}, False),
        ({"vgpu": True}, "live", {}, False),
        ({"migratable": "no"}, "cold", {"allow_cold_active": True}, False),
        ({"pinned": True, "migratable": "cold"}, "cold", {}, False),  # ACTIVE: a reboot nobody allowed
        ({"pinned": True, "migratable": "cold"}, "cold", {"allow_cold_active": True}, True),
        ({}, "cold", {"allow_cold_active": True}, False),  # it could have gone live
        ({}, "cold", {"disable_live_migration": True}, True),  # host_maintenance without live
        ({}, "live", {"disable_live_migration": True}, False),
        ({"status": "SHUTOFF"}, "cold", {"disable_cold_migration": True}, False),
    ],
)
def test_server_state_decides_the_migration_type(extra, kind, params, ok):
    m = cloud([("a", "h0", 1, 1024, extra)])
    bad = oracle.violations(m, plan(mig("a", "h0", "h1", kind), **params))
    assert (bad == []) is ok, bad
    if not ok:
        assert "%s migration of a" % kind in bad[0]


def test_destination_enabled_at_that_point():
    m = cloud([("a", "h0", 1, 1024)], status=["enabled", "disabled", "enabled"])
    found(m, plan(mig("a", "h0", "h1")), "destination h1 is disabled")
    assert oracle.violations(m, plan(service("h1", "enabled"), mig("a", "h0", "h1"))) == []
    assert len(oracle.violations(m, plan(mig("a", "h0", "h1"), service("h1", "enabled")))) == 1
    # disabled earlier in the plan
    found(cloud([("a", "h0", 1, 1024)]), plan(service("h1", "disabled"), mig("a", "h0", "h1")), "h1 is disabled")


@pytest.mark.parametrize(
    "node_kw",
    [{"state": ["up", "down", "up"]}, {"power_state": ["on", "off", "on"]}],
)
def test_destination_up_and_powered(node_kw):
    found(cloud([("a", "h0", 1, 1024)], **node_kw), plan(mig("a", "h0", "h1")), "h1 is down or powered off")


def test_destination_forced_down_or_agent_down():
    for col in ("forced_down", "network_agent_up"):
        m = cloud([("a", "h0", 1, 1024)])
        m["nodes"][col] = [False, col == "forced_down", False] if col == "forced_down" else [True, False, True]
        found(m, plan(mig("a", "h0", "h1")), "h1 is down or powered off")


def test_powered_on_by_the_plan_first():
    m = cloud([("a", "h0", 1, 1024)], power_state=["on", "off", "on"])
    assert oracle.violations(m, plan(power("h1", "on"), mig("a", "h0", "h1"))) == []


def test_no_migration_onto_a_host_the_plan_disables():
    m = cloud([("a", "h0", 1, 1024)])
    found(m, plan(mig("a", "h0", "h1"), service("h1", "disabled")), "the plan disables h1, which receives a")


def test_same_az_unless_allowed():
    m = cloud([("a", "h0", 1, 1024)], az=["az0", "az1", "az0"])
    found(m, plan(mig("a", "h0", "h1")), "a leaves AZ az0 for az1")
    assert oracle.violations(m, plan(mig("a", "h0", "h1"), allow_cross_az=True)) == []
    assert oracle.violations(m, plan(mig("a", "h0", "h2"))) == []


def test_same_aggregates_with_policy_same():
    m = cloud([("a", "h0", 1, 1024)], aggregates=[["rack1"], ["rack2"], ["rack1"]])
    found(m, plan(mig("a", "h0", "h1")), "a changes aggregates")
    assert oracle.violations(m, plan(mig("a", "h0", "h1"), aggregate_policy="any")) == []


def test_required_traits():
    m = cloud([("a", "h0", 1, 1024, {"required_traits": ["T"]})], traits=[["T"], [], ["T", "U"]])
    found(m, plan(mig("a", "h0", "h1")), "h1 lacks traits ['T']")
    assert oracle.violations(m, plan(mig("a", "h0", "h2"))) == []


@pytest.mark.parametrize(
    "server, rc",
    [(("b", "h0", 5, 1024), "VCPU"), (("b", "h0", 1, 13000), "MEMORY_MB"), (("b", "h0", 1, 1024), "DISK_GB")],
)
def test_capacity_per_resource_class(server, rc):
    m = cloud([("a", "h1", 4, 4096), server])
    m["nodes"]["disk_gb_total"] = [100, 15, 100]  # h1 holds a's 10 GiB: no room for another 10
    if rc != "DISK_GB":
        m["nodes"]["disk_gb_total"] = 100
    found(m, plan(mig("b", "h0", "h1")), "h1 over %s capacity" % rc)


def test_capacity_counts_ratio_and_reserved():
    m = cloud([("a", "h1", 4, 4096), ("b", "h0", 10, 1024)])
    found(m, plan(mig("b", "h0", "h1")), "over VCPU capacity (4 + 10 > 8)")
    m["nodes"]["vcpu_allocation_ratio"] = 2.0  # 8 x 2.0 = 16 >= 14
    assert oracle.violations(m, plan(mig("b", "h0", "h1"))) == []
    m = cloud([("a", "h1", 1, 8192), ("b", "h0", 1, 6144)])
    assert oracle.violations(m, plan(mig("b", "h0", "h1"))) == []
    m["nodes"]["memory_mb_reserved"] = 4096  # (16384 - 4096) x 1.0 < 8192 + 6144
    found(m, plan(mig("b", "h0", "h1")), "over MEMORY_MB capacity")


def test_capacity_follows_plan_order():
    # h1 is full until c leaves it: b may only follow c's move
    m = cloud([("c", "h1", 8, 4096), ("b", "h0", 8, 4096)])
    assert oracle.violations(m, plan(mig("c", "h1", "h2"), mig("b", "h0", "h1"))) == []
    found(m, plan(mig("b", "h0", "h1"), mig("c", "h1", "h2")), "h1 over VCPU capacity")


def test_used_comes_from_placement_not_from_the_servers():
    # Placement books 6 vCPUs on h1 for a consumer the instances table does not list
    m = cloud([("b", "h0", 4, 1024)])
    m["nodes"]["vcpu_used"] = [4, 6, 0]
    found(m, plan(mig("b", "h0", "h1")), "h1 over VCPU capacity (6 + 4 > 8)")


def test_anti_affinity():
    groups = [("g", "anti-affinity", ["a", "b"], 1)]
    m = cloud([("a", "h0", 1, 1024), ("b", "h1", 1, 1024)], groups=groups)
    found(m, plan(mig("a", "h0", "h1")), "anti-affinity group g would have 2 on h1")
    assert oracle.violations(m, plan(mig("a", "h0", "h2"))) == []
    m = cloud([("a", "h0", 1, 1024), ("b", "h1", 1, 1024)], groups=[("g", "anti-affinity", ["a", "b"], 2)])
    assert oracle.violations(m, plan(mig("a", "h0", "h1"))) == []


def test_affinity():
    groups = [("g", "affinity", ["a", "b"], 1)]
    m = cloud([("a", "h0", 1, 1024), ("b", "h0", 1, 1024), ("c", "h1", 1, 1024)], groups=groups)
    found(m, plan(mig("a", "h0", "h1")), "affinity group g has members off h1")
    # a member alone on its host may join the others
    m = cloud([("a", "h0", 1, 1024), ("b", "h1", 1, 1024)], groups=[("g", "affinity", ["a", "b"], 1)])
    assert oracle.violations(m, plan(mig("a", "h0", "h1"))) == []


def test_soft_policies_hard_unless_ignored():
    groups = [("g", "soft-anti-affinity", ["a", "b"], 1)]
    m = cloud([("a", "h0", 1, 1024), ("b", "h1", 1, 1024)], groups=groups)
    found(m, plan(mig("a", "h0", "h1")), "anti-affinity group g")
    assert oracle.violations(m, plan(mig("a", "h0", "h1"), soft_policies="ignore")) == []


def test_group_membership_read_from_the_server_too():
    m = cloud(
        [("a", "h0", 1, 1024, {"server_groups": ["g"]}), ("b", "h1", 1, 1024)],
        groups=[("g", "anti-affinity", ["b"], 1)],
    )
    found(m, plan(mig("a", "h0", "h1")), "anti-affinity group g")


def test_power_off_only_empty_hosts():
    m = cloud([("a", "h0", 1, 1024)])
    found(m, plan(power("h0", "off")), "powers off h0, which holds a")
    assert oracle.violations(m, plan(mig("a", "h0", "h1"), power("h0", "off"))) == []
    found(m, plan(power("h1", "off"), mig("a", "h0", "h1")), "h1 is down or powered off")


def test_split_tables_and_scheduler_moves():
    m = cloud([("a", "h0", 1, 1024), ("b", "h0", 1, 1024, {"locked": True})])
    split = {k: frame.to_split(v) for k, v in m.items()}
    v = oracle.check(split, plan(mig("a", "h0", None), mig("b", "h0", None)))
    assert v.unplaced == 2 and len(v.violations) == 1 and "live migration of b" in v.violations[0]


# --- the lower bound ---------------------------------------------------------------------------


def test_lower_bound_per_resource_class_largest_first():
    # RAM: 3 x 12 GiB = 36 GiB; hosts of 16, 16, 32 GiB: the 32 GiB host and one 16 GiB -> 2
    m = cloud([("a", "h0", 1, 12288), ("b", "h1", 1, 12288), ("c", "h2", 1, 12288)])
    m["nodes"]["memory_mb_total"] = [16384, 16384, 32768]
    lb = oracle.lower_bound(m)
    assert lb["bound"] == 2 and lb["zones"]["nova"]["per_resource"]["memory_mb"] == 2
    assert lb["zones"]["nova"]["per_resource"]["vcpu"] == 1


def test_lower_bound_forced_hosts_and_hosts_that_cannot_receive():
    # a is locked: h0 stays in use; b and c fit on h0 with a -> bound 1
    m = cloud([("a", "h0", 1, 1024, {"locked": True}), ("b", "h1", 1, 1024), ("c", "h2", 1, 1024)])
    assert oracle.lower_bound(m)["bound"] == 1
    assert oracle.lower_bound(m)["zones"]["nova"]["forced"] == 1
    # h0 disabled: it can only shrink; its 1 GiB is no room for b and c (2 GiB): one more host
    m = cloud(
        [("a", "h0", 1, 1024, {"locked": True}), ("b", "h1", 1, 8192), ("c", "h2", 1, 8192)],
        status=["disabled", "enabled", "enabled"],
    )
    assert oracle.lower_bound(m)["bound"] == 2
    # SHUTOFF servers move (cold); ACTIVE cold-only ones do only with allow_cold_active
    m = cloud([("a", "h0", 1, 1024, {"pinned": True, "migratable": "cold"}), ("b", "h1", 1, 1024)])
    assert oracle.lower_bound(m)["bound"] == 1 and oracle.lower_bound(m)["zones"]["nova"]["forced"] == 1
    assert oracle.lower_bound(m, {"allow_cold_active": True})["zones"]["nova"]["forced"] == 0


def test_lower_bound_sums_azs_unless_cross_az():
    m = cloud([("a", "h0", 1, 1024), ("b", "h1", 1, 1024), ("c", "h2", 1, 1024)], az=["x", "y", "x"])
    assert oracle.lower_bound(m)["bound"] == 2
    assert oracle.lower_bound(m, {"allow_cross_az": True})["bound"] == 1


def test_lower_bound_holds_on_every_valid_plan_of_a_small_cloud():
    # brute force over every final placement (each server moved at most once, in some order):
    # 3 x 5 + 1 vCPU = 16 fits two 8-vCPU hosts by volume, but no two 5s share a host
    import itertools

    servers = [("a", "h0", 5, 1024), ("b", "h1", 5, 1024), ("c", "h2", 5, 1024), ("d", "h3", 1, 1024)]
    m = cloud(servers, hosts=4)
    bound = oracle.lower_bound(m)["bound"]
    best = 4
    for dest in itertools.product(range(4), repeat=4):
        moves = [mig(u, h, "h%d" % d) for (u, h, *_unused), d in zip(servers, dest) if h != "h%d" % d]
        for order in itertools.permutations(moves):
            v = oracle.check(m, plan(*order))
            if not v.violations:
                best = min(best, v.hosts_in_use_after)
                break
    assert bound == 2 and best == 3  # valid, and not always reachable: the gap is not all vigil's


# --- the generator -----------------------------------------------------------------------------


def test_random_fit_is_reproducible_valid_and_uncapped():
    m = random_fit(5, hosts=60)
    again = random_fit(5, hosts=60)
    assert m["instances"].equals(again["instances"]) and m["nodes"].equals(again["nodes"])
    assert not m["instances"].equals(random_fit(6, hosts=60)["instances"])
    assert oracle.model_violations(m) == []
    n = m["nodes"]
    assert len(m["instances"]) + m["meta"]["dropped"] == 60 * 20
    assert sorted(set(n["az"])) == ["az0", "az1", "az2"]
    ram_fill = n["memory_mb_used"] / (n["memory_mb_total"] - n["memory_mb_reserved"])
    assert ram_fill.max() > 0.9  # no half-capacity cap: random fit fills some hosts up
    disabled = n[n["status"] == "disabled"]
    assert len(disabled) == 2 and (disabled["instance_count"] > 0).all()  # 3 % of 60, still holding servers
    assert set(n["vcpu_total"]) <= {32, 48, 64} and (n["vcpu_allocation_ratio"] == 4.0).all()
    assert (n["memory_mb_reserved"] == 8192).all()


def test_random_fit_options():
    m = random_fit(3, hosts=80, groups=0.1, traits=0.25, pinned=0.02, locked=0.01, shutoff=0.05)
    assert oracle.model_violations(m) == []
    inst, sg = m["instances"], m["server_groups"]
    assert 0.005 < inst["pinned"].mean() < 0.04 and inst["locked"].any() and (inst["status"] == "SHUTOFF").any()
    assert set(sg["policy"]) == {"affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity"}
    assert sum(len(x) for x in sg["members"]) >= 0.1 * len(inst)
    need = inst[inst["required_traits"].map(len) > 0]
    assert len(need) and set(need["host"]) <= set(m["nodes"][m["nodes"]["traits"].map(len) > 0]["hostname"])
    assert oracle.lower_bound(m)["zones"]["az0"]["forced"] > 0


def test_random_fit_load():
    m = add_load(random_fit(2, hosts=40), 2)
    met = m["metrics"]
    cpu = met[met["metric"] == "cpu_util_pct"]["value"]
    ram = met[met["metric"] == "ram_used_mb"].set_index("resource_id")["value"]
    assert len(cpu) == len(ram) == len(m["instances"])
    assert 0 <= cpu.min() and cpu.max() <= 100 and 12 < cpu.mean() < 26
    flavor = m["instances"].set_index("uuid")["memory_mb"]
    assert ((ram / flavor[ram.index]).between(0.5, 0.95)).all()
    assert add_load(random_fit(2, hosts=40), 2)["metrics"].equals(met)


@pytest.mark.parametrize("name", ["oracle.py", "randomfit.py"])
def test_referees_import_no_strategy_code(name):
    tree = ast.parse((HERE / name).read_text())
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    imported += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [m for m in imported if "strategies" in m or "strategy_support" in m or m in ("plancheck", "planner")], (
        imported
    )
    if name == "oracle.py":
        assert not [m for m in imported if "vigil" in m or m in ("numpy", "pandas")], imported
