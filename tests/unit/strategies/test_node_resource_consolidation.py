# -*- coding: utf-8 -*-
"""node_resource_consolidation: known optimum, lower bound, plan shape."""

import oracle
import pytest
import randomfit
from modelgen import instances_frame, nodes_frame, random_model, with_usage
from plancheck import plan_violations

from ansible_collections.vigil.openstack.plugins.module_utils import planner
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry


def cluster(placements, hosts=4, vcpus=16, ram=32768):
    names = ["h%d" % k for k in range(hosts)]
    nodes = nodes_frame(names, [vcpus] * hosts, [ram] * hosts, [1000] * hosts, ratio=(1.0, 1.0, 1.0))
    rows = [dict(uuid="s%d" % k, host=h, vcpus=v, memory_mb=r, disk_gb=10) for k, (h, v, r) in enumerate(placements)]
    inst = instances_frame(rows)
    return {"nodes": with_usage(nodes, inst), "instances": inst}


def test_known_optimum_two_per_host():
    # 8 servers of 4 vCPU / 8 GiB, two per 16 vCPU / 32 GiB host: 2 hosts suffice, 4 moves
    m = cluster([("h%d" % (k // 2), 4, 8192) for k in range(8)])
    p = registry.run(m, "server_consolidation", "node_resource_consolidation")
    e = p["efficacy"]
    assert e["lower_bound_hosts"] == 2
    assert e["hosts_in_use_after"] == 2 and e["optimality_gap"] == 0.0
    assert e["released_compute_nodes_count"] == 2 and e["instance_migrations_count"] == 4
    assert e["memory_moved_gb"] == 32.0
    assert plan_violations(m, p) == []
    disables = [a for a in p["actions"] if a["type"] == "compute_service"]
    assert len(disables) == 2 and all(a["input"]["state"] == "disabled" and len(a["parents"]) == 2 for a in disables)


def test_memory_bound_dominates():
    # vCPU is plentiful, RAM decides: 6 x 12 GiB on 32 GiB hosts -> ceil(72/32) = 3 hosts
    m = cluster([("h%d" % (k % 6), 1, 12288) for k in range(6)], hosts=6)
    p = registry.run(m, "server_consolidation")
    assert p["efficacy"]["lower_bound_hosts"] == 3
    assert p["efficacy"]["hosts_in_use_after"] == 3
    assert plan_violations(m, p) == []


def test_nothing_to_do_when_packed():
    m = cluster([("h0", 16, 32768), ("h1", 16, 32768)], hosts=2)
    p = registry.run(m, "server_consolidation")
    assert [a for a in p["actions"] if a["type"] == "migrate"] == []
    assert p["efficacy"]["optimality_gap"] == 0.0


def test_empty_hosts_are_disabled_and_unmovable_stay():
    m = cluster([("h0", 2, 1024), ("h1", 2, 1024)], hosts=3)
    m["instances"].loc[1, "locked"] = True
    p = registry.run(m, "server_consolidation")
    moves = [(a["resource"], a["input"]["destination_node"]) for a in p["actions"] if a["type"] == "migrate"]
    assert moves == [("s0", "h1")]
    assert sorted(a["resource"] for a in p["actions"] if a["type"] == "compute_service") == ["h0", "h2"]
    assert any(w["resource"] == "s1" and "locked" in w["message"] for w in p["warnings"])


def test_host_choice_auto_disables_first():
    m = cluster([("h%d" % (k // 2), 4, 8192) for k in range(8)])
    p = registry.run(m, "server_consolidation", params={"host_choice": "auto"})
    migs = [a for a in p["actions"] if a["type"] == "migrate"]
    dis = {a["resource"]: a["id"] for a in p["actions"] if a["type"] == "compute_service"}
    assert all(a["input"]["destination_node"] is None for a in migs)
    assert all(dis[a["input"]["source_node"]] in a["parents"] for a in migs)


def test_generated_cluster_quality_and_waves():
    for seed in range(3):
        m = random_model(seed, hosts=60, instances=600, fill=0.45, odd_states=False)
        p = registry.run(m, "server_consolidation")
        e = p["efficacy"]
        assert e["hosts_in_use_after"] <= e["lower_bound_hosts"] * 1.05 + 1, e
        v = oracle.check(m, p)  # the independent referee, then the wave schedules
        assert v.violations == [] and v.hosts_in_use_after == e["hosts_in_use_after"]
        assert plan_violations(m, p, referee=False) == []
        waves = planner.plan_waves(p, {"per_type": {"migrate": 5}, "per_host": 1})
        assert sorted(x for w in waves for x in w) == sorted(a["id"] for a in p["actions"])
        assert all(
            sum(1 for x in w if x in {a["id"] for a in p["actions"] if a["type"] == "migrate"}) <= 5 for w in waves
        )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_fit_clouds_reach_the_referees_bound(seed):
    """Clouds filled at random (not by vigil's generator), judged by the independent oracle and
    its own lower bound: at most 5 % + 1 host above it, no rule broken, every migration needed."""
    m = randomfit.random_fit(seed=seed, hosts=150, per_host=20, azs=3)
    p = registry.run(m, "server_consolidation", "node_resource_consolidation")
    bound = oracle.lower_bound(m, p["parameters"])["bound"]
    v = oracle.check(m, p)
    assert v.violations == [], v.violations[:5]
    assert v.hosts_in_use_after <= bound * 1.05 + 1, (v.hosts_in_use_after, bound)
    # No server moves twice, and a server moves only off a host that ends up empty.
    assert v.migrations == len({a["resource"] for a in p["actions"] if a["type"] == "migrate"})
    sources = {a["input"]["source_node"] for a in p["actions"] if a["type"] == "migrate"}
    assert not sources & set(v.placement.values())


def test_exact_mode_small_clusters():
    import pytest

    pytest.importorskip("scipy")
    for seed in range(3):
        m = random_model(seed, hosts=12, instances=90, groups=3, fill=0.45)
        h = registry.run(m, "server_consolidation")["efficacy"]
        p = registry.run(m, "server_consolidation", params={"exact": True, "exact_time_limit": 30})
        e = p["efficacy"]
        assert e["exact_optimal"] is True
        assert e["lower_bound_hosts"] <= e["hosts_in_use_after"] <= h["hosts_in_use_after"]
        assert e["exact_solution_bound"] == e["hosts_in_use_after"]
        assert plan_violations(m, p) == []
    p = registry.run(m, "server_consolidation", params={"exact": True, "exact_max_hosts": 5})
    assert any("limited to 5 hosts" in w["message"] for w in p["warnings"])


@pytest.mark.parametrize("time_limit", [0.01, 5.0])
def test_exact_mode_is_never_worse_than_the_heuristic(time_limit):
    """A solve cut short returns the solver's incumbent (or none): the heuristic's plan is kept
    unless the solver's is better, and a plan that meets the lower bound is called optimal."""
    pytest.importorskip("scipy")
    for seed in (1, 2):
        m = randomfit.random_fit(seed=seed, hosts=16, per_host=8, azs=1)
        heuristic = registry.run(m, "server_consolidation", "node_resource_consolidation")["efficacy"]
        plan = registry.run(
            m,
            "server_consolidation",
            "node_resource_consolidation",
            {"exact": True, "exact_time_limit": time_limit},
        )
        e = plan["efficacy"]
        assert e["hosts_in_use_after"] <= heuristic["hosts_in_use_after"], (e, heuristic)
        assert oracle.check(m, plan).violations == []
        if e["hosts_in_use_after"] == e["lower_bound_hosts"]:
            assert e["exact_optimal"] is True


def test_max_migrations_releases_the_most_hosts_for_the_budget_monotonically():
    """A budget keeps the cheapest hosts' moves of the full plan: never over budget, never
    fewer hosts for a larger budget, valid by the oracle, and the curve reported in the full
    plan's efficacy is what those budgets buy."""
    m = randomfit.random_fit(seed=4, hosts=90, per_host=20, azs=2)
    full = registry.run(m, "server_consolidation", "node_resource_consolidation")["efficacy"]
    assert full["migrations_to_release_25_pct"] < full["migrations_to_release_50_pct"]
    assert full["migrations_to_release_50_pct"] < full["migrations_to_release_75_pct"]
    assert full["migrations_to_release_75_pct"] <= full["instance_migrations_count"]
    released = []
    for budget in (1, 40, 150, full["migrations_to_release_50_pct"], 600, full["instance_migrations_count"]):
        p = registry.run(m, "server_consolidation", "node_resource_consolidation", {"max_migrations": budget})
        e = p["efficacy"]
        assert e["instance_migrations_count"] <= budget
        assert oracle.check(m, p).violations == []
        released.append(e["hosts_in_use_before"] - e["hosts_in_use_after"])
    assert released == sorted(released) and released[-1] > released[0]
